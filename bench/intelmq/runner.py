#!/usr/bin/env python3
"""Run one IntelMQ pipeline over the benchmark reports and measure it (called by run.sh).

    runner.py --venv V --root R --pipeline mail|feed --input PATH --expect N
              --ipasn FILE --mmdb FILE [--redis-db 12] [--timeout 1800]

Pipeline: file collector -> parser -> asn_lookup -> maxmind_geoip -> file output, one
process per bot, queues in Redis (127.0.0.1:6379, database --redis-db for the queues and
the next one for IntelMQ's statistics). ``mail`` reads the report files themselves and
parses them with bench/intelmq/arf_parser.py; ``feed`` reads the generator's CSV feed
with IntelMQ's generic CSV parser (stock bots only).

The bots are started exactly as ``intelmqctl start`` starts them (``<module> <bot-id>``
with INTELMQ_ROOT_DIR pointing at --root), downstream bots first; the clock starts at
the collector's first "Processing file" log line and stops at the output file's last
write, once the output holds --expect events. CPU is the user+system time of the bot
processes (the collector's start-up included) plus the Redis server's (from INFO cpu).
Every process started here is stopped here, by its pid, also on error or Ctrl-C.
"""

import argparse
import csv
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLK = os.sysconf("SC_CLK_TCK")


