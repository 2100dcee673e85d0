#!/usr/bin/env bash
# Installs every Debian package gwprobe needs to build, test, run the lab and render reports.
# Non-interactive and idempotent: packages already present are skipped, services are never started.
set -euo pipefail

# build toolchain and libraries
BUILD_PKGS=(
  g++ cmake ninja-build ccache pkg-config clang-format clang-tidy
  libcurl4-openssl-dev libc-ares-dev libssl-dev libpcap-dev libfmt-dev libgtest-dev libgmock-dev
  libboost-dev nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libsqlite3-dev libpq-dev
  openssl ca-certificates
)
# the network lab: namespaces, firewalls, proxies, DNS, idle cutters, database, BGP daemons
# (bird2 and frr: the route dumps under rules/bgp/testdata are captured from both)
LAB_PKGS=(
  iproute2 nftables iptables conntrack squid-openssl dnsmasq-base haproxy tinyproxy socat
  netcat-openbsd dnsutils curl tcpdump apache2-utils iputils-ping postgresql bird2 frr procps
  psmisc python3-websockets
)
# report rendering (headless browser test), the Prometheus exposition checker (promtool),
# xmllint (validates the JUnit report against its schema), and Node.js (its npm comes with the
# machine's nodejs package) for the interop test
# against Microsoft's hyco-ws / hyco-https SDKs
REPORT_PKGS=(chromium prometheus libxml2-utils nodejs)

want=("${BUILD_PKGS[@]}")
case "${1:-all}" in
  build) ;;
  all) want+=("${LAB_PKGS[@]}" "${REPORT_PKGS[@]}") ;;
  *) echo "usage: scripts/setup.sh [build|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#want[@]} packages present"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo -n -E)
fi

echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
# Keep package scripts from starting daemons (postgresql, squid, haproxy ...): the lab starts its own.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 755 "$policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then "${SUDO[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold --no-install-recommends)
"${SUDO[@]}" apt-get update -q </dev/null || true
"${SUDO[@]}" apt-get install "${apt_opts[@]}" "${missing[@]}" </dev/null
echo "setup: done"
