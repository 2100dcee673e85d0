#!/usr/bin/env bash
# Regenerates the BGP route dumps under rules/bgp/testdata/ from real daemons: a BIRD playing
# Microsoft's edge (AS 12076) announces static routes tagged with ExpressRoute communities to a
# BIRD receiver and to an FRR receiver, each in its own network namespace; the receivers' views
# are captured with `birdc show route all` and FRR's `show bgp ... json` commands.
# The announcer exports to BIRD what a route filter allowing West Europe, East US and Entra ID
# would let through (no North Europe: the Europe check over the BIRD dump finds one region
# missing); FRR also gets a North Europe route (the Europe check over the FRR dumps passes).
# Needs root, bird2 and frr (scripts/setup.sh). Traffic stays inside the namespaces it creates.
# Usage: scripts/capture-bgp-dumps.sh [OUTPUT_DIR]   (default rules/bgp/testdata)
set -euo pipefail
cd "$(dirname "$0")/.."
out_dir="$(realpath -m "${1:-rules/bgp/testdata}")"

if [ "$(id -u)" -ne 0 ]; then
  echo "capture-bgp-dumps: needs root (network namespaces)" >&2
  exit 1
fi
for tool in bird birdc /usr/lib/frr/bgpd vtysh ip; do
  command -v "$tool" >/dev/null || { echo "capture-bgp-dumps: $tool missing; run scripts/setup.sh all" >&2; exit 1; }
done

# Names unique to this script (prefix bgpfw); addresses in a range no other lab part uses.
NS_ANN=bgpfwann   # announcer: BIRD as AS 12076
NS_BRD=bgpfwbrd   # receiver: BIRD as AS 65010
NS_FRR=bgpfwfrr   # receiver: FRR as AS 65020
work="$(mktemp -d /tmp/bgpfw-capture.XXXXXX)"
pids=()

teardown() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "$NS_ANN" "$NS_BRD" "$NS_FRR"; do
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap teardown EXIT
# Idempotent: leftovers of an interrupted run go first.
for ns in "$NS_ANN" "$NS_BRD" "$NS_FRR"; do ip netns del "$ns" 2>/dev/null || true; done

for ns in "$NS_ANN" "$NS_BRD" "$NS_FRR"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done
ip link add bgpfwa0 netns "$NS_ANN" type veth peer name bgpfwb0 netns "$NS_BRD"
ip link add bgpfwa1 netns "$NS_ANN" type veth peer name bgpfwf0 netns "$NS_FRR"
ip -n "$NS_ANN" addr add 10.239.1.1/30 dev bgpfwa0
ip -n "$NS_BRD" addr add 10.239.1.2/30 dev bgpfwb0
ip -n "$NS_ANN" addr add 10.239.2.1/30 dev bgpfwa1
ip -n "$NS_FRR" addr add 10.239.2.2/30 dev bgpfwf0
ip -n "$NS_ANN" addr add 2001:db8:239:1::1/64 dev bgpfwa0 nodad
ip -n "$NS_BRD" addr add 2001:db8:239:1::2/64 dev bgpfwb0 nodad
ip -n "$NS_ANN" addr add 2001:db8:239:2::1/64 dev bgpfwa1 nodad
ip -n "$NS_FRR" addr add 2001:db8:239:2::2/64 dev bgpfwf0 nodad
# No IPv6 link-local addresses: BIRD would announce a link-local next hop beside the global one,
# and FRR without zebra (no interface data) withdraws such IPv6 routes.
ip -n "$NS_ANN" link set bgpfwa0 addrgenmode none
ip -n "$NS_ANN" link set bgpfwa1 addrgenmode none
ip -n "$NS_BRD" link set bgpfwb0 addrgenmode none
ip -n "$NS_FRR" link set bgpfwf0 addrgenmode none
ip -n "$NS_ANN" link set bgpfwa0 up
ip -n "$NS_ANN" link set bgpfwa1 up
ip -n "$NS_BRD" link set bgpfwb0 up
ip -n "$NS_FRR" link set bgpfwf0 up

# Prefixes are from 198.18.0.0/15 (benchmarking, RFC 2544) and 2001:db8::/32 (documentation):
# never routed anywhere real, and the receivers install nothing into a kernel table anyway.
cat >"$work/ann.conf" <<'CONF'
router id 10.239.1.1;
protocol device {}
protocol static microsoft_peering {
  ipv4;
  route 198.18.2.0/24 blackhole { bgp_community.add((12076,51002)); };
  route 198.18.3.0/24 blackhole { bgp_community.add((12076,51002)); };
  route 198.18.5.0/24 blackhole { bgp_community.add((12076,51003)); };
  route 198.18.4.0/25 blackhole { bgp_community.add((12076,51002)); bgp_community.add((12076,5060)); };
  route 198.18.10.0/24 blackhole { bgp_community.add((12076,51004)); };
  route 198.18.60.0/24 blackhole { bgp_community.add((12076,5060)); };
  route 198.18.61.0/24 blackhole { bgp_community.add((12076,5060)); bgp_large_community.add((12076,51003,1)); };
  route 198.18.99.0/24 blackhole;
}
protocol static microsoft_peering6 {
  ipv6;
  route 2001:db8:5102::/48 blackhole { bgp_community.add((12076,51002)); };
  route 2001:db8:5060::/48 blackhole { bgp_community.add((12076,5060)); };
}
template bgp microsoft_edge {
  local as 12076;
  ipv4 { import none; export all; };
}
template bgp microsoft_edge6 {
  local as 12076;
  ipv6 { import none; export all; };
}
protocol bgp to_bird from microsoft_edge {
  neighbor 10.239.1.2 as 65010; source address 10.239.1.1;
  ipv4 { import none; export where !((12076,51003) ~ bgp_community); };
}
protocol bgp to_frr from microsoft_edge { neighbor 10.239.2.2 as 65020; source address 10.239.2.1; }
protocol bgp to_bird6 from microsoft_edge6 {
  neighbor 2001:db8:239:1::2 as 65010; source address 2001:db8:239:1::1;
}
protocol bgp to_frr6 from microsoft_edge6 {
  neighbor 2001:db8:239:2::2 as 65020; source address 2001:db8:239:2::1;
}
CONF

