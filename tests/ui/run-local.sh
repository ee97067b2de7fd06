#!/usr/bin/env bash
# Runs the browser tests end to end against a freshly started gateway, the way they are meant to
# run in CI: a temp config with `everything` (server-everything, stdio) and `py` (the Python SDK
# server over HTTP), the gateway binary on a free port, then tests/ui/run.mjs.
#   bash tests/ui/run-local.sh [LOOPGATE_BIN=target/debug/loopgate] [SCREENSHOT_DIR=tests/ui/screenshots/latest]
# The binary must embed a current ui/dist (cd ui && npm ci && npm run build, before cargo build).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$(realpath "${1:-$ROOT/target/debug/loopgate}")
SHOTS=$(realpath -m "${2:-$ROOT/tests/ui/screenshots/latest}")
PEERS=$ROOT/tests/peers
bash "$PEERS/install.sh"
bash "$ROOT/tests/ui/install.sh"

TMP=$(mktemp -d)
PY= GW=
cleanup() {
  [ -n "$GW" ] && kill "$GW" 2>/dev/null && wait "$GW" 2>/dev/null || true
  [ -n "$PY" ] && kill "$PY" 2>/dev/null && wait "$PY" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # url, what
  for _ in $(seq 1 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "ui: $2 did not come up" >&2; return 1
}

PYPORT=$(free_port)
MODE=stateful PORT=$PYPORT "$PEERS/venv/bin/python" "$PEERS/py-server.py" >"$TMP/py.log" 2>&1 &
PY=$!
wait_for "http://127.0.0.1:$PYPORT/mcp" "the Python server"

cat >"$TMP/config.json" <<JSON
{
  "mcpServers": {
    "everything": { "command": "node", "args": ["$PEERS/node_modules/@modelcontextprotocol/server-everything/dist/index.js", "stdio"] },
    "py": { "url": "http://127.0.0.1:$PYPORT/mcp" }
  }
}
JSON
GWPORT=$(free_port)
# The "Connect a client" step writes the gateway's ~/.cursor/mcp.json: give the gateway a home of
# its own, and tell run.mjs, which refuses to edit a client file outside it.
mkdir -p "$TMP/home/.config"
export LOOPGATE_TEST_HOME=$TMP/home
HOME=$TMP/home XDG_CONFIG_HOME=$TMP/home/.config "$BIN" --config "$TMP/config.json" serve --port "$GWPORT" >"$TMP/gw.log" 2>&1 &
GW=$!
wait_for "http://127.0.0.1:$GWPORT/" "the gateway" || { cat "$TMP/gw.log" >&2; exit 1; }

export MEMORY_SERVER_JS=$PEERS/node_modules/@modelcontextprotocol/server-memory/dist/index.js
node "$ROOT/tests/ui/run.mjs" "http://127.0.0.1:$GWPORT" "$(cat "$TMP/token")" "$TMP/config.json" "$SHOTS" || {
  echo "ui: gateway log:" >&2; tail -n 40 "$TMP/gw.log" >&2; exit 1
}
