#!/usr/bin/env bash
# clang-format check on every C++ file, and clang-tidy on the given files (or the files changed
# against main). clang-tidy reads build/release/compile_commands.json (GCC flags it does not
# know are ignored). Usage: scripts/lint.sh [FILE.cpp...]
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t all < <(git ls-files '*.cpp' '*.hpp')
bad=$(clang-format --dry-run --Werror "${all[@]}" 2>&1 | grep -c 'error:' || true)
if [ "$bad" != "0" ]; then
  clang-format --dry-run --Werror "${all[@]}" 2>&1 | grep 'error:' | cut -d: -f1 | sort -u
  echo "lint: clang-format would change the files above (run clang-format -i)" >&2
  exit 1
fi
echo "lint: clang-format clean (${#all[@]} files)"
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  mapfile -t files < <(git diff --name-only main -- '*.cpp' | grep -v '_test.cpp$' || true)
fi
[ ${#files[@]} -eq 0 ] && { echo "lint: no changed .cpp files for clang-tidy"; exit 0; }
[ -f build/release/compile_commands.json ] || scripts/build.sh release >/dev/null
clang-tidy -p build/release --quiet --extra-arg=-Wno-unknown-warning-option "${files[@]}"