class Redis:
    """Just enough RESP to ask a few questions (no third-party client outside the venv)."""

    def __init__(self, host="127.0.0.1", port=6379):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.buf = b""

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self._read()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError("redis: " + rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(65536)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RuntimeError("redis: unexpected reply %r" % line)

    def cpu_seconds(self):
        info = dict(line.split(":", 1) for line in self.cmd("INFO", "cpu").splitlines() if ":" in line)
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def proc_cpu(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK
    except (OSError, IndexError, ValueError):
        return None


def bot(module, params, group):
    return {"bot_id": None, "enabled": True, "group": group, "module": module, "name": module,
            "run_mode": "continuous", "parameters": params}


def configure(args, root: Path, out_file: Path):
    db = args.redis_db
    q = {name: f"bench-{name}-queue" for name in ("parser", "asn", "geo", "output")}
    if args.pipeline == "mail":
        collector_params = {"path": str(args.input), "postfix": "", "delete_file": False,
                            "rate_limit": 86400, "name": "abuse reports", "provider": "bench"}
        parser = bot("arf_parser", {"copy_collector_provided_fields": ["extra.file_name"]}, "Parser")
    else:
        collector_params = {"path": str(args.input.parent), "postfix": args.input.name, "delete_file": False,
                            "rate_limit": 86400, "name": "abuse report feed", "provider": "bench"}
        parser = bot("intelmq.bots.parsers.generic.parser_csv", {
            "columns": ["extra.file_name", "extra.report_format", "time.source", "source.ip",
                        "extra.reporter", "classification.identifier", "extra.reported_domain"],
            "skip_header": True, "type": "spam", "delimiter": ",",
            "columns_required": [True, False, False, True, False, False, False],
        }, "Parser")
    collector_params["destination_queues"] = {"_default": [q["parser"]]}
    parser["parameters"]["destination_queues"] = {"_default": [q["asn"]]}
    bots = {
        "bench-collector": bot("intelmq.bots.collectors.file.collector_file", collector_params, "Collector"),
        "bench-parser": parser,
        "bench-asn": bot("intelmq.bots.experts.asn_lookup.expert", {
            "database": str(args.ipasn), "autoupdate_cached_database": False,
            "destination_queues": {"_default": [q["geo"]]}}, "Expert"),
        "bench-geo": bot("intelmq.bots.experts.maxmind_geoip.expert", {
            "database": str(args.mmdb), "use_registered": True, "autoupdate_cached_database": False,
            "destination_queues": {"_default": [q["output"]]}}, "Expert"),
        "bench-output": bot("intelmq.bots.outputs.file.output", {"file": str(out_file)}, "Output"),
    }
    for bot_id, b in bots.items():
        b["bot_id"] = bot_id
    runtime = {
        "global": {
            "source_pipeline_host": "127.0.0.1", "source_pipeline_port": 6379, "source_pipeline_db": db,
            "destination_pipeline_host": "127.0.0.1", "destination_pipeline_port": 6379,
            "destination_pipeline_db": db, "statistics_host": "127.0.0.1", "statistics_port": 6379,
            "statistics_database": db + 1, "logging_level": args.log_level,
            "logging_path": str(root / "var" / "log") + "/", "error_procedure": "pass",
            "error_dump_message": True, "process_manager": "intelmq", "http_proxy": None,
            "https_proxy": None,
        },
        **bots,
    }
    # the collector logs at INFO: its first "Processing file" line starts the clock
    bots["bench-collector"]["parameters"]["logging_level"] = "INFO"
    etc = root / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "runtime.yaml").write_text(json.dumps(runtime, indent=1) + "\n")  # JSON is YAML
    harmonization = next(args.venv.glob("lib/python3*/site-packages/intelmq/etc/harmonization.conf"))
    shutil.copy(harmonization, etc / "harmonization.conf")
    for d in ("var/log", "var/run", "var/lib/bots"):
        (root / d).mkdir(parents=True, exist_ok=True)
    return bots, q


def command(args, bot_id, b):
    if b["module"] == "arf_parser":
        return [str(args.venv / "bin" / "python"), str(HERE / "arf_parser.py"), bot_id]
    return [str(args.venv / "bin" / b["module"]), bot_id]


def first_processing_time(log: Path):
    if not log.exists():
        return None
    with log.open(errors="replace") as f:
        for line in f:
            if "Processing file" in line:
                # "2026-12-02 14:59:01,123 - bench-collector - INFO - Processing file ..."
                return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--venv", type=Path, required=True)
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--pipeline", choices=("mail", "feed"), required=True)
    p.add_argument("--input", type=Path, required=True)
    p.add_argument("--expect", type=int, required=True)
    p.add_argument("--ipasn", type=Path, required=True)
    p.add_argument("--mmdb", type=Path, required=True)
    p.add_argument("--redis-db", type=int, default=12)
    p.add_argument("--log-level", default="WARNING")
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--results", type=Path)
    p.add_argument("--check", type=Path, help="the generator's CSV feed: compare source.ip and time.source")
    args = p.parse_args()
    args.input, args.ipasn, args.mmdb = args.input.resolve(), args.ipasn.resolve(), args.mmdb.resolve()
    args.venv = args.venv.absolute()  # not resolved: its python is a symlink into the system

    root = args.root.resolve() / args.pipeline
    if root.exists():
        shutil.rmtree(root)
    out_file = root / "var" / "lib" / "bots" / "file-output" / "events.txt"
    bots, queues = configure(args, root, out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)

    run_as = {}
    if os.geteuid() == 0:  # IntelMQ bots refuse to run as root; they run as user intelmq
        try:
            pw = pwd.getpwnam("intelmq")
        except KeyError:
            sys.exit("runner.py: running as root needs a user 'intelmq' (run.sh creates it)")
        run_as = {"user": pw.pw_uid, "group": pw.pw_gid}
        for dirpath, dirnames, filenames in os.walk(root):
            os.chown(dirpath, pw.pw_uid, pw.pw_gid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), pw.pw_uid, pw.pw_gid)

    redis = Redis()
    db = args.redis_db
    for d in (db, db + 1):
        redis.cmd("SELECT", d)
        keys = redis.cmd("KEYS", "*")
        foreign = [k for k in keys if not k.startswith("bench-")]
        if foreign:
            sys.exit(f"runner.py: Redis database {d} holds keys that are not ours ({foreign[:3]}...); "
                     "pick another with INTELMQ_BENCH_REDIS_DB")
        for k in keys:  # ours, left by an interrupted run
            redis.cmd("DEL", k)
    redis.cmd("SELECT", db)

    env = dict(os.environ, INTELMQ_ROOT_DIR=str(root) + "/")
    procs = {}

    def start(bot_id):
        log = open(root / "var" / "log" / f"{bot_id}.stderr", "wb")
        procs[bot_id] = subprocess.Popen(command(args, bot_id, bots[bot_id]), env=env, cwd=root,
                                         stdout=log, stderr=subprocess.STDOUT, **run_as)

    def stop_all():
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.time() + 10
        for proc in procs.values():
            try:
                proc.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    result = {"pipeline": args.pipeline, "expected": args.expect}
    try:
        downstream = ["bench-output", "bench-geo", "bench-asn", "bench-parser"]
        for bot_id in downstream:
            start(bot_id)
        # ready = each downstream bot is blocked on its source queue in Redis
        deadline = time.time() + 120
        while True:
            for bot_id, proc in procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{bot_id} exited with {proc.returncode} during start-up; see "
                                       f"{root}/var/log/{bot_id}.log and .stderr")
            clients = redis.cmd("CLIENT", "LIST")
            waiting = sum(1 for line in clients.splitlines()
                          if f" db={db} " in line and any(c in line for c in ("cmd=brpoplpush", "cmd=blmove")))
            if waiting >= len(downstream):
                break
            if time.time() > deadline:
                raise RuntimeError(f"bots not ready after 120 s ({waiting} of {len(downstream)} waiting)")
            time.sleep(0.2)
        cpu0 = {b: proc_cpu(procs[b].pid) for b in downstream}
        redis_cpu0 = redis.cpu_seconds()
        load0 = os.getloadavg()
        launched = time.time()
        start("bench-collector")

        seen, offset = 0, 0
        deadline = time.time() + args.timeout
        while seen < args.expect:
            if time.time() > deadline:
                raise RuntimeError(f"timeout: {seen} of {args.expect} events after {args.timeout} s")
            for bot_id, proc in procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{bot_id} exited with {proc.returncode}; see {root}/var/log/")
            if out_file.exists():
                with out_file.open("rb") as f:
                    f.seek(offset)
                    chunk = f.read()
                offset += len(chunk)
                seen += chunk.count(b"\n")
            time.sleep(0.02)
        cpu1 = {b: proc_cpu(p.pid) for b, p in procs.items()}
        redis_cpu1 = redis.cpu_seconds()
        end = out_file.stat().st_mtime
        first = first_processing_time(root / "var" / "log" / "bench-collector.log") or launched
        elapsed = end - first
        per_bot = {b: round(cpu1[b] - cpu0.get(b, 0.0), 2) for b in procs if cpu1.get(b) is not None}
        bots_cpu = sum(per_bot.values())
        redis_cpu = redis_cpu1 - redis_cpu0
        result.update({
            "events": seen, "seconds": round(elapsed, 3), "reports_per_second": round(args.expect / elapsed, 1),
            "collector_startup_seconds": round(first - launched, 3),
            "cpu_seconds_bots": round(bots_cpu, 2), "cpu_seconds_redis": round(redis_cpu, 2),
            "cpu_per_bot": per_bot,
            "reports_per_cpu_second": round(args.expect / (bots_cpu + redis_cpu), 1),
            "loadavg_before": [round(x, 2) for x in load0],
        })
    finally:
        stop_all()
        for d in (db, db + 1):
            redis.cmd("SELECT", d)
            for k in redis.cmd("KEYS", "bench-*") or []:
                redis.cmd("DEL", k)
    # correctness: every report once, with the source address the generator wrote
    events = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines() if line]
    names = [e.get("extra.file_name") for e in events]
    result["distinct_reports"] = len(set(names))
    result["with_asn"] = sum(1 for e in events if "source.asn" in e)
    result["with_country"] = sum(1 for e in events if "source.geolocation.cc" in e)
    result["with_time_source"] = sum(1 for e in events if "time.source" in e)
    result["output"] = str(out_file)
    result["intelmq_version"] = subprocess.run(
        [str(args.venv / "bin" / "python"), "-c", "import intelmq; print(intelmq.__version__)"],
        capture_output=True, text=True).stdout.strip()
    if args.check:
        with args.check.open(newline="", encoding="utf-8") as f:
            truth = {r["report"]: r for r in csv.DictReader(f)}
        result["wrong_source_ip"] = sum(1 for e in events if truth.get(e.get("extra.file_name"), {}).get("source_ip") != e.get("source.ip"))
        result["wrong_time_source"] = sum(1 for e in events if truth.get(e.get("extra.file_name"), {}).get("time") != e.get("time.source"))
    dumps = list((root / "var" / "log").glob("*.dump"))
    result["dumped_errors"] = sum(len(json.loads(d.read_text() or "{}")) for d in dumps)
    print(json.dumps(result, indent=1))
    if args.results:
        with args.results.open("a") as f:
            f.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
