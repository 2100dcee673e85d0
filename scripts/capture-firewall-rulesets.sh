#!/usr/bin/env bash
# Regenerates the firewall exports under rules/firewall/testdata/: each *.nft ruleset is loaded
# into a real nftables and exported with `nft -j list ruleset` (*.nft.json); each *.rules file is
# loaded with iptables-restore (iptables-nft) and exported with iptables-save (*.iptables-save)
# and, because iptables-nft rules live in nf_tables too, with `nft -j` (*.iptables-nft.json).
# Everything happens in one network namespace created here (no traffic is sent).
# Needs root, nftables and iptables (scripts/setup.sh).
# Usage: scripts/capture-firewall-rulesets.sh [OUTPUT_DIR]   (default rules/firewall/testdata)
set -euo pipefail
cd "$(dirname "$0")/.."
in_dir=rules/firewall/testdata
out_dir="$(realpath -m "${1:-$in_dir}")"

if [ "$(id -u)" -ne 0 ]; then
  echo "capture-firewall-rulesets: needs root (network namespaces)" >&2
  exit 1
fi
for tool in nft iptables-restore iptables-save ip; do
  command -v "$tool" >/dev/null || { echo "capture-firewall-rulesets: $tool missing; run scripts/setup.sh all" >&2; exit 1; }
done

NS=bgpfwcap
teardown() { ip netns del "$NS" 2>/dev/null || true; }
trap teardown EXIT
teardown
ip netns add "$NS"
in_ns() { ip netns exec "$NS" "$@"; }
mkdir -p "$out_dir"

for ruleset in "$in_dir"/*.nft; do
  name="$(basename "$ruleset" .nft)"
  in_ns nft flush ruleset
  in_ns nft -f "$ruleset"
  in_ns nft -j list ruleset >"$out_dir/$name.nft.json"
done
for rules in "$in_dir"/*.rules; do
  name="$(basename "$rules" .rules)"
  in_ns nft flush ruleset
  in_ns iptables-restore <"$rules"
  in_ns iptables-save >"$out_dir/$name.iptables-save"
  in_ns nft -j list ruleset >"$out_dir/$name.iptables-nft.json"
done
{ nft --version; iptables --version; } >"$out_dir/capture-versions.txt"
echo "capture-firewall-rulesets: wrote exports to $out_dir"
