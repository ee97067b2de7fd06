"""Python SDK (mcp 2.3.0) server whose tool `log_then_echo` writes a log message and then,
after `pause_ms` (default 0: at once), its answer: a server's message that must stay before
the answer after it, and reach the call it is about.
Usage: [MODE=stdio|http PORT=3402] venv/bin/python logging-server.py
  stdio (default); http: stateless Streamable HTTP on http://127.0.0.1:$PORT/mcp (also serves
  2026-07-28 requests).
"""
import os

import anyio
from mcp.server.mcpserver import Context, MCPServer

mcp = MCPServer("py-logging")


@mcp.tool()
async def log_then_echo(message: str, ctx: Context, pause_ms: int = 0) -> str:
    """Log the message at info level, then echo it"""
    await ctx.info(f"about to echo {message}")
    if pause_ms:
        await anyio.sleep(pause_ms / 1000)
    return f"echo: {message}"


if __name__ == "__main__":
    if os.environ.get("MODE", "stdio") == "http":
        mcp.run(
            "streamable-http",
            host="127.0.0.1",
            port=int(os.environ.get("PORT", "3402")),
            stateless_http=True,
        )
    else:
        mcp.run("stdio")
