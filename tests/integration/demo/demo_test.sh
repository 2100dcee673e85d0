#!/usr/bin/env bash
# scripts/demo.sh as a user runs it (with the built binary, in a scratch GWPROBE_LOCAL_DIR): the
# report says READY with dns, tcp, tls, websocket and e2e passed, the e2e check carried the whole
# sample table, exit 0, and nothing it started is left running.
# Usage: demo_test.sh GWPROBE_BINARY
set -euo pipefail
bin=$1
root="$(cd "$(dirname "$0")/../../.." && pwd)"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

if (exec 3<>/dev/tcp/127.0.0.1/9443) 2>/dev/null; then
  echo "SKIPPED: 127.0.0.1:9443 (the local profile's relay port) is in use by something else"
  exit 77
fi

set +e
GWPROBE_BIN="$bin" GWPROBE_LOCAL_DIR="$scratch/local" NO_COLOR=1 \
  timeout 120 "$root/scripts/demo.sh" >"$scratch/out" 2>"$scratch/err"
rc=$?
GWPROBE_BIN="$bin" GWPROBE_LOCAL_DIR="$scratch/json" NO_COLOR=1 \
  timeout 120 "$root/scripts/demo.sh" --format json >"$scratch/json.out" 2>"$scratch/json.err"
json_rc=$?
set -e
cat "$scratch/err" "$scratch/out"
[ "$rc" = 0 ] || fail "demo.sh exited $rc"
[ "$json_rc" = 0 ] || { cat "$scratch/json.err"; fail "demo.sh --format json exited $json_rc"; }
grep -q '^READY  5 passed' "$scratch/out" || fail "no 'READY  5 passed' line"
for kind in dns tcp tls websocket e2e; do
  grep -Eq "✓ $kind " "$scratch/out" || fail "no passed $kind check"
done
/usr/bin/python3 - "$scratch/json.out" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
e2e = [r for r in report["results"] if r["kind"] == "e2e"]
assert len(e2e) == 1, e2e
facts = e2e[0]["facts"]
assert e2e[0]["status"] == "pass", e2e[0]
assert facts.get("e2e_rows") == 5000, facts.get("e2e_rows")
assert len(facts.get("e2e_sha256", "")) == 64, facts
print("e2e: %d rows, sha256 %s" % (facts["e2e_rows"], facts["e2e_sha256"]))
PY
# Everything the demo started is gone (its processes name the scratch directory).
sleep 0.2
if pgrep -f "$scratch" >/dev/null; then
  pgrep -af "$scratch"
  fail "the demo left processes running"
fi
# No SAS key in what the demo printed.
for key in "$scratch"/local/gateway.key "$scratch"/local/client.key; do
  if grep -qF "$(cat "$key")" "$scratch/out" "$scratch/err"; then fail "a SAS key was printed"; fi
done
echo "PASS"