cat >"$work/brd.conf" <<'CONF'
router id 10.239.1.2;
protocol device {}
protocol bgp msee {
  local as 65010;
  neighbor 10.239.1.1 as 12076;
  source address 10.239.1.2;
  ipv4 { import all; export none; };
}
protocol bgp msee6 {
  local as 65010;
  neighbor 2001:db8:239:1::1 as 12076;
  source address 2001:db8:239:1::2;
  ipv6 { import all; export none; };
}
CONF

mkdir -p "$work/frr"
cat >"$work/frr/bgpd.conf" <<'CONF'
frr defaults traditional
hostname bgpfwfrr
log stdout
!
router bgp 65020
 bgp router-id 10.239.2.2
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor 10.239.2.1 remote-as 12076
 neighbor 2001:db8:239:2::1 remote-as 12076
 address-family ipv4 unicast
  neighbor 10.239.2.1 activate
 exit-address-family
 address-family ipv6 unicast
  neighbor 2001:db8:239:2::1 activate
 exit-address-family
!
CONF

ip netns exec "$NS_ANN" bird -f -s "$work/ann.ctl" -c "$work/ann.conf" >"$work/ann.log" 2>&1 &
pids+=($!)
ip netns exec "$NS_BRD" bird -f -s "$work/brd.ctl" -c "$work/brd.conf" >"$work/brd.log" 2>&1 &
pids+=($!)
# -Z: no zebra (nothing goes into a kernel table); -S: stay root, the files are ours.
ip netns exec "$NS_FRR" /usr/lib/frr/bgpd -Z -S -f "$work/frr/bgpd.conf" \
  --vty_socket "$work/frr" -i "$work/frr/bgpd.pid" -z "$work/frr/zserv.api" \
  >"$work/frr.log" 2>&1 &
pids+=($!)

vtysh_cmd() { ip netns exec "$NS_FRR" vtysh --vty_socket "$work/frr" -c "$1"; }

# Bounded wait (at most 60 s) for all sessions to establish and every route to arrive:
# BIRD 7 IPv4 + 2 IPv6 routes; FRR 8 IPv4 and 2 IPv6 prefixes.
established=0
brd='' frr4='' frr6=''
for _ in $(seq 1 300); do
  brd=$(birdc -s "$work/brd.ctl" show route count 2>/dev/null |
        awk '/ of [0-9]+ routes/ { n += $1 } END { print n + 0 }' || true)
  frr4=$(vtysh_cmd "show bgp ipv4 unicast summary json" 2>/dev/null |
         grep -o '"pfxRcd":[0-9]*' | head -1 || true)
  frr6=$(vtysh_cmd "show bgp ipv6 unicast summary json" 2>/dev/null |
         grep -o '"pfxRcd":[0-9]*' | head -1 || true)
  if [ "$brd" = 9 ] && [ "$frr4" = '"pfxRcd":8' ] && [ "$frr6" = '"pfxRcd":2' ]; then
    established=1
    break
  fi
  sleep 0.2
done
if [ "$established" != 1 ]; then
  echo "capture-bgp-dumps: sessions did not come up in 60 s (bird: '$brd', frr: '$frr4' '$frr6')" >&2
  cat "$work"/*.log >&2
  exit 1
fi

mkdir -p "$out_dir"
birdc -s "$work/brd.ctl" show route all >"$out_dir/bird-show-route-all.txt"
# The plain table JSON carries no communities (FRR prints them only in detail output); it is
# kept to test that gwprobe says so instead of reporting "no routes".
vtysh_cmd "show bgp ipv4 unicast json" >"$out_dir/frr-show-bgp-ipv4-unicast.json"
vtysh_cmd "show bgp ipv4 unicast json detail" >"$out_dir/frr-show-bgp-ipv4-unicast-json-detail.json"
vtysh_cmd "show ip bgp json detail" >"$out_dir/frr-show-ip-bgp-json-detail.json"
vtysh_cmd "show bgp ipv6 unicast json detail" >"$out_dir/frr-show-bgp-ipv6-unicast-json-detail.json"
vtysh_cmd "show bgp ipv4 unicast 198.18.4.0/25 json" >"$out_dir/frr-show-bgp-ipv4-unicast-prefix.json"
{ bird --version 2>&1; vtysh_cmd "show version" | head -1; } >"$out_dir/capture-versions.txt"
echo "capture-bgp-dumps: wrote the route dumps to $out_dir"
