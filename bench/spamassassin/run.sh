#!/usr/bin/env bash
# abusedesk trace side by side with SpamAssassin 4 (Debian package `spamassassin`):
# the same messages, the same trusted networks; prints the agreement on the origin IP,
# every disagreement, and both speeds. Results are recorded in docs/benchmarks.md.
#
#   bench/spamassassin/run.sh [CORPUS_DIR]     (default ../shared/corpora/spamassassin)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
corpus=$(cd "${1:-$root/../shared/corpora/spamassassin}" && pwd)
command -v spamassassin >/dev/null || { echo "spamassassin is not installed (apt-get install spamassassin)"; exit 2; }
out=$(mktemp -d)
nets="10.0.0.0/8 172.16.0.0/12 192.168.0.0/16"
(cd "$root" && cargo build --release -q -p abusedesk)
cd "$corpus"
find . -name '*.eml' | sed 's|^\./||' | sort > "$out/files"
echo "messages: $(wc -l < "$out/files") under $corpus; trusted: loopback + $nets"
# shellcheck disable=SC2046
perl "$here/relays.pl" "$nets" $(cat "$out/files") > "$out/sa.tsv" 2> "$out/sa.err"
# shellcheck disable=SC2046
"$root/target/release/abusedesk" trace --format json --jobs 1 --no-trust-private \
  --trusted 10.0.0.0/8 --trusted 172.16.0.0/12 --trusted 192.168.0.0/16 $(cat "$out/files") > "$out/ours.jsonl"
python3 "$here/compare.py" "$out/sa.tsv" "$out/ours.jsonl" --show 20
n=$(wc -l < "$out/files")
sa_wall=$(awk '/^seconds/ {print $2}' "$out/sa.err")
sa_cpu=$(awk '/^seconds/ {print $4}' "$out/sa.err")
echo
echo "SpamAssassin 4 (parse + extract_message_metadata, in memory, one process): $n messages in $sa_cpu s CPU ($sa_wall s wall) = $(awk -v n="$n" -v s="$sa_cpu" 'BEGIN {printf "%.0f", n/s}') messages per CPU-second"
(cd "$root" && cargo bench -q -p abusedesk-forensics --bench trace -- "$corpus")
rm -rf "$out"
