#!/usr/bin/env python3
"""Feeds the benchmark's sessions to rspamd's HTTP protocol (/checkv2) and reports
messages per second of rspamd worker CPU time (and wall clock).

usage: client.py SESSIONS.jsonl RSPAMD_HOST:PORT WORKER_PID... 
"""
import json, sys, time, http.client, concurrent.futures, os

def cpu_seconds(pids):
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / tick

def main():
    sessions = [json.loads(l) for l in open(sys.argv[1])]
    host, port = sys.argv[2].rsplit(":", 1)
    pids = [int(p) for p in sys.argv[3:]]
    bodies = [open(s["file"], "rb").read() for s in sessions]

    def check(i):
        s = sessions[i]
        c = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {"IP": s["ip"], "Helo": s["helo"] or "unknown", "Pass": "all"}
        if s.get("mail_from"):
            headers["From"] = s["mail_from"]
        c.request("POST", "/checkv2", body=bodies[i], headers=headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        return json.loads(data).get("symbols", {})

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        first = list(ex.map(check, range(len(sessions))))  # warm rspamd's DNS cache
        seen = {}
        for syms in first:
            for k in syms:
                if k.startswith(("R_SPF", "R_DKIM", "DMARC")):
                    seen[k] = seen.get(k, 0) + 1
        print("rspamd symbols (first pass):", json.dumps(dict(sorted(seen.items()))))
        rounds = 2
        c0, t0 = cpu_seconds(pids), time.time()
        for _ in range(rounds):
            list(ex.map(check, range(len(sessions))))
        c1, t1 = cpu_seconds(pids), time.time()
    n = len(sessions) * rounds
    print(f"rspamd (spf, dkim, dmarc only): {n} messages, worker CPU {c1 - c0:.2f} s, wall {t1 - t0:.2f} s")
    print(f"rspamd: {n / max(c1 - c0, 1e-9):.0f} messages per worker CPU-second; {n / (t1 - t0):.0f} messages/s wall")

main()
