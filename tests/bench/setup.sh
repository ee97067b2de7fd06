#!/usr/bin/env bash
# Installs what `cargo bench --bench gateway` measures Loopgate against, pinned:
#   node_modules/  supergateway 4.0.0 (npm ci from package-lock.json)
#   venv/          mcp-proxy 0.13.0 (PyPI, requirements.txt; its own venv: it pins an older `mcp`)
#   mcp-proxy-rs/  mcp-proxy 0.6.0 (crates.io, joshrotenberg's Rust gateway; `cargo install --locked
#                  --no-default-features`, built in mcp-proxy-rs/target, removed after the install)
#   servers-venv/  mcp-server-time, mcp-server-fetch, mcp-server-git (PyPI, servers-requirements.txt;
#                  the search-mode section's catalog, with server-filesystem and
#                  server-sequential-thinking from package.json)
# and the Python `mcp` SDK server used as a real backend (tests/peers/install.sh).
# Idempotent (stamp files hold the sha256 of the inputs), non-interactive, concurrency-safe
# (flock). Progress goes to stderr; stdout stays empty. Env: PYTHON (default python3).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"
PYTHON=${PYTHON:-python3}
export CI=${CI:-true} PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 npm_config_update_notifier=false
log() { echo "bench setup: $*" >&2; }

bash "$HERE/../peers/install.sh"

exec 9>"$HERE/.install.lock"
flock 9

want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -x node_modules/.bin/supergateway ] && [ "$(cat .installed-npm 2>/dev/null)" = "$want" ]; then
  log "supergateway up to date"
else
  log "npm ci (supergateway 4.0.0, server-filesystem, server-sequential-thinking)..."
  rm -f .installed-npm
  npm ci --no-audit --no-fund --loglevel=error </dev/null >&2
  echo "$want" > .installed-npm
fi

want=$( { sha256sum requirements.txt; "$PYTHON" --version; } 2>&1 | sha256sum | cut -d' ' -f1)
if [ -x venv/bin/mcp-proxy ] && [ "$(cat .installed-py 2>/dev/null)" = "$want" ]; then
  log "mcp-proxy up to date"
else
  log "python venv + pip install -r requirements.txt (mcp-proxy 0.13.0)..."
  rm -rf venv .installed-py
  "$PYTHON" -m venv venv
  venv/bin/pip install -q -r requirements.txt </dev/null >&2
  echo "$want" > .installed-py
fi
want=$( { sha256sum servers-requirements.txt; "$PYTHON" --version; } 2>&1 | sha256sum | cut -d' ' -f1)
if [ -x servers-venv/bin/mcp-server-git ] && [ "$(cat .installed-servers 2>/dev/null)" = "$want" ]; then
  log "real servers for the search section up to date"
else
  log "python venv + pip install -r servers-requirements.txt (mcp-server-time, -fetch, -git)..."
  rm -rf servers-venv .installed-servers
  "$PYTHON" -m venv servers-venv
  servers-venv/bin/pip install -q -r servers-requirements.txt </dev/null >&2
  echo "$want" > .installed-servers
fi
# Rust mcp-proxy 0.6.0: a separate crate with its own lock file (--locked), built outside the
# main target/; only the binary is kept (mcp-proxy-rs/bin/mcp-proxy).
want="mcp-proxy 0.6.0 --locked --no-default-features $(rustc --version 2>&1)"
if [ -x mcp-proxy-rs/bin/mcp-proxy ] && [ "$(cat .installed-mcp-proxy-rs 2>/dev/null)" = "$want" ]; then
  log "mcp-proxy 0.6.0 (Rust) up to date"
else
  log "cargo install mcp-proxy 0.6.0 --no-default-features (a few minutes)..."
  rm -rf mcp-proxy-rs .installed-mcp-proxy-rs
  CARGO_TARGET_DIR="$HERE/mcp-proxy-rs/target" cargo install mcp-proxy --version 0.6.0 --locked \
    --no-default-features --root "$HERE/mcp-proxy-rs" --quiet </dev/null >&2
  rm -rf mcp-proxy-rs/target
  echo "$want" > .installed-mcp-proxy-rs
fi
log "ready in $HERE"
