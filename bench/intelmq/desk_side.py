#!/usr/bin/env python3
"""The desk's side of the IntelMQ comparison: the same reports through abusedesk.

    desk_side.py --abusedesk target/release/abusedesk --reports DIR --registry REGISTRY.json
                 [--feed FEED.csv] [--work DIR] [--results FILE]

Starts ``abusedesk serve`` on a fresh SQLite data directory (HTTP on 127.0.0.1:0, SMTP
off, RDAP off: this machine has no network, and IntelMQ's side makes no network lookups
either), imports the registry through the API, then runs ``abusedesk ingest DIR`` into
the same data directory while serve runs. The clock starts when ingest starts and stops
when serve's ``abusedesk_reports_processed_total`` (processed + unparseable) reaches the
number of reports: every report stored durably, parsed, traced, attributed and put in a
case. CPU is ingest's plus serve's user+system time over that window.

With --feed, the stored results are compared with the generator's truth (source address
per report). serve is stopped (SIGTERM, by its pid) before this exits.
"""

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CLK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def http(base, path, token=None, data=None, ctype=None):
    req = urllib.request.Request(base + path, data=data)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if ctype:
        req.add_header("Content-Type", ctype)
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read().decode()


def processed(base):
    text = http(base, "/metrics")
    total = 0
    for m in re.finditer(r'^abusedesk_reports_processed_total\{result="(\w+)"\} (\S+)$', text, re.M):
        total += int(float(m.group(2)))
    return total


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--abusedesk", type=Path, required=True)
    p.add_argument("--reports", type=Path, required=True)
    p.add_argument("--registry", type=Path, required=True)
    p.add_argument("--feed", type=Path)
    p.add_argument("--work", type=Path, default=Path("/tmp/intelmq-bench/desk"))
    p.add_argument("--results", type=Path)
    p.add_argument("--timeout", type=float, default=1800)
    args = p.parse_args()
    exe = str(args.abusedesk.resolve())
    expect = sum(1 for f in os.listdir(args.reports) if re.fullmatch(r"r\d{6}\.(eml|json)", f))

    if args.work.exists():
        shutil.rmtree(args.work)
    data = args.work / "data"
    data.mkdir(parents=True)
    env = dict(os.environ, ABUSEDESK_DATA_DIR=str(data), ABUSEDESK_HTTP_LISTEN="127.0.0.1:0",
               ABUSEDESK_SMTP_ENABLED="false", ABUSEDESK_RDAP_ENABLED="false", ABUSEDESK_LOG_LEVEL="warn")
    token = subprocess.run([exe, "token", "create", "--name", "bench"], env=env, check=True,
                           capture_output=True, text=True).stdout.strip().splitlines()[-1]
    log = open(args.work / "serve.log", "w")
    serve = subprocess.Popen([exe, "serve"], env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    result = {"side": "abusedesk", "expected": expect}
    try:
        base = None
        deadline = time.time() + 60
        while base is None:
            line = serve.stdout.readline()
            if not line:
                raise RuntimeError(f"serve exited ({serve.poll()}); see {args.work}/serve.log")
            m = re.match(r"http listening on (\S+)", line)
            if m:
                base = "http://" + m.group(1)
            if time.time() > deadline:
                raise RuntimeError("serve did not print its address within 60 s")
        imported = http(base, "/api/v1/registry/import?table=all", token, args.registry.read_bytes(),
                        "application/json")
        result["registry_import"] = json.loads(imported)
        cpu0 = proc_cpu(serve.pid)
        load0 = os.getloadavg()
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.time()
        ingest = subprocess.run([exe, "ingest", str(args.reports)], env=env, capture_output=True, text=True)
        t_ingest = time.time() - t0
        if ingest.returncode != 0:
            raise RuntimeError(f"ingest failed ({ingest.returncode}): {ingest.stderr[-2000:]}")
        children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        deadline = t0 + args.timeout
        done = processed(base)
        while done < expect:
            if time.time() > deadline:
                raise RuntimeError(f"timeout: {done} of {expect} processed")
            if serve.poll() is not None:
                raise RuntimeError(f"serve exited with {serve.returncode}; see {args.work}/serve.log")
            time.sleep(0.02)
            done = processed(base)
        t1 = time.time()
        cpu_serve = proc_cpu(serve.pid) - cpu0
        cpu_ingest = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
        elapsed = t1 - t0
        result.update({
            "ingest_output": ingest.stdout.strip(),
            "events": done, "seconds": round(elapsed, 3), "reports_per_second": round(expect / elapsed, 1),
            "ingest_seconds": round(t_ingest, 3),
            "cpu_seconds_serve": round(cpu_serve, 2), "cpu_seconds_ingest": round(cpu_ingest, 2),
            "reports_per_cpu_second": round(expect / (cpu_serve + cpu_ingest), 1),
            "loadavg_before": [round(x, 2) for x in load0],
        })
        metrics = http(base, "/metrics")
        for name in ("abusedesk_reports", "abusedesk_cases_open", "abusedesk_reports_processed_total"):
            result[name] = {m.group(1) or "": float(m.group(2)) for m in
                            re.finditer(r"^%s(\{[^}]*\})? (\S+)$" % name, metrics, re.M)}
        if args.feed:
            result.update(compare(base, token, args.feed))
    finally:
        if serve.poll() is None:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(30)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.wait()
    print(json.dumps(result, indent=1))
    if args.results:
        with args.results.open("a") as f:
            f.write(json.dumps(result) + "\n")
    return 0


def compare(base, token, feed):
    import csv
    with feed.open(newline="", encoding="utf-8") as f:
        truth = {r["report"]: r for r in csv.DictReader(f)}
    seen, wrong, scopes, formats, cursor = 0, 0, {}, {}, None
    examples, wrong_by_format = [], {}
    while True:
        page = json.loads(http(base, "/api/v1/reports?limit=500" + (f"&cursor={cursor}" if cursor else ""), token))
        items = page.get("items") or page.get("reports") or []
        for r in items:
            seen += 1
            name = r.get("source_name") or ""
            name = os.path.basename(name)
            t = truth.get(name)
            if t is None or t["source_ip"] != r.get("source_ip"):
                wrong += 1
                fmt = r.get("format")
                wrong_by_format[fmt] = wrong_by_format.get(fmt, 0) + 1
                if len(examples) < 5:
                    examples.append({"report": name, "desk": r.get("source_ip"), "generator": t and t["source_ip"],
                                     "format": r.get("format")})
            scope = (r.get("attribution") or {}).get("scope")
            scopes[scope] = scopes.get(scope, 0) + 1
            formats[r.get("format")] = formats.get(r.get("format"), 0) + 1
        cursor = page.get("next_cursor") or page.get("next")
        if not cursor or not items:
            break
    return {"listed": seen, "wrong_source_ip": wrong, "wrong_by_format": wrong_by_format, "wrong_examples": examples, "scopes": scopes,
            "formats": formats}


if __name__ == "__main__":
    sys.exit(main())
