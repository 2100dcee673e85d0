#!/usr/bin/env bash
# The main job, end to end on loopback: installs what is missing, builds (Release), starts the
# bundled relay and a gateway agent serving a generated sample SQLite database (with a demo CA
# made on the fly), runs `gwprobe check --profile local` (DNS, TCP, TLS, the WebSocket upgrade
# and an end-to-end query through the relay), prints the report and stops everything it started.
#
# Environment: GWPROBE_LOCAL_DIR (default /tmp/gwprobe-local: demo CA, keys, database, logs),
# GWPROBE_BIN (use this gwprobe binary: no set-up, no build), GWPROBE_DEMO_KEEP=1 (leave the relay
# and gateway running and print how to stop them). Extra arguments go to `gwprobe check`
# (e.g. --format markdown). Exit code: the check's (0 ready, 1 not ready, 2 usage, 3 internal).
set -euo pipefail
cd "$(dirname "$0")/.."

export GWPROBE_LOCAL_DIR="${GWPROBE_LOCAL_DIR:-/tmp/gwprobe-local}"
dir="$GWPROBE_LOCAL_DIR"
port=9443   # the local profile's relay port
relay_url="wss://localhost:$port/\$hc/gwprobe-demo"

if [ -n "${GWPROBE_BIN:-}" ]; then
  bin="$GWPROBE_BIN"
else
  scripts/setup.sh build >&2
  scripts/build.sh release >&2
  bin="$PWD/build/release/cli/gwprobe"
fi
[ -x "$bin" ] || { echo "demo: no gwprobe binary at $bin" >&2; exit 3; }

say() { printf 'demo: %s\n' "$*" >&2; }
pids=()
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
if [ "${GWPROBE_DEMO_KEEP:-0}" != 1 ]; then trap stop_all EXIT; fi
trap 'exit 130' INT TERM

# Someone else on the port would answer in the relay's place: say so rather than test it.
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  say "127.0.0.1:$port is already in use (an earlier demo with GWPROBE_DEMO_KEEP=1?); stop it first"
  exit 2
fi

mkdir -p "$dir"
chmod 700 "$dir"
say "demo CA, relay certificate and SAS keys in $dir"
"$bin" relay init "$dir" --force >/dev/null
say "sample database $dir/sample.db"
"$bin" gateway sample-db --out "$dir/sample.db" >/dev/null

wait_for() {  # wait_for LOG PATTERN WHAT PID
  local i
  for i in $(seq 1 100); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || { say "$3 exited: $(tail -n 3 "$1")"; exit 3; }
    sleep 0.1
  done
  say "$3 did not start within 10 s: see $1"
  exit 3
}

"$bin" relay --dir "$dir" --listen "127.0.0.1:$port" 2>"$dir/relay.log" &
pids+=($!)
wait_for "$dir/relay.log" relay_listening "the relay" "${pids[-1]}"
say "relay on 127.0.0.1:$port (pid ${pids[-1]}, log $dir/relay.log)"

"$bin" gateway run --relay "$relay_url" --key-name gateway --key-file "$dir/gateway.key" \
  --ca-file "$dir/ca.pem" --datasource-sqlite "$dir/sample.db" 2>"$dir/gateway.log" &
pids+=($!)
wait_for "$dir/gateway.log" gateway_connected "the gateway agent" "${pids[-1]}"
# And the relay's own word that it registered the gateway (logged as it answers the 101).
wait_for "$dir/relay.log" listener_online "the relay" "${pids[0]}"
say "gateway agent listening on $relay_url (pid ${pids[-1]}, log $dir/gateway.log)"
echo >&2

set +e
"$bin" check --profile local "$@"
rc=$?
set -e

if [ "${GWPROBE_DEMO_KEEP:-0}" = 1 ]; then
  say "left running: relay and gateway (stop with: kill ${pids[*]})"
fi
exit "$rc"
