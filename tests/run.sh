#!/usr/bin/env bash
# The whole test suite, as the README's second quick-start command runs it (and .ci/run too).
# 1. Debian packages the tests need, when missing (needs root; says what to install otherwise).
# 2. The real MCP peers (npm + PyPI, pinned) into tests/peers.
# 3. cargo test without the desktop feature (no GTK/WebKit needed).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
python3 -m venv --help >/dev/null 2>&1 || need+=(python3-venv)
command -v flock >/dev/null || need+=(util-linux)
command -v node >/dev/null || need+=(nodejs npm)
# A real Secret Service for the keychain tests (each test starts its own private bus).
command -v dbus-daemon >/dev/null || need+=(dbus-daemon)
command -v dbus-send >/dev/null || need+=(dbus-bin)
command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
# Headless Chromium for the dashboard's browser tests (never a downloaded browser).
[ -x /usr/bin/chromium ] || need+=(chromium)
# The desktop app (Tauri 2: GTK + WebKitGTK) and its test under Xvfb.
pkg-config --exists webkit2gtk-4.1 2>/dev/null || need+=(libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev pkg-config)
command -v Xvfb >/dev/null || need+=(xvfb xauth)
command -v xdotool >/dev/null || need+=(xdotool)
command -v import >/dev/null || need+=(imagemagick)
command -v dbus-run-session >/dev/null || need+=(dbus)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "tests: installing Debian packages: ${need[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
  else
    echo "tests: please install these Debian packages first: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

bash tests/peers/install.sh
bash tests/ui/install.sh
log=$(mktemp)
# A failing test's message, not a backtrace, is what the last lines of a CI log must show
# (the message names the test's line already). LOOPGATE_TEST_BACKTRACE=1 brings them back.
export RUST_BACKTRACE="${LOOPGATE_TEST_BACKTRACE:-0}"
trap 'rm -f "$log"' EXIT
set +e
# The dashboard's pure helpers (node --test); their summary joins the closing line below.
(cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npm test) 2>&1 | tee -a "$log"
ui_status=${PIPESTATUS[0]}
cargo test --no-default-features "$@" 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
[ "$ui_status" = 0 ] || status=$ui_status
# The desktop build and its Xvfb test (the rest of the suite does not need GTK).
if [ "$status" = 0 ] && [ -z "${LOOPGATE_SKIP_DESKTOP:-}" ]; then
  cargo test --features desktop --test desktop 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
fi
set -e
# One closing line over every test binary: "N passed, N failed".
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^# pass [0-9]+$/ { p += $3 } /^# fail [0-9]+$/ { f += $3 }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
