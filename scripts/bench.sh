#!/usr/bin/env bash
# Builds Release and runs every benchmark; each prints its figures and ratios (no pass/fail).
# Needs root for the benchmarks that build network namespaces (they say SKIPPED otherwise).
# Usage: scripts/bench.sh [NAME...]   (names: see BENCHES below; default all)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh all >/dev/null
scripts/build.sh release >/dev/null
BIN=build/release

# name -> command; every benchmark is bounded in count and time.
declare -A BENCHES=(
  [fanout]="/usr/bin/python3 tests/bench/fanout.py $BIN/cli/gwprobe"
  [relay]="timeout 900 $BIN/tests/bench/relay_bench"
  [gateway]="timeout 600 $BIN/tests/bench/gateway_bench"
  [watch]="/usr/bin/python3 tests/bench/watch_soak.py $BIN/cli/gwprobe"
)
ORDER=(fanout relay gateway watch)

selected=("$@")
[ ${#selected[@]} -eq 0 ] && selected=("${ORDER[@]}")
for name in "${selected[@]}"; do
  [ -n "${BENCHES[$name]:-}" ] || { echo "unknown benchmark '$name' (known: ${ORDER[*]})" >&2; exit 2; }
  echo "== $name  (machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
  ${BENCHES[$name]}
  echo
done
