#!/usr/bin/env bash
# libcurl, libpq and libpcap are opened on first use (core/shared_library.hpp). With each one
# missing, gwprobe still starts, what does not need it works, and the feature that does says
# which library and which package: a PROBE_ERROR for the proxy check, a warning and a run
# without capture, a file:line:column error for a postgres data source. The libraries are
# hidden only inside a private mount namespace (an empty file bound over each), so nothing
# outside this test sees them missing. Needs root for unshare -m (exit 77, skipped, otherwise).
# Usage: missing_library_test.sh GWPROBE_BINARY LIBCURL_SONAME LIBPQ_SONAME LIBPCAP_SONAME
set -euo pipefail
bin=$1 curl_so=$2 pq_so=$3 pcap_so=$4

if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
  echo "SKIPPED: hiding a library needs root and unshare -m"
  exit 77
fi

# The file a soname resolves to, as the dynamic loader finds it.
resolve() {
  local path
  path=$(ldconfig -p | awk -v n="$1" '$1 == n && /x86-64|x32|64bit/ {print $NF; exit}')
  [ -n "$path" ] || path=$(ldconfig -p | awk -v n="$1" '$1 == n {print $NF; exit}')
  [ -n "$path" ] || { echo "FAIL: ldconfig does not know $1"; exit 1; }
  readlink -f "$path"
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
: >"$scratch/empty"
echo "not-a-real-key-0123456789" >"$scratch/gateway.key"
printf '[[datasource]]\nname = "pg"\nkind = "postgres"\nconninfo = "host=127.0.0.1 dbname=x user=y"\n' \
  >"$scratch/datasources.toml"

cat >"$scratch/inside.sh" <<INSIDE
set -u
for lib in "$(resolve "$curl_so")" "$(resolve "$pq_so")" "$(resolve "$pcap_so")"; do
  mount --bind "$scratch/empty" "\$lib" || exit 90
done
cd "$scratch"
"$bin" --version >version.out 2>&1; echo \$? >version.rc
"$bin" gateway sample-db --out sample.db >sample.out 2>&1; echo \$? >sample.rc
"$bin" probe proxy 127.0.0.1:443 --proxy http://127.0.0.1:9 --timeout 2s >proxy.out 2>&1
echo \$? >proxy.rc
"$bin" probe tcp 127.0.0.1:9 --capture "$scratch/x.pcap" --timeout 2s >capture.out 2>&1
echo \$? >capture.rc
"$bin" gateway run --relay 'wss://127.0.0.1:9/\$hc/x' --key-name gateway \
  --key-file gateway.key --datasources datasources.toml >pq.out 2>&1
echo \$? >pq.rc
INSIDE
unshare -m --propagation private bash "$scratch/inside.sh" || { echo "FAIL: namespace set-up"; exit 1; }

fail() { echo "FAIL: $*"; for f in "$scratch"/*.out; do echo "--- $f"; cat "$f"; done; exit 1; }
rc() { cat "$scratch/$1.rc"; }

[ "$(rc version)" = 0 ] || fail "gwprobe --version did not start without the libraries"
[ "$(rc sample)" = 0 ] || fail "gateway sample-db (SQLite) failed without the libraries"
[ -s "$scratch/sample.db" ] || fail "no sample database"

[ "$(rc proxy)" = 1 ] || fail "probe proxy exited $(rc proxy), expected 1"
grep -q "PROBE_ERROR" "$scratch/proxy.out" || fail "the proxy check is not a PROBE_ERROR"
grep -q "cannot load $curl_so (install the libcurl4 package)" "$scratch/proxy.out" ||
  fail "the proxy check does not name $curl_so and its package"

[ "$(rc capture)" = 1 ] || fail "probe tcp --capture exited $(rc capture), expected 1"
grep -q "TCP_REFUSED" "$scratch/capture.out" || fail "the tcp check did not run without capture"
grep -q "no packet capture: cannot load $pcap_so (install the libpcap0.8 package)" \
  "$scratch/capture.out" || fail "no warning naming $pcap_so and its package"

[ "$(rc pq)" = 2 ] || fail "gateway run with a postgres source exited $(rc pq), expected 2"
grep -q "datasources.toml:4:12: a postgres source needs libpq: cannot load $pq_so (install the libpq5 package)" \
  "$scratch/pq.out" || fail "the data-sources error does not say file:line:column, $pq_so and its package"
grep -q "not-a-real-key" "$scratch"/*.out && fail "a key was printed"

# Outside the namespace nothing was hidden.
[ -s "$(resolve "$curl_so")" ] || fail "the real $curl_so looks empty outside the test"
echo "PASS: missing $curl_so, $pq_so and $pcap_so each reported by the feature that needs it"
