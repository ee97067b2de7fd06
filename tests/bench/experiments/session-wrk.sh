#!/usr/bin/env bash
# CPU per relayed call of one `loopgate serve`, under wrk, outside the bench's own client.
#
# Starts the bench's Rust HTTP backend and a gateway in front of it, opens one initialize
# session (2025-11-25) with curl, then posts the same `tools/call` on that session from wrk
# (CONNS connections, default 1) for SECONDS, and prints wrk's p50/p99 and calls/s and the
# CPU (utime + stime from /proc) the gateway and the backend spent per call, in µs. Dividing
# the gateway's figure by the backend's in the same run takes out much of a noisy machine's
# drift. Used for run N (tests/bench/RESULTS.md).
#
# Usage: tests/bench/experiments/session-wrk.sh GATEWAY_BINARY BENCH_BINARY [SECONDS]
#   BENCH_BINARY: target/release/deps/gateway-<hash> (built by `cargo bench --bench gateway`).
#   CONNS=64 for 64 concurrent requests on the session. Needs wrk and curl.
#   GATEWAY_PRELOAD=/tmp/allocsizes.so (with ALLOCSIZES_OUT) runs the gateway under that shim;
#   the gateway is stopped with SIGTERM at the end, so the shim's report is written then.
#   all_calls (warm-up included) is what the gateway served.
#   VIA=floor (or direct) posts through the bench's floor proxy (or to the backend itself)
#   instead, for the same figures without Loopgate (GATEWAY_BINARY is then not started; the
#   "gateway" CPU is the floor's, 0 for direct). BACKEND=stdio puts the backend behind the
#   gateway (or with VIA=floor, the floor + pipe) as a stdio server (its CPU is then the
#   child's).
#   ERA=2026 posts stateless 2026-07-28 calls instead (no session: the revision and the
#   client's capabilities in `_meta`, the SEP-2243 headers), as a 2026-07-28 client does.
set -euo pipefail
gateway=$1 bench=$2 secs=${3:-5}
dir=$(mktemp -d)
backend_port=$((20000 + RANDOM % 10000)) gateway_port=$((30000 + RANDOM % 10000))
cleanup() {
  kill "${gw_pid:-}" "${be_pid:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
via=${VIA:-gateway} backend=${BACKEND:-http}
if [ "$backend" = http ]; then
  "$bench" backend http --port "$backend_port" > "$dir/backend.log" 2>&1 &
  be_pid=$!
  server="{\"url\":\"http://127.0.0.1:$backend_port/mcp\"}"
else
  server="{\"command\":\"$bench\",\"args\":[\"backend\",\"stdio\"]}"
fi
# The gateway reads its token from this file (no keychain: DBus points nowhere).
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/token"
chmod 600 "$dir/token"
token=$(cat "$dir/token")
printf '{"gateway":{"port":%d},"mcpServers":{"b":%s}}' "$gateway_port" "$server" \
  > "$dir/config.json"
case $via in
  gateway)
    LD_PRELOAD=${GATEWAY_PRELOAD:-} DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent \
      "$gateway" --config "$dir/config.json" serve > "$dir/gateway.log" 2>&1 &
    gw_pid=$! url=http://127.0.0.1:$gateway_port/mcp ;;
  floor)
    if [ "$backend" = stdio ]; then
      "$bench" floor --port "$gateway_port" --stdio "$bench" backend stdio > "$dir/gateway.log" 2>&1 &
    else
      "$bench" floor --port "$gateway_port" --to "127.0.0.1:$backend_port" > "$dir/gateway.log" 2>&1 &
    fi
    gw_pid=$! url=http://127.0.0.1:$gateway_port/mcp ;;
  direct) gw_pid=$be_pid url=http://127.0.0.1:$backend_port/mcp ;;
esac
headers=(-H "authorization: Bearer $token" -H "content-type: application/json"
  -H "accept: application/json, text/event-stream")
# Listening, then the backend's tools listed.
for _ in $(seq 100); do
  curl -s -o /dev/null "${url%/mcp}/" && break
  sleep 0.1
