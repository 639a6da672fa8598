#!/usr/bin/env python3
"""Stream generated reports to the desk over HTTP with several keep-alive connections.

usage: stream.py HOST:PORT TOKEN FIRST COUNT THREADS ACKFILE

Report i is a small forwarded spam whose bytes depend only on i. Every acknowledged
submission (HTTP 201 or 200) is appended to ACKFILE as "i id status" and flushed before
the next one is sent. The client stops at the first connection error (the server died)
and exits 0; any other unexpected answer exits 1.
"""
import http.client
import sys
import threading


def message(i):
    ip = f"198.51.{(i // 250) % 4}.{i % 250 + 1}"
    return (
        f"From: reporter{i % 7}@example.org\r\n"
        f"To: abuse@desk.example\r\n"
        f"Subject: spam from {ip}\r\n"
        f"Message-ID: <complaint-{i}@example.org>\r\n"
        f"Date: Sun, 31 Mar 2002 12:00:00 +0000\r\n"
        f"MIME-Version: 1.0\r\n"
        f"Content-Type: multipart/mixed; boundary=b\r\n"
        f"\r\n--b\r\nContent-Type: text/plain\r\n\r\nSpam received, see attached.\r\n"
        f"--b\r\nContent-Type: message/rfc822\r\n\r\n"
        f"Received: from spammer{i} ([{ip}])\r\n\tby mx.example.org with SMTP id {i};\r\n"
        f"\tSun, 31 Mar 2002 12:07:53 +0000\r\n"
        f"From: \"\" <x{i}@example.com>\r\nTo: victim@example.org\r\nSubject: buy {i}\r\n"
        f"Date: Sun, 31 Mar 2002 12:07:50 +0000\r\n\r\nbuy now {i}\r\n--b--\r\n"
    ).encode()


def main():
    host, token, first, count, threads, ackfile = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    h, p = host.rsplit(":", 1)
    lock = threading.Lock()
    out = open(ackfile, "a", buffering=1)
    state = {"next": first, "failed": False, "bad": None}

    def take():
        with lock:
            if state["failed"] or state["next"] >= first + count:
                return None
            i = state["next"]
            state["next"] += 1
            return i

    def worker():
        conn = http.client.HTTPConnection(h, int(p), timeout=60)
        while True:
            i = take()
            if i is None:
                return
            try:
                conn.request("POST", "/api/v1/reports", body=message(i), headers={
                    "Content-Type": "message/rfc822", "Authorization": f"Bearer {token}"})
                resp = conn.getresponse()
                body = resp.read()
            except (OSError, http.client.HTTPException):
                with lock:
                    state["failed"] = True
                return
            if resp.status not in (200, 201):
                with lock:
                    state["bad"] = f"report {i}: HTTP {resp.status} {body[:200]!r}"
                    state["failed"] = True
                return
            import json
            j = json.loads(body)
            with lock:
                out.write(f"{i} {j['id']} {resp.status}\n")
                out.flush()

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if state["bad"]:
        print(state["bad"], file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
