#!/usr/bin/env python3
"""Send one message file to the desk's SMTP intake with Python's smtplib.
usage: send_smtplib.py HOST PORT FILE"""
import smtplib
import sys

host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(path, "rb").read()
with smtplib.SMTP(host, port, timeout=30) as s:
    s.ehlo("client.example.org")
    refused = s.sendmail("reporter@example.org", ["abuse@desk.example"], data)
    print("refused" if refused else "accepted")
