#!/usr/bin/env python3
"""Compare abusedesk's origin IP with SpamAssassin's first untrusted relay.

    compare.py SA.tsv OURS.jsonl [--show N]

SA.tsv is relays.pl's output, OURS.jsonl `abusedesk trace --format json` over the same
files. Prints the agreement and each disagreement with the two answers and the hops.
"""
import json, sys, collections

sa = {}
for line in open(sys.argv[1]):
    f, ip = line.rstrip('\n').split('\t')
    sa[f] = None if ip == '-' else ip
ours = {}
for line in open(sys.argv[2]):
    v = json.loads(line)
    ours[v['file']] = v
show = int(sys.argv[sys.argv.index('--show') + 1]) if '--show' in sys.argv else 0

agree = 0
kinds = collections.Counter()
examples = collections.defaultdict(list)
for f, sip in sa.items():
    v = ours[f]
    oip = v['origin']['ip'] if v['origin'] else None
    if oip == sip:
        agree += 1
        continue
    if sip is None:
        kind = 'sa_none'
    elif oip is None:
        kind = 'ours_none'
    else:
        kind = 'different'
    kinds[kind] += 1
    examples[kind].append((f, oip, sip, v))
n = len(sa)
print(f"messages {n}, same origin IP {agree} ({100*agree/n:.1f} %)")
for k, c in kinds.most_common():
    print(f"  {k}: {c}")
for k, ex in examples.items():
    for f, oip, sip, v in ex[:show]:
        print(f"\n[{k}] {f}: ours {oip} (hop {v['origin']['hop'] if v['origin'] else '-'}), SpamAssassin {sip}")
        for i, h in enumerate(v['hops']):
            print(f"   {i} {h['role']:8} {h['from_ip']} | {h['raw'][:150].replace(chr(10),' ').replace(chr(9),' ')}")
