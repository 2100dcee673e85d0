#!/usr/bin/env bash
# Installs what is missing, builds (Release, warnings as errors) and runs every test, the lab
# included (lab tests need root and skip loudly without it).
# Usage: scripts/test.sh [--asan|--tsan] [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=release
case "${1:-}" in
  --asan) preset=asan; shift ;;
  --tsan) preset=tsan; shift ;;
esac

scripts/setup.sh all
scripts/build.sh "$preset" -DGWPROBE_WERROR=ON

# ctest prints its summary line ("100% tests passed, 0 tests failed out of N") last.
ctest --preset "$preset" -j "${GWPROBE_TEST_JOBS:-2}" "$@"
