"""Python SDK (mcp 2.3.0) server with tools `echo` and `add`.
Usage: MODE=stateful|stateless|stdio PORT=3401 [JSON=1] venv/bin/python py-server.py
  HTTP endpoint: http://127.0.0.1:$PORT/mcp (logs go to stderr; poll the port for readiness).
  stateful : issues Mcp-Session-Id on initialize; unknown id -> 404, missing id on non-initialize -> 400.
  stateless: no Mcp-Session-Id; every POST handled by a fresh transport.
  Both HTTP modes also serve 2026-07-28 traffic (server/discover, per-request _meta).
  JSON=1 answers with application/json instead of SSE streams.
"""
import os
from mcp.server.mcpserver import MCPServer

mcp = MCPServer("py-demo")


@mcp.tool()
def add(a: int, b: int) -> int:
    """Add two numbers"""
    return a + b


@mcp.tool()
def echo(message: str) -> str:
    """Echo a message"""
    return f"echo: {message}"


if __name__ == "__main__":
    mode = os.environ.get("MODE", "stateful")
    if mode == "stdio":
        mcp.run("stdio")
    else:
        mcp.run(
            "streamable-http",
            host="127.0.0.1",
            port=int(os.environ.get("PORT", "3401")),
            stateless_http=mode == "stateless",
            json_response=os.environ.get("JSON", "0") == "1",
        )
