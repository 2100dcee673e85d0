#!/usr/bin/env bash
# The hyco interop test: installs Microsoft's Node SDK packages into the build tree, starts
# `gwprobe relay` on 127.0.0.1 (a fresh demo CA), runs interop.js against it with
# NODE_EXTRA_CA_CERTS, stops the relay by PID and checks its log holds no secret.
# Usage: run_interop.sh GWPROBE_BINARY WORK_DIR      Exit: 0 pass, 1 fail, 77 skipped.
set -uo pipefail
gwprobe=${1:?usage: run_interop.sh GWPROBE_BINARY WORK_DIR}
work=${2:?usage: run_interop.sh GWPROBE_BINARY WORK_DIR}
here=$(cd "$(dirname "$0")" && pwd)

"$here/install.sh" "$work/node" || exit $?

demo="$work/demo"
rm -rf "$demo"
"$gwprobe" relay init "$demo" >/dev/null || { echo "FAIL: relay init"; exit 1; }
log="$work/relay.log"
"$gwprobe" relay --dir "$demo" --listen 127.0.0.1:0 --ping-interval 1s --accept-timeout 5s 2>"$log" &
relay_pid=$!
stop_relay() {
  if kill -0 "$relay_pid" 2>/dev/null; then
    kill -TERM "$relay_pid"
    wait "$relay_pid"
  fi
}
trap stop_relay EXIT

port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*"event":"relay_listening".*"port":\([0-9]*\).*/\1/p' "$log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$relay_pid" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$port" ]; then
  echo "FAIL: the relay did not start"; cat "$log"; exit 1
fi

NODE_PATH="$work/node/node_modules" NODE_EXTRA_CA_CERTS="$demo/ca.pem" \
  timeout 120 node "$here/interop.js" --port="$port" \
  --gateway-key="$demo/gateway.key" --client-key="$demo/client.key"
status=$?

stop_relay
trap - EXIT
for secret in "$(cat "$demo/gateway.key")" "$(cat "$demo/client.key")" "SharedAccessSignature" "sig=" "sb-hc-token"; do
  if grep -qF -- "$secret" "$log"; then
    echo "FAIL: the relay log contains a secret ($( [ ${#secret} -gt 24 ] && echo a key || echo "$secret"))"
    status=1
  fi
done
echo "relay log: $(wc -l <"$log") lines, no secrets found"
exit $status
