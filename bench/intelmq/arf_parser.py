"""IntelMQ parser bot for complaint mail: ARF, X-ARF JSON and forwarded spam.

IntelMQ 3.5 ships no parser for abuse-report mail (its parsers are for feeds: CSV, JSON,
vendor formats), so the side-by-side benchmark (bench/intelmq/run.sh) brings this one.
It does the least a desk must do with a report so that the lookup experts after it have
something to work on: one event per report with

* ``source.ip`` and ``time.source``: for ARF the ``Source-IP`` and ``Arrival-Date``
  fields of the ``message/feedback-report`` part; for X-ARF v4 ``source_identifier`` and
  ``timestamp`` (v3: ``Report.SourceIp`` / ``Report.Date``); for any other mail the
  enclosed ``message/rfc822`` part (or the mail itself) is traced with a simple rule -
  the bottom-most public IPv4 address in the ``from`` clause of its Received fields, and
  the date of its top-most Received field;
* ``classification.type`` ``spam``, ``classification.identifier`` the ARF
  Feedback-Type (or X-ARF type), ``extra.report_format``, ``extra.reporter`` and
  ``raw`` (the report, as every IntelMQ parser keeps it).

A report yielding no source address is sent to the bot's error handling (IntelMQ's
``error_procedure``) like any unparsable line. This is much less than the desk's
pipeline (a full Received trust walk, URL extraction, X-ARF schema validation, case
grouping), which makes the comparison favour IntelMQ.

Run it like any IntelMQ bot: ``python arf_parser.py BOT-ID`` (its parameters come from
runtime.yaml).
"""

import base64
import email
import email.policy
import email.utils
import ipaddress
import json
import re
from datetime import timezone

from intelmq.lib.bot import ParserBot

IP_IN_FROM = re.compile(r"[\[(](\d{1,3}(?:\.\d{1,3}){3})[\])]")


def to_iso(date_value):
    if not date_value:
        return None
    try:
        d = email.utils.parsedate_to_datetime(str(date_value))
    except (TypeError, ValueError, IndexError):
        return None
    if d is None:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return d.astimezone(timezone.utc).isoformat()


def trace(msg):
    """(source ip, time) of a message by the bottom-most public IPv4 in Received."""
    ip = None
    received = msg.get_all("Received") or []
    received = [" ".join(str(v).split()) for v in received]  # unfold
    for value in received:
        from_part = value.split(" by ", 1)[0]
        for m in IP_IN_FROM.findall(from_part):
            try:
                a = ipaddress.ip_address(m)
            except ValueError:
                continue
            if a.is_global:
                ip = m
    when = None
    for value in received:
        if ";" in value:
            when = to_iso(value.rsplit(";", 1)[1].strip())
            if when:
                break
    return ip, when or to_iso(msg.get("Date"))


class AbuseMailParserBot(ParserBot):
    """Parse ARF, X-ARF (JSON) and forwarded-spam complaint reports, one event each."""

    def parse(self, report):
        raw = base64.b64decode(report.get("raw"))
        self._current_line = raw
        yield raw

    def recover_line(self, line=None):
        return line if line is not None else self._current_line

    def parse_line(self, raw, report):
        event = self.new_event(report)
        stripped = raw.lstrip()
        if stripped.startswith(b"{"):
            fmt, ip, when, ident, reporter = self.parse_xarf(stripped)
        else:
            fmt, ip, when, ident, reporter = self.parse_mail(raw)
        if not ip:
            raise ValueError("no source address found in the %s report" % fmt)
        event.add("source.ip", ip)
        if when:
            event.add("time.source", when)
        event.add("classification.type", "spam")
        if ident:
            event.add("classification.identifier", ident)
        event.add("extra.report_format", fmt)
        if reporter:
            event.add("extra.reporter", reporter)
        event.add("raw", raw)
        yield event

    @staticmethod
    def parse_xarf(data):
        doc = json.loads(data)
        if "Report" in doc:  # X-ARF v3
            r = doc.get("Report") or {}
            info = doc.get("ReporterInfo") or {}
            return ("xarf", r.get("SourceIp"), r.get("Date"), (r.get("ReportType") or "").lower() or None,
                    info.get("ReporterOrgEmail"))
        reporter = (doc.get("reporter") or {}).get("contact")
        return "xarf", doc.get("source_identifier"), doc.get("timestamp"), doc.get("type"), reporter

    @staticmethod
    def parse_mail(data):
        msg = email.message_from_bytes(data, policy=email.policy.compat32)
        reporter = email.utils.parseaddr(str(msg.get("From", "")))[1] or None
        if msg.get_content_type() == "multipart/report" and \
                (msg.get_param("report-type") or "").lower() == "feedback-report":
            for part in msg.walk():
                if part.get_content_type() == "message/feedback-report":
                    payload = part.get_payload()
                    fields = payload[0] if isinstance(payload, list) and payload else None
                    if fields is None:
                        fields = email.message_from_string(str(payload), policy=email.policy.compat32)
                    ip = (fields.get("Source-IP") or "").strip() or None
                    when = to_iso(fields.get("Arrival-Date"))
                    ident = (fields.get("Feedback-Type") or "").strip() or None
                    if ip:
                        return "arf", ip, when, ident, reporter
        enclosed = None
        for part in msg.walk():
            if part.get_content_type() == "message/rfc822":
                payload = part.get_payload()
                if isinstance(payload, list) and payload:
                    enclosed = payload[0]
                    break
        ip, when = trace(enclosed if enclosed is not None else msg)
        return ("forwarded" if enclosed is not None else "plain"), ip, when, None, reporter


BOT = AbuseMailParserBot

if __name__ == "__main__":
    BOT.run()
