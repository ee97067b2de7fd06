#!/usr/bin/env bash
# Install the browser-test dependencies (playwright-core, the MCP TypeScript SDK) into
# tests/ui/node_modules from package-lock.json. Idempotent (a stamp holds the lockfile's sha256),
# non-interactive, safe to run concurrently (flock). Never downloads a browser: the tests use
# Debian's /usr/bin/chromium (apt-get install chromium). Progress goes to stderr.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"
export CI=${CI:-true} PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm_config_update_notifier=false
exec 9>"$HERE/.install.lock"
flock 9
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -d node_modules ] && [ "$(cat .installed-npm 2>/dev/null)" = "$want" ]; then
  echo "ui-tests: npm packages up to date" >&2
else
  echo "ui-tests: npm ci (playwright-core, @modelcontextprotocol/sdk)..." >&2
  rm -f .installed-npm
  npm ci --no-audit --no-fund --loglevel=error </dev/null >&2
  echo "$want" > .installed-npm
fi
[ -x /usr/bin/chromium ] || echo "ui-tests: /usr/bin/chromium is missing: apt-get install chromium" >&2
