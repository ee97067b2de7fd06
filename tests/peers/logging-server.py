"""Python SDK (mcp 2.3.0) stdio server whose tool `log_then_echo` writes a log message and
then, at once, its answer: a server's message that must stay before the answer after it.
Usage: venv/bin/python logging-server.py
"""
from mcp.server.mcpserver import Context, MCPServer

mcp = MCPServer("py-logging")


@mcp.tool()
async def log_then_echo(message: str, ctx: Context) -> str:
    """Log the message at info level, then echo it"""
    await ctx.info(f"about to echo {message}")
    return f"echo: {message}"


if __name__ == "__main__":
    mcp.run("stdio")
