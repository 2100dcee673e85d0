#!/usr/bin/env bash
# Regenerates the diagnosis-code table in README.md from `gwprobe codes --markdown`
# (cli_test's Readme.DiagnosisCodeTableMatchesTheBinary fails when they drift apart).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build/release/cli/gwprobe}"
/usr/bin/python3 - "$bin" <<'PY'
import subprocess, sys
table = subprocess.run([sys.argv[1], "codes", "--markdown"], check=True, capture_output=True, text=True).stdout
text = open("README.md").read()
begin, end = "<!-- codes-table:begin -->\n", "<!-- codes-table:end -->"
a, b = text.index(begin) + len(begin), text.index(end)
open("README.md", "w").write(text[:a] + table + text[b:])
PY
echo "README.md: code table regenerated"
