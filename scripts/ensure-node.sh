#!/usr/bin/env bash
# Source this file: it puts a Node >= 22.12 first on PATH. Where the machine's Node is older (Debian's
# images still carry Node 20, end of life since April 2026), Node 24 is installed from the npm registry's
# `node` package (the binary ships inside it) into .cache/node, once.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)'
}
if [ -x "$_root/.cache/node/node_modules/.bin/node" ]; then
  export PATH="$_root/.cache/node/node_modules/.bin:$PATH"
fi
if ! _node_ok; then
  echo "ensure-node: $(node --version 2>/dev/null || echo 'no node') is older than 22.12; installing Node 24 from the npm registry into .cache/node" >&2
  mkdir -p "$_root/.cache/node"
  # --prefix keeps it out of the workspace; npm runs here under the old Node, which is fine for installing.
  if ! npm install --no-save --no-audit --no-fund --prefix "$_root/.cache/node" node@24 >&2; then
    echo "ensure-node: could not install node@24 from the npm registry (see above)" >&2
    return 1 2>/dev/null || exit 1
  fi
  export PATH="$_root/.cache/node/node_modules/.bin:$PATH"
  _node_ok || { echo "ensure-node: Node 24 install did not yield a working node" >&2; return 1 2>/dev/null || exit 1; }
fi
unset -f _node_ok
unset _root
