#!/usr/bin/env bash
# The cloud side of the lab's end-to-end scenarios, run by a scenario's cloud_command in the cloud
# namespace: the bundled relay on hc.lab.test:443 (the lab's public-like chain) and, unless told
# otherwise, a gateway agent whose data source is the lab's PostgreSQL on db.lab.test, with the
# database password sealed to the gateway's own key. Writes $LAB_DIR/cloud/ready once the
# gateway is connected (or the relay is up, without a gateway), for cloud_command_wait.
#
# Usage: e2e_cloud.sh relay+gateway | relay-only | keys-only (the relay down: keys for the profile, nothing listening)
# Needs GWPROBE (the binary under test) and the LAB_* variables lab.sh exports.
set -euo pipefail
mode=${1:-relay+gateway}
: "${GWPROBE:?GWPROBE must name the gwprobe binary}" "${LAB_DIR:?}" "${LAB_HC_IP:?}"
d="$LAB_DIR/cloud/e2e"
mkdir -p "$d"
chmod 700 "$d"

# SAS keys: Listen for the gateway, Send for the client (gwprobe check in the client namespace
# reads client.key through the scenario's profile).
umask 077
gen_key() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }
gen_key >"$d/gateway.key"
gen_key >"$d/client.key"
cat >"$d/keys.toml" <<KEYS
[[rule]]
name = "gateway"
key = "$(cat "$d/gateway.key")"
rights = ["Listen"]

[[rule]]
name = "client"
key = "$(cat "$d/client.key")"
rights = ["Send"]
KEYS
chmod 644 "$d/client.key"   # the client side reads it (same machine, another namespace)

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 0' TERM INT

wait_for() {  # wait_for LOG EVENT WHAT PID: up to 10 s for EVENT in LOG while PID lives
  local _
  for _ in $(seq 1 100); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || { echo "$3 exited:"; cat "$1"; exit 1; }
    sleep 0.1
  done
  echo "$3 did not log $2 within 10 s:"
  cat "$1"
  exit 1
}

if [ "$mode" = keys-only ]; then
  echo "$mode" >"$LAB_DIR/cloud/ready"
  exec sleep 3600
fi

"$GWPROBE" relay --listen "$LAB_HC_IP:443" --cert "$LAB_CHAIN" --key "$LAB_LEAF_KEY" \
  --keys-file "$d/keys.toml" 2>"$d/relay.log" &
pids+=($!)
wait_for "$d/relay.log" relay_listening "the relay" "${pids[0]}"

if [ "$mode" = relay+gateway ]; then
  "$GWPROBE" gateway keygen --out "$d" >/dev/null
  # The password exists in clear only in this file for the moment seal reads it.
  printf '%s' "${LAB_DB_PASSWORD:-}" >"$d/db-password"
  sealed=$("$GWPROBE" gateway seal --public-key "$d/gateway-identity.pub" --secret-file "$d/db-password")
  rm -f "$d/db-password"
  cat >"$d/datasources.toml" <<DS
[[datasource]]
name = "gwlab"
kind = "postgres"
conninfo = "host=${LAB_DB_IP:-} port=${LAB_DB_PORT:-5432} dbname=${LAB_DB_NAME:-gwlab} user=${LAB_DB_USER:-postgres}"
password_sealed = "$sealed"
DS
  "$GWPROBE" gateway run --relay "wss://hc.${LAB_ZONE:-lab.test}:443/\$hc/gwlab" \
    --key-name gateway --key-file "$d/gateway.key" --ca-file "$LAB_CA" \
    --datasources "$d/datasources.toml" --identity "$d/gateway-identity.key" 2>"$d/gateway.log" &
  pids+=($!)
  wait_for "$d/gateway.log" gateway_connected "the gateway" "${pids[1]}"
  # And the relay's own word that it registered the gateway (logged as it answers the 101).
  wait_for "$d/relay.log" listener_online "the relay" "${pids[0]}"
fi
echo "$mode" >"$LAB_DIR/cloud/ready"
wait
