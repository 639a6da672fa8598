#!/usr/bin/env bash
# IntelMQ side by side (issue 4, benchmarks): IntelMQ running a comparable pipeline
#   file collector -> parser -> asn_lookup -> maxmind_geoip -> file output
# over the same generated complaint reports the desk's ingest benchmark reads.
# Not part of `cargo test` or CI: it needs PyPI's intelmq, Redis and ~2 minutes of both cores.
#
#   bench/intelmq/run.sh [--install]
#
# Environment (defaults in brackets):
#   N                      reports to generate and process [10000]
#   INTELMQ_BENCH_DIR      work directory: reports, feed, registry, IntelMQ root [/tmp/intelmq-bench]
#   INTELMQ_VENV           virtualenv holding intelmq [$INTELMQ_BENCH_DIR/venv]
#   INTELMQ_BENCH_REDIS_DB Redis database for the queues; the next one holds statistics [12]
#   PIPELINES              which runs, in order: "mail" (IntelMQ over the report files, our
#                          ARF parser bot), "feed" (IntelMQ over the CSV feed, stock CSV
#                          parser), "desk" (abusedesk serve + ingest over the report files)
#                          ["mail feed desk"]
#   ABUSEDESK              the abusedesk binary for "desk" [target/release/abusedesk]
#   CORPUS                 SpamAssassin spam-1 directory [/work/shared/corpora/spamassassin/spam-1]
#
# Redis must listen on 127.0.0.1:6379. Every bot started is stopped again by its pid when
# the run ends (also on failure or Ctrl-C); nothing is left running.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
N="${N:-10000}"
WORK="${INTELMQ_BENCH_DIR:-/tmp/intelmq-bench}"
VENV="${INTELMQ_VENV:-$WORK/venv}"
REDIS_DB="${INTELMQ_BENCH_REDIS_DB:-12}"
PIPELINES="${PIPELINES:-mail feed desk}"
ABUSEDESK="${ABUSEDESK:-$REPO/target/release/abusedesk}"
CORPUS="${CORPUS:-/work/shared/corpora/spamassassin/spam-1}"
# Versions measured (docs/benchmarks.md). A system python, not pyenv's: the bots run as
# user intelmq (IntelMQ refuses root) and that user cannot read /root/.pyenv.
SYSTEM_PYTHON="${SYSTEM_PYTHON:-/usr/bin/python3}"
PACKAGES=(intelmq==3.5.0 pyasn==1.6.2 geoip2 maxminddb-geolite2==2018.703)

install() {
    echo "installing IntelMQ into $VENV (PyPI: ${PACKAGES[*]})"
    "$SYSTEM_PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet "${PACKAGES[@]}"
}

if [[ "${1:-}" == "--install" ]]; then
    mkdir -p "$WORK"
    install
elif [[ $# -gt 0 ]]; then
    sed -n '2,20p' "$0" >&2
    exit 2
fi

needs_intelmq=no
for pipeline in $PIPELINES; do [[ "$pipeline" == desk ]] || needs_intelmq=yes; done
if [[ "$PIPELINES" == *desk* && ! -x "$ABUSEDESK" ]]; then
    echo "run.sh: no abusedesk binary at $ABUSEDESK: build it (cargo build --release -p abusedesk) or set ABUSEDESK" >&2
    exit 3
fi

if [[ $needs_intelmq == yes ]] && ! "$VENV/bin/python" -c 'import intelmq, pyasn, geoip2, _maxminddb_geolite2' 2>/dev/null; then
    cat >&2 <<EOF
run.sh: IntelMQ is not installed in $VENV (intelmq, pyasn, geoip2, maxminddb-geolite2).
Install it with
    bench/intelmq/run.sh --install
which runs
    $SYSTEM_PYTHON -m venv $VENV   (needs Debian's python3-venv and python3-dev for pyasn)
    $VENV/bin/pip install ${PACKAGES[*]}
or point INTELMQ_VENV at a virtualenv that has them.
EOF
    exit 3
fi

if [[ $needs_intelmq == yes ]] && ! "$SYSTEM_PYTHON" - <<'EOF'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", 6379), timeout=3)
    s.sendall(b"PING\r\n")
    sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
EOF
then
    echo "run.sh: no Redis answering on 127.0.0.1:6379 (start it: redis-server --daemonize yes)" >&2
    exit 3
fi

if [[ $needs_intelmq == yes && "$(id -u)" == 0 ]] && ! id intelmq >/dev/null 2>&1; then
    # IntelMQ's documented set-up: bots run as user intelmq and refuse to run as root
    echo "creating system user intelmq (IntelMQ bots refuse to run as root)"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group intelmq
fi

mkdir -p "$WORK/feed"
python3 "$REPO/bench/reports/generate.py" "$WORK/reports" -n "$N" --corpus "$CORPUS" \
    --feed "$WORK/feed/feed.csv" --registry "$WORK/registry.json"
python3 "$HERE/make_ipasn.py" "$WORK/registry.json" "$WORK/ipasn.dat"
MMDB=""
if [[ $needs_intelmq == yes ]]; then
    MMDB="$("$VENV/bin/python" -c 'import _maxminddb_geolite2 as g; print(g.geolite2_database())')"
fi

RESULTS="$WORK/results.jsonl"
: > "$RESULTS"
for pipeline in $PIPELINES; do
    case "$pipeline" in
        mail) input="$WORK/reports" ;;
        feed) input="$WORK/feed/feed.csv" ;;
        desk)
            echo "== abusedesk serve + ingest, $N reports (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
            python3 "$HERE/desk_side.py" --abusedesk "$ABUSEDESK" --reports "$WORK/reports" \
                --registry "$WORK/registry.json" --feed "$WORK/feed/feed.csv" --work "$WORK/desk" \
                --results "$RESULTS"
            continue ;;
        *) echo "run.sh: unknown pipeline $pipeline (mail, feed, desk)" >&2; exit 2 ;;
    esac
    echo "== IntelMQ, $pipeline pipeline, $N reports (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
    python3 "$HERE/runner.py" --venv "$VENV" --root "$WORK/root" --pipeline "$pipeline" \
        --input "$input" --expect "$N" --ipasn "$WORK/ipasn.dat" --mmdb "$MMDB" \
        --redis-db "$REDIS_DB" --check "$WORK/feed/feed.csv" --results "$RESULTS"
done
echo "results (one JSON object per run): $RESULTS"
python3 - "$RESULTS" <<'EOF'
import json, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
name = lambda r: "abusedesk" if r.get("side") == "abusedesk" else "IntelMQ " + r["pipeline"]
print("%-16s %10s %12s %16s" % ("run", "seconds", "reports/s", "reports/CPU-s"))
for r in runs:
    print("%-16s %10.2f %12.1f %16.1f" % (name(r), r["seconds"], r["reports_per_second"], r["reports_per_cpu_second"]))
desk = [r for r in runs if r.get("side") == "abusedesk"]
for r in runs:
    if desk and r.get("side") != "abusedesk":
        d = desk[-1]
        print("ratio abusedesk / %s: %.1fx (wall), %.1fx (per CPU-second)" % (
            name(r), d["reports_per_second"] / r["reports_per_second"],
            d["reports_per_cpu_second"] / r["reports_per_cpu_second"]))
EOF
