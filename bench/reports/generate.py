#!/usr/bin/env python3
"""Write N realistic abuse-complaint reports into a directory, deterministically.

Benchmark input shared by the desk's ingest benchmark and the IntelMQ side-by-side
(bench/intelmq/run.sh): both sides read the very same files.

    python3 bench/reports/generate.py OUT_DIR [-n 10000] [--seed 1]
        [--corpus /work/shared/corpora/spamassassin/spam-1]
        [--feed FEED.csv] [--registry REGISTRY.json] [--ours 0.2]

Reports (file name r<6 digits>.<ext>, one report per file):

* ``arf`` (80 %): RFC 5965 ``multipart/report; report-type=feedback-report`` with a
  human-readable part, a ``message/feedback-report`` part (Feedback-Type, User-Agent,
  Version, Original-Mail-From, Original-Rcpt-To, Arrival-Date, Reporting-MTA,
  Source-IP, Reported-Domain) and a ``message/rfc822`` part holding a message of the
  SpamAssassin public corpus (its original header block, byte for byte, and its body
  cut at 2 KiB on a line boundary). ``.eml``
* ``xarf`` (10 %): X-ARF v4 JSON (``messaging``/``spam``) carrying the same kind of
  message base64-encoded as evidence. ``.json``
* ``forwarded`` (10 %): a person's complaint, ``multipart/mixed`` with a short text and
  the spam attached as ``message/rfc822`` (whole corpus message). ``.eml``

The source address of a report is the bottom-most public IPv4 address in the ``from``
part of the corpus message's Received fields (the claimed origin, the address a
complainant's tooling names); every spam-1 message has one. The report time is the
date of the top-most Received field (when the complainant's system got it), plus a
per-report offset of 0-3,600 s for ARF and X-ARF so that reports of one message differ
(a forwarded spam keeps its own Received dates: its time is that of its top-most Received
field, which the feed repeats); the outer
wrapper carries a unique Message-ID so no two reports have the same bytes.

Mail is written with LF line ends (as a Maildir or ``.eml`` file on disk holds it);
corpus bytes are kept as they are (8-bit, unlabelled charsets included).

``--feed FILE`` also writes the same reports as one CSV feed (header
``report,format,time,source_ip,reporter,feedback_type,reported_domain``; time in ISO 8601
UTC) - the input of a plain feed parser such as IntelMQ's generic CSV parser.

``--registry FILE`` writes a network registry (abusedesk's JSON registry document:
networks, contracts, assignments) declaring a share (``--ours``, default 0.2) of the
/24 networks the reports come from as our own address space, each /24 assigned to one
contract (C-<n>) since 2000-01-01. bench/intelmq/make_ipasn.py turns the same file
into a pyasn table so both sides do the same prefix lookup.

Python 3.11, standard library only. Same arguments, same bytes out.
"""

from __future__ import annotations

import argparse
import base64
import csv
import email.utils
import hashlib
import ipaddress
import json
import os
import random
import re
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

DEFAULT_CORPUS = "/work/shared/corpora/spamassassin/spam-1"
BODY_LIMIT = 2048
SHARE = (("arf", 0.80), ("xarf", 0.10), ("forwarded", 0.10))
FALLBACK_TIME = datetime(2002, 8, 1, tzinfo=timezone.utc)

REPORTERS = [
    # (organisation, reporting MTA, feedback address) - RFC 2606 names only
    ("Mailbox Provider One", "mx1.mailbox-one.example", "fbl@mailbox-one.example"),
    ("Mailbox Provider Two", "mta.mailbox-two.example", "arf@mailbox-two.example"),
    ("Webmail Three", "in.webmail-three.example", "feedback@webmail-three.example"),
    ("University Four", "mail.uni-four.example", "postmaster@uni-four.example"),
    ("Spamtrap Five", "trap.spamtrap-five.example", "reports@spamtrap-five.example"),
    ("Telco Six", "smtp.telco-six.example", "abuse-reports@telco-six.example"),
    ("Hoster Seven", "mx.hoster-seven.example", "fbl@hoster-seven.example"),
    ("Anti-Spam Eight", "sensor.antispam-eight.example", "xarf@antispam-eight.example"),
]
USER_AGENTS = ["FBL-Generator/2.1", "SomeGenerator/1.0", "ARF-Mailer/0.9", "FeedbackLoop/3"]
COMPLAINANTS = [
    ("Alice Example", "alice@home.example"),
    ("Bob Example", "bob@mail.example"),
    ("Carol Example", "carol@isp-customer.example"),
    ("Dave Example", "dave@family.example"),
]
COMPLAINT_TEXTS = [
    "Hello,\n\nI keep getting this junk from your network. Please make it stop.\n"
    "The full message is attached.\n",
    "Dear abuse team,\n\nplease find attached a spam message that came from one of your\n"
    "addresses. I never signed up for anything like this.\n\nRegards\n",
    "SPAM from your customer, see attachment. Third time this week!\n",
]


