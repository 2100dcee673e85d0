#!/usr/bin/env bash
# Installs hyco-https, ws@1.1.5 and moment with npm, then hyco-ws@1.0.5 by hand: `npm install
# hyco-ws` fails (it declares `http: latest`, which the registry cannot resolve; reference A.8 #7),
# so its tarball is packed and unpacked into node_modules. Idempotent; never touches the source
# tree. Exit 77 (ctest's skip code) when node/npm or the registry are unavailable.
# Usage: install.sh DEST_DIR
set -euo pipefail
dest=${1:?usage: install.sh DEST_DIR}
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "SKIPPED: node and npm are needed for the hyco interop test" >&2
  exit 77
fi
mkdir -p "$dest"
if [ -f "$dest/node_modules/hyco-ws/package.json" ] && [ -f "$dest/node_modules/hyco-https/package.json" ] &&
   cmp -s "$here/package.json" "$dest/package.json"; then
  exit 0
fi
cp "$here/package.json" "$dest/package.json"
cd "$dest"
if ! timeout 300 npm install --no-audit --no-fund --loglevel=error >npm-install.log 2>&1; then
  echo "SKIPPED: npm install failed (registry unreachable?); see $dest/npm-install.log" >&2
  tail -5 npm-install.log >&2 || true
  exit 77
fi
rm -f hyco-ws-*.tgz
if ! timeout 120 npm pack hyco-ws@1.0.5 --loglevel=error >npm-pack.log 2>&1; then
  echo "SKIPPED: npm pack hyco-ws@1.0.5 failed; see $dest/npm-pack.log" >&2
  exit 77
fi
rm -rf node_modules/hyco-ws
mkdir -p node_modules/hyco-ws
tar xzf hyco-ws-1.0.5.tgz -C node_modules/hyco-ws --strip-components=1
rm -f hyco-ws-1.0.5.tgz
echo "installed hyco-ws 1.0.5, hyco-https, ws 1.1.5, moment into $dest"
