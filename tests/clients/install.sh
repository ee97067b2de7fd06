#!/usr/bin/env bash
# Install the real AI client CLIs that tests/e2e/real_clients.rs wires to Loopgate into this
# folder's node_modules/ (from package-lock.json: pinned Claude Code, Gemini CLI, Codex,
# Copilot CLI, opencode, Qwen Code, and the Node 22 that Qwen Code needs). Each ships its own
# platform binary or JavaScript through npm; nothing is downloaded from anywhere else.
# Idempotent (a stamp file holds the sha256 of package-lock.json), non-interactive, and safe to
# run concurrently (flock). Progress goes to stderr; stdout stays empty.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"
export CI=${CI:-true} npm_config_update_notifier=false
log() { echo "clients: $*" >&2; }

# One installer at a time; the others wait here, then find a fresh stamp and do nothing.
exec 9>"$HERE/.install.lock"
flock 9

want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -d node_modules ] && [ "$(cat .installed-npm 2>/dev/null)" = "$want" ]; then
  log "client CLIs up to date"
else
  log "npm install from the lock (claude-code, gemini-cli, codex, copilot, opencode, qwen-code, node@22)..."
  rm -f .installed-npm
  # Not `npm ci`: it refuses this lock because opencode-ai and @teddyzhu/clipboard name optional
  # platform packages that npm records without a version. `npm install --no-save` installs the
  # lock's exact versions (every dependency is pinned) and leaves the lock as it is.
  npm install --no-save --no-audit --no-fund --loglevel=error </dev/null >&2
  echo "$want" > .installed-npm
fi
log "ready in $HERE"
