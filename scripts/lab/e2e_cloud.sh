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

if [ "$mode" = keys-only ]; then
  echo "$mode" >"$LAB_DIR/cloud/ready"
  exec sleep 3600
fi

"$GWPROBE" relay --listen "$LAB_HC_IP:443" --cert "$LAB_CHAIN" --key "$LAB_LEAF_KEY" \
  --keys-file "$d/keys.toml" 2>"$d/relay.log" &
pids+=($!)
for _ in $(seq 1 100); do
  grep -q relay_listening "$d/relay.log" 2>/dev/null && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "relay exited:"; cat "$d/relay.log"; exit 1; }
  sleep 0.1
done

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
  for _ in $(seq 1 100); do
    grep -q gateway_connected "$d/gateway.log" 2>/dev/null && break
    kill -0 "${pids[1]}" 2>/dev/null || { echo "gateway exited:"; cat "$d/gateway.log"; exit 1; }
    sleep 0.1
  done
  grep -q gateway_connected "$d/gateway.log" || { echo "gateway not connected:"; cat "$d/gateway.log"; exit 1; }
  # And the relay's own word that it registered the gateway (logged as it answers the 101).
  for _ in $(seq 1 50); do grep -q listener_online "$d/relay.log" && break; sleep 0.1; done
  grep -q listener_online "$d/relay.log" || { echo "the relay never registered the gateway:"; cat "$d/relay.log"; exit 1; }
fi
echo "$mode" >"$LAB_DIR/cloud/ready"
wait
