#!/usr/bin/env bash
# Configures and builds one preset (release by default). Usage: scripts/build.sh [release|asan|tsan] [cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
jobs="${GWPROBE_JOBS:-$(nproc)}"
if [ ! -f "build/$preset/build.ninja" ]; then
  cmake --preset "$preset" "$@" >/dev/null
elif [ $# -gt 0 ]; then
  cmake --preset "$preset" "$@" >/dev/null
fi
cmake --build --preset "$preset" -j "$jobs"
