#!/usr/bin/env python3
"""Turn an abusedesk registry (JSON document or assignments CSV) into a pyasn table.

IntelMQ's ``asn_lookup`` expert answers "which network is this address in" from a pyasn
``ipasn.dat`` file (``prefix<TAB>number`` lines, ``;`` comments), normally built from a
BGP RIB dump. This machine has no route collector data and no network, so the
side-by-side benchmark gives IntelMQ the same prefixes the desk attributes against: each
assignment's prefix with the number of its contract (``C-17`` -> 17). Both sides then do
one longest-prefix lookup per report over the same table.

    python3 bench/intelmq/make_ipasn.py REGISTRY.json OUT.dat
"""

import csv
import ipaddress
import json
import re
import sys


def assignments(path):
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        return doc["assignments"] if isinstance(doc, dict) else doc
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    rows = []
    for a in assignments(argv[1]):
        m = re.fullmatch(r"\D*(\d+)", str(a["contract"]))
        if not m:
            print(f"make_ipasn.py: contract {a['contract']!r} has no number; skipped", file=sys.stderr)
            continue
        rows.append((ipaddress.ip_network(a["prefix"], strict=False), int(m.group(1))))
    rows.sort(key=lambda r: (r[0].version, r[0]))
    with open(argv[2], "w", encoding="ascii") as f:
        f.write("; IP-ASN32-DAT file\n; built by bench/intelmq/make_ipasn.py from %s\n" % argv[1])
        for net, number in rows:
            f.write(f"{net}\t{number}\n")
    print(f"wrote {len(rows)} prefixes to {argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
