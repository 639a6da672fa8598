#!/usr/bin/env bash
# rspamd 3.4 (Debian) with only its SPF, DKIM and DMARC modules, one normal worker,
# against the same loopback DNS data and sessions as `cargo bench -p abusedesk-auth`.
# Run from the workspace root: bash crates/auth/benches/rspamd/run.sh
set -euo pipefail
root=$(pwd)
work=$(mktemp -d /tmp/abusedesk-rspamd.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port=${DNS_PORT:-15353}

ABUSEDESK_BENCH_ZONE=$work/bench.zone ABUSEDESK_BENCH_SESSIONS=$work/sessions.jsonl \
  cargo bench -p abusedesk-auth --bench auth
cargo build --release -p abusedesk-auth --example zone_server
"$root/target/release/examples/zone_server" "$work/bench.zone" "127.0.0.1:$port" &
sleep 1

mkdir -p "$work/local.d" "$work/override.d" "$work/db" "$work/run" "$work/log"
for f in /etc/rspamd/modules.d/*.conf; do
  m=$(basename "$f" .conf)
  case "$m" in spf|dkim|dmarc) ;; *) echo "enabled = false;" > "$work/override.d/$m.conf" ;; esac
done
cat > "$work/override.d/options.inc" <<CONF
filters = "dkim";
dns { nameserver = ["127.0.0.1:$port"]; timeout = 2s; retransmits = 2; }
CONF
cat > "$work/override.d/worker-normal.inc" <<CONF
count = 1;
bind_socket = "127.0.0.1:21333";
CONF
cat > "$work/override.d/worker-controller.inc" <<CONF
bind_socket = "127.0.0.1:21334";
CONF
echo 'level = "error";' > "$work/override.d/logging.inc"
echo 'enabled = false;' > "$work/override.d/worker-proxy.inc"
echo 'enabled = false;' > "$work/override.d/worker-fuzzy.inc"
echo 'backend = "sqlite3"; enabled = false;' > "$work/override.d/classifier-bayes.conf"
rspamd -f -i -c /etc/rspamd/rspamd.conf \
  --var "LOCAL_CONFDIR=$work" --var "DBDIR=$work/db" --var "RUNDIR=$work/run" --var "LOGDIR=$work/log" \
  > "$work/log/stdout" 2>&1 &
main_pid=$!
for _ in $(seq 1 30); do
  curl -s http://127.0.0.1:21333/ping >/dev/null 2>&1 && break
  sleep 1
done
# only this run's workers: children of our rspamd main process
pids=$(pgrep -P "$main_pid" -f "normal" | tr '\n' ' ')
[ -n "$pids" ] || { echo "rspamd did not start:"; tail -20 "$work/log/stdout" "$work/log/"*.log 2>/dev/null; exit 1; }
python3 "$root/crates/auth/benches/rspamd/client.py" "$work/sessions.jsonl" 127.0.0.1:21333 $pids
