"""A FastMCP 4.2 server (PyPI `fastmcp`, the most used Python server framework) whose tool asks
its client a question mid-call (server-initiated elicitation).

Usage: PORT=3406 venv/bin/python fastmcp-server.py  (Streamable HTTP at http://127.0.0.1:$PORT/mcp)

FastMCP serves both protocol eras on one endpoint but refuses server-initiated requests on
2026-07-28 connections, so a client gets the elicitation only in an initialize-based session:
the case where the era a gateway picks decides whether the feature survives.
"""
import os

from fastmcp import Context, FastMCP

mcp = FastMCP("fastmcp-demo")


@mcp.tool
async def ask_name(ctx: Context) -> str:
    """Asks the user for their name and greets them."""
    answer = await ctx.elicit("What is your name?", response_type=str)
    if answer.action == "accept":
        return f"hello {answer.data}"
    return f"no name ({answer.action})"


if __name__ == "__main__":
    mcp.run("http", host="127.0.0.1", port=int(os.environ.get("PORT", "3406")), path="/mcp", show_banner=False)