@dataclass
class CorpusMessage:
    name: str
    header: bytes  # header block as in the corpus (LF), no mbox line, ends with "\n"
    body: bytes
    envelope_from: str | None
    source_ip: str
    time: datetime
    subject: str
    from_addr: str | None
    message_id: str | None


def unfold(header: bytes) -> list[bytes]:
    return re.sub(rb"\n[ \t]+", b" ", header).split(b"\n")


def field(lines: list[bytes], name: bytes) -> bytes | None:
    prefix = name.lower() + b":"
    for line in lines:
        if line.lower().startswith(prefix):
            return line[len(prefix):].strip()
    return None


IP_IN_FROM = re.compile(rb"[\[(](\d{1,3}(?:\.\d{1,3}){3})[\])]")
ADDR = re.compile(r"^[A-Za-z0-9._%+=-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def origin_ip(lines: list[bytes]) -> str | None:
    found = None
    for line in lines:
        if not line.lower().startswith(b"received:"):
            continue
        from_part = line.split(b" by ", 1)[0]
        for m in IP_IN_FROM.findall(from_part):
            try:
                a = ipaddress.ip_address(m.decode())
            except ValueError:
                continue
            if a.is_global:
                found = str(a)  # keep the bottom-most one
    return found


def parse_date(value: bytes | None) -> datetime | None:
    if not value:
        return None
    try:
        d = email.utils.parsedate_to_datetime(value.decode("ascii", "replace").strip())
    except (TypeError, ValueError, IndexError):
        return None
    if d is None:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return d.astimezone(timezone.utc)


def received_time(lines: list[bytes]) -> datetime | None:
    for line in lines:
        if line.lower().startswith(b"received:") and b";" in line:
            d = parse_date(line.rsplit(b";", 1)[1])
            if d is not None:
                return d
    return None


def clean_addr(value: str | None) -> str | None:
    if not value:
        return None
    _, addr = email.utils.parseaddr(value)
    return addr if ADDR.match(addr) else None


def load_corpus(directory: Path) -> list[CorpusMessage]:
    out = []
    for path in sorted(directory.iterdir()):
        if not path.is_file():
            continue
        data = path.read_bytes().replace(b"\r\n", b"\n")
        envelope = None
        if data.startswith(b"From "):
            first, _, data = data.partition(b"\n")
            parts = first.split()
            if len(parts) > 1:
                envelope = clean_addr(parts[1].decode("ascii", "replace"))
        header, sep, body = data.partition(b"\n\n")
        if not sep:
            continue
        lines = unfold(header)
        ip = origin_ip(lines)
        if ip is None:
            continue
        when = received_time(lines) or parse_date(field(lines, b"date")) or FALLBACK_TIME
        subject = (field(lines, b"subject") or b"(no subject)").decode("latin-1")
        from_value = field(lines, b"from")
        mid = field(lines, b"message-id")
        out.append(
            CorpusMessage(
                name=path.name,
                header=header + b"\n",
                body=body,
                envelope_from=envelope,
                source_ip=ip,
                time=when,
                subject=subject,
                from_addr=clean_addr(from_value.decode("latin-1")) if from_value else None,
                message_id=mid.decode("latin-1") if mid else None,
            )
        )
    return out


def cut_body(body: bytes) -> bytes:
    if len(body) <= BODY_LIMIT:
        return body if body.endswith(b"\n") else body + b"\n"
    cut = body.rfind(b"\n", 0, BODY_LIMIT)
    return body[: cut + 1 if cut > 0 else BODY_LIMIT] + (b"" if cut > 0 else b"\n")


def reported_domain(msg: CorpusMessage) -> str | None:
    addr = msg.from_addr or msg.envelope_from
    return addr.rsplit("@", 1)[1].lower() if addr else None


def rfc5322(d: datetime) -> str:
    return email.utils.format_datetime(d)


def boundary(rng: random.Random) -> str:
    return "----=_Part_%016x" % rng.getrandbits(64)


def make_arf(i: int, msg: CorpusMessage, when: datetime, rng: random.Random) -> tuple[bytes, str]:
    org, mta, fbl = REPORTERS[rng.randrange(len(REPORTERS))]
    b = boundary(rng)
    rcpt = "user%d@%s" % (rng.randrange(10000), mta.split(".", 1)[1])
    sent = when + timedelta(seconds=rng.randrange(60, 7200))
    domain = reported_domain(msg)
    feedback = [
        "Feedback-Type: abuse",
        "User-Agent: %s" % USER_AGENTS[rng.randrange(len(USER_AGENTS))],
        "Version: 1",
    ]
    if msg.envelope_from:
        feedback.append("Original-Mail-From: <%s>" % msg.envelope_from)
    feedback += [
        "Original-Rcpt-To: <%s>" % rcpt,
        "Arrival-Date: %s" % rfc5322(when),
        "Reporting-MTA: dns; %s" % mta,
        "Source-IP: %s" % msg.source_ip,
    ]
    if domain:
        feedback.append("Reported-Domain: %s" % domain)
    head = "\n".join(
        [
            "From: %s <%s>" % (org, fbl),
            "To: <abuse@isp.example>",
            "Date: %s" % rfc5322(sent),
            "Subject: FW: abuse report for %s" % msg.source_ip,
            "Message-ID: <arf-%06d.%08x@%s>" % (i, rng.getrandbits(32), mta),
            "MIME-Version: 1.0",
            'Content-Type: multipart/report; report-type=feedback-report;\n\tboundary="%s"' % b,
            "",
            "This is a multi-part message in MIME format.",
            "",
            "--" + b,
            'Content-Type: text/plain; charset="US-ASCII"',
            "Content-Transfer-Encoding: 7bit",
            "",
            "This is an email abuse report for an email message received from IP",
            "%s on %s." % (msg.source_ip, rfc5322(when)),
            "For more information about this format please see RFC 5965.",
            "",
            "--" + b,
            "Content-Type: message/feedback-report",
            "",
            *feedback,
            "",
            "--" + b,
            "Content-Type: message/rfc822",
            "Content-Disposition: inline",
            "",
            "",
        ]
    ).encode("ascii")
    return head + msg.header + b"\n" + cut_body(msg.body) + ("\n--%s--\n" % b).encode("ascii"), fbl


def make_forwarded(i: int, msg: CorpusMessage, when: datetime, rng: random.Random) -> tuple[bytes, str]:
    name, addr = COMPLAINANTS[rng.randrange(len(COMPLAINANTS))]
    b = boundary(rng)
    sent = when + timedelta(seconds=rng.randrange(300, 86400))
    subject = msg.subject.encode("ascii", "replace").decode("ascii")[:120]
    head = "\n".join(
        [
            "From: %s <%s>" % (name, addr),
            "To: abuse@isp.example",
            "Date: %s" % rfc5322(sent),
            "Subject: Fwd: %s" % subject,
            "Message-ID: <fwd-%06d.%08x@%s>" % (i, rng.getrandbits(32), addr.split("@")[1]),
            "MIME-Version: 1.0",
            'Content-Type: multipart/mixed; boundary="%s"' % b,
            "",
            "--" + b,
            "Content-Type: text/plain; charset=us-ascii",
            "",
            COMPLAINT_TEXTS[rng.randrange(len(COMPLAINT_TEXTS))],
            "--" + b,
            "Content-Type: message/rfc822",
            'Content-Disposition: attachment; filename="spam.eml"',
            "",
            "",
        ]
    ).encode("ascii")
    body = msg.body if msg.body.endswith(b"\n") else msg.body + b"\n"
    return head + msg.header + b"\n" + body + ("--%s--\n" % b).encode("ascii"), addr


def make_xarf(i: int, msg: CorpusMessage, when: datetime, rng: random.Random) -> tuple[bytes, str]:
    org, mta, fbl = REPORTERS[rng.randrange(len(REPORTERS))]
    evidence = msg.header + b"\n" + cut_body(msg.body)
    domain = fbl.split("@", 1)[1]
    doc = {
        "xarf_version": "4.2.0",
        "report_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reporter": {"org": org, "contact": fbl, "domain": domain},
        "sender": {"org": org, "contact": fbl, "domain": domain},
        "source_identifier": msg.source_ip,
        "source_port": rng.randrange(1024, 65536),
        "category": "messaging",
        "type": "spam",
        "evidence_source": "spamtrap",
        "protocol": "smtp",
        "smtp_from": msg.envelope_from or msg.from_addr or "unknown@invalid.example",
        "smtp_to": "trap%d@%s" % (rng.randrange(1000), domain),
        "subject": msg.subject[:500],
        "evidence": [
            {
                "content_type": "message/rfc822",
                "description": "Spam received at a spamtrap (headers and start of body)",
                "payload": base64.b64encode(evidence).decode("ascii"),
                "hash": "sha256:" + hashlib.sha256(evidence).hexdigest(),
            }
        ],
        "tags": ["spam:commercial", "detection:spamtrap"],
    }
    if msg.message_id:
        doc["message_id"] = msg.message_id[:200]
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8"), fbl


MAKERS = {"arf": (make_arf, "eml"), "xarf": (make_xarf, "json"), "forwarded": (make_forwarded, "eml")}


def pick_format(rng: random.Random) -> str:
    x = rng.random()
    acc = 0.0
    for fmt, share in SHARE:
        acc += share
        if x < acc:
            return fmt
    return SHARE[-1][0]


def write_registry(path: Path, ips: list[str], share: float, seed: int) -> int:
    nets = sorted({ipaddress.ip_network(ip + "/24", strict=False) for ip in ips})
    rng = random.Random(seed ^ 0x5EED)
    ours = [n for n in nets if rng.random() < share]
    doc = {
        "networks": [{"prefix": str(n), "description": "bench network %d" % k} for k, n in enumerate(ours, 1)],
        "contracts": [
            {"id": "C-%d" % k, "name": "Bench customer %d" % k, "email": "noc@customer%d.example" % k}
            for k in range(1, len(ours) + 1)
        ],
        "assignments": [
            {"prefix": str(n), "contract": "C-%d" % k, "valid_from": "2000-01-01T00:00:00Z", "valid_to": None}
            for k, n in enumerate(ours, 1)
        ],
        "domains": [],
    }
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return len(ours)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out_dir", type=Path)
    p.add_argument("-n", "--count", type=int, default=10000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--corpus", type=Path, default=Path(DEFAULT_CORPUS))
    p.add_argument("--feed", type=Path, help="also write the reports as one CSV feed here")
    p.add_argument("--registry", type=Path, help="also write a network registry (JSON) here")
    p.add_argument("--ours", type=float, default=0.2, help="share of source /24s that are ours")
    args = p.parse_args(argv)

    if args.count < 1:
        p.error("--count must be at least 1")
    if not args.corpus.is_dir():
        print(f"generate.py: corpus directory {args.corpus} not found (SpamAssassin spam-1; "
              "see /work/shared/corpora/spamassassin/README.md)", file=sys.stderr)
        return 2
    corpus = load_corpus(args.corpus)
    if not corpus:
        print(f"generate.py: no usable messages in {args.corpus}", file=sys.stderr)
        return 2
    args.out_dir.mkdir(parents=True, exist_ok=True)
    stale = [f for f in os.listdir(args.out_dir) if re.fullmatch(r"r\d{6}\.(eml|json)", f)]
    for f in stale:
        os.remove(args.out_dir / f)

    rng = random.Random(args.seed)
    feed_rows = []
    counts = {fmt: 0 for fmt, _ in SHARE}
    total_bytes = 0
    for i in range(args.count):
        msg = corpus[rng.randrange(len(corpus))]
        fmt = pick_format(rng)
        when = msg.time + timedelta(seconds=rng.randrange(3600))
        make, ext = MAKERS[fmt]
        data, reporter = make(i, msg, when, rng)
        name = "r%06d.%s" % (i, ext)
        (args.out_dir / name).write_bytes(data)
        counts[fmt] += 1
        total_bytes += len(data)
        if args.feed:
            # a forwarded spam's time is that of its own top Received field
            stamp = msg.time if fmt == "forwarded" else when
            feed_rows.append((name, fmt, stamp.strftime("%Y-%m-%dT%H:%M:%S+00:00"), msg.source_ip,
                              reporter, "abuse" if fmt == "arf" else "spam", reported_domain(msg) or ""))
    if args.feed:
        args.feed.parent.mkdir(parents=True, exist_ok=True)
        with args.feed.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["report", "format", "time", "source_ip", "reporter", "feedback_type", "reported_domain"])
            w.writerows(feed_rows)
    ours = None
    if args.registry:
        ours = write_registry(args.registry, [m.source_ip for m in corpus], args.ours, args.seed)
    summary = ", ".join(f"{n} {fmt}" for fmt, n in counts.items())
    print(f"wrote {args.count} reports ({summary}; {total_bytes} bytes) to {args.out_dir}"
          + (f"; feed {args.feed}" if args.feed else "")
          + (f"; registry {args.registry} ({ours} networks ours)" if args.registry else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