done
sleep 2
if [ "$backend" = stdio ]; then
  be_pid=$(pgrep -P "$gw_pid" | head -1)
  [ -n "$be_pid" ] || { echo "the stdio server did not start; gateway log:" >&2; cat "$dir/gateway.log" >&2; exit 1; }
fi
if [ "${ERA:-}" = 2026 ]; then
  v=2026-07-28
  meta="\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"$v\",\"io.modelcontextprotocol/clientInfo\":{\"name\":\"wrk\",\"version\":\"1\"},\"io.modelcontextprotocol/clientCapabilities\":{}}"
  list=$(curl -s "${headers[@]}" -H "mcp-protocol-version: $v" -H "mcp-method: tools/list" "$url" \
    -d "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{$meta}}")
  tool=$(echo "$list" | grep -o '"name":"[^"]*echo"' | head -1 | cut -d'"' -f4)
  [ -n "$tool" ] || { echo "the backend's echo tool is not listed: $list" >&2; exit 1; }
  body="{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"$tool\",\"arguments\":{\"message\":\"hello\"},$meta}}"
  headers+=(-H "mcp-protocol-version: $v" -H "mcp-method: tools/call" -H "mcp-name: $tool")
  extra="wrk.headers[\"mcp-protocol-version\"] = \"$v\"
wrk.headers[\"mcp-method\"] = \"tools/call\"
wrk.headers[\"mcp-name\"] = \"$tool\""
else
session=$(curl -s -D - -o /dev/null "${headers[@]}" "$url" -d \
  '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"wrk","version":"1"}}}' \
  | tr -d '\r' | awk 'tolower($1) == "mcp-session-id:" {print $2}')
[ -n "$session" ] || { echo "no session id; gateway log:" >&2; cat "$dir/gateway.log" >&2; exit 1; }
headers+=(-H "mcp-session-id: $session" -H "mcp-protocol-version: 2025-11-25")
curl -s "${headers[@]}" "$url" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' > /dev/null
tool=$(curl -s "${headers[@]}" "$url" -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' \
  | grep -o '"name":"[^"]*echo"' | head -1 | cut -d'"' -f4)
[ -n "$tool" ] || { echo "the backend's echo tool is not listed" >&2; exit 1; }
body="{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"$tool\",\"arguments\":{\"message\":\"hello\"}}}"
extra="wrk.headers[\"mcp-session-id\"] = \"$session\"
wrk.headers[\"mcp-protocol-version\"] = \"2025-11-25\""
fi
# The call must succeed, or wrk would time errors.
answer=$(curl -s "${headers[@]}" "$url" -d "$body")
case $answer in
  *'"result"'*hello*) ;;
  *) echo "the call failed: $answer" >&2; exit 1 ;;
esac
cat > "$dir/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["authorization"] = "Bearer $token"
wrk.headers["content-type"] = "application/json"
wrk.headers["accept"] = "application/json, text/event-stream"
$extra
LUA
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wrk -t1 -c1 -d1s -s "$dir/post.lua" "$url" > "$dir/warm-up.txt"
cpu_gw() { if [ "$via" = direct ]; then echo 0; else cpu "$gw_pid"; fi; }
g0=$(cpu_gw) b0=$(cpu "$be_pid")
wrk -t1 -c"${CONNS:-1}" -d"${secs}s" --latency -s "$dir/post.lua" "$url" > "$dir/wrk.txt"
g1=$(cpu_gw) b1=$(cpu "$be_pid")
calls=$(awk '/requests in/ {print $1}' "$dir/wrk.txt")
ticks=$(getconf CLK_TCK)
grep -E "^ +(50|99)%|Requests/sec|Non-2xx" "$dir/wrk.txt" | tr -s ' ' | tr '\n' ';'
echo
warm_up=$(awk '/requests in/ {print $1}' "$dir/warm-up.txt")
echo "calls=$calls all_calls=$((calls + warm_up)) gateway_cpu_us_per_call=$(( (g1 - g0) * 1000000 / ticks / calls ))" \
  "backend_cpu_us_per_call=$(( (b1 - b0) * 1000000 / ticks / calls ))"
