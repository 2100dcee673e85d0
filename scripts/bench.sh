#!/usr/bin/env bash
# Builds Release and runs each benchmark, printing its figures (benchmarks never pass or fail on
# speed; they print ratios measured in one run). Usage: scripts/bench.sh
# Each entry: <build target> <command line relative to build/release>. Keep it a simple list.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCHES=(
  "relay_bench|tests/bench/relay_bench"
)

targets=(gwprobe)
for entry in "${BENCHES[@]}"; do targets+=("${entry%%|*}"); done
if [ ! -f build/release/build.ninja ]; then cmake --preset release >/dev/null; fi
cmake --build --preset release -j "${GWPROBE_JOBS:-2}" --target "${targets[@]}"

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (figures are noisy when the machine is busy)"
for entry in "${BENCHES[@]}"; do
  cmd="build/release/${entry#*|}"
  echo
  echo "== ${entry%%|*} =="
  timeout 900 $cmd
done
