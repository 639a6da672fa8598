"""Submit messages with Python's smtplib to the server under test.

usage: send_smtplib.py HOST PORT MODE
  plain     one message with 8BITMIME, then one with SMTPUTF8 addresses
  starttls  STARTTLS (certificate not verified: the test makes a self-signed one), then
            one message
  size      a message over the advertised SIZE (expects SMTPSenderRefused or 552)
Prints one line per message: "sent" or "refused CODE".
"""

import smtplib
import ssl
import sys
from email.message import EmailMessage


def message(frm, to, subject, body):
    m = EmailMessage()
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    m.set_content(body)
    return m


def main():
    host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with smtplib.SMTP(host, port, local_hostname="smtplib.client.test", timeout=30) as s:
        s.ehlo()
        if mode == "starttls":
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s.starttls(context=ctx)
            s.ehlo()
            s.send_message(message("tls@client.test", "abuse@desk.test", "over tls", "secret\n"))
            print("sent")
        elif mode == "plain":
            assert s.has_extn("pipelining") and s.has_extn("8bitmime") and s.has_extn("smtputf8")
            m = message("reporter@client.test", "abuse@desk.test", "Spam report", "Spam from 192.0.2.99.\n.leading dot\n")
            s.send_message(m, mail_options=["BODY=8BITMIME"])
            print("sent")
            u = message("jörg@bücher.test", "abuse@desk.test", "Ümlaut", "Grüße\n")
            # smtplib adds SMTPUTF8 itself for non-ASCII addresses, so this sends it
            # twice, as real callers do.
            s.send_message(u, mail_options=["SMTPUTF8"])
            print("sent")
        elif mode == "size":
            limit = int(s.esmtp_features["size"])
            big = message("a@client.test", "abuse@desk.test", "big", "x" * (limit + 10) + "\n")
            try:
                s.send_message(big)
                print("sent")
            except smtplib.SMTPSenderRefused as e:
                print(f"refused {e.smtp_code}")
            except smtplib.SMTPDataError as e:
                print(f"refused {e.smtp_code}")
        s.quit()


if __name__ == "__main__":
    main()
