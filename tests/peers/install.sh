#!/usr/bin/env bash
# Install the real MCP peers used by Loopgate's end-to-end tests into this folder:
#   node_modules/ (npm ci from package-lock.json) and venv/ (pip install -r requirements.txt).
# Idempotent (stamp files hold the sha256 of the inputs), non-interactive, and safe to run
# concurrently (flock). Progress goes to stderr; stdout stays empty.
# Env: PYTHON (default python3) picks the interpreter for the venv.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"
PYTHON=${PYTHON:-python3}
export CI=${CI:-true} PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 npm_config_update_notifier=false
log() { echo "peers: $*" >&2; }

# One installer at a time; the others wait here, then find fresh stamps and do nothing.
exec 9>"$HERE/.install.lock"
flock 9

# npm: reinstall when package-lock.json changed (or node_modules is gone).
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -d node_modules ] && [ "$(cat .installed-npm 2>/dev/null)" = "$want" ]; then
  log "npm peers up to date"
else
  log "npm ci (official TS SDKs, server-everything, server-memory)..."
  rm -f .installed-npm
  npm ci --no-audit --no-fund --loglevel=error </dev/null >&2
  echo "$want" > .installed-npm
fi

# The official conformance suite and the Node 22 it needs (tests/conformance.rs).
want=$(sha256sum conformance/package-lock.json | cut -d' ' -f1)
if [ -d conformance/node_modules ] && [ "$(cat .installed-conformance 2>/dev/null)" = "$want" ]; then
  log "conformance suite up to date"
else
  log "npm ci (MCP conformance suite + node@22)..."
  rm -f .installed-conformance
  (cd conformance && npm ci --no-audit --no-fund --loglevel=error </dev/null >&2)
  echo "$want" > .installed-conformance
fi

# python: rebuild the venv when requirements.txt or the interpreter changed.
want=$( { sha256sum requirements.txt; "$PYTHON" --version; } 2>&1 | sha256sum | cut -d' ' -f1)
if [ -x venv/bin/python ] && [ "$(cat .installed-py 2>/dev/null)" = "$want" ]; then
  log "python peers up to date"
else
  log "python venv + pip install -r requirements.txt..."
  rm -rf venv .installed-py
  "$PYTHON" -m venv venv
  venv/bin/pip install -q -r requirements.txt </dev/null >&2
  echo "$want" > .installed-py
fi
log "ready in $HERE"
