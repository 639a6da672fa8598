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
#   PIPELINES              which pipelines, in order: "mail" (the report files, our ARF
#                          parser bot) and/or "feed" (the CSV feed, IntelMQ's stock CSV parser) ["mail feed"]
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
PIPELINES="${PIPELINES:-mail feed}"
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

if ! "$VENV/bin/python" -c 'import intelmq, pyasn, geoip2, _maxminddb_geolite2' 2>/dev/null; then
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

if ! "$SYSTEM_PYTHON" - <<'EOF'
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

if [[ "$(id -u)" == 0 ]] && ! id intelmq >/dev/null 2>&1; then
    # IntelMQ's documented set-up: bots run as user intelmq and refuse to run as root
    echo "creating system user intelmq (IntelMQ bots refuse to run as root)"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group intelmq
fi

mkdir -p "$WORK/feed"
python3 "$REPO/bench/reports/generate.py" "$WORK/reports" -n "$N" --corpus "$CORPUS" \
    --feed "$WORK/feed/feed.csv" --registry "$WORK/registry.json"
python3 "$HERE/make_ipasn.py" "$WORK/registry.json" "$WORK/ipasn.dat"
MMDB="$("$VENV/bin/python" -c 'import _maxminddb_geolite2 as g; print(g.geolite2_database())')"

RESULTS="$WORK/results.jsonl"
: > "$RESULTS"
for pipeline in $PIPELINES; do
    case "$pipeline" in
        mail) input="$WORK/reports" ;;
        feed) input="$WORK/feed/feed.csv" ;;
        *) echo "run.sh: unknown pipeline $pipeline (mail, feed)" >&2; exit 2 ;;
    esac
    echo "== IntelMQ, $pipeline pipeline, $N reports (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
    python3 "$HERE/runner.py" --venv "$VENV" --root "$WORK/root" --pipeline "$pipeline" \
        --input "$input" --expect "$N" --ipasn "$WORK/ipasn.dat" --mmdb "$MMDB" \
        --redis-db "$REDIS_DB" --check "$WORK/feed/feed.csv" --results "$RESULTS"
done
echo "results (one JSON object per pipeline): $RESULTS"
