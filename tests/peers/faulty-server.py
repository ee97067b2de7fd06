"""A real MCP stdio server (Python SDK, mcp 2.3) whose tools misbehave on request, for the
gateway's fault tests (tests/faults.rs). Each fault is something a real server can do:
  echo(message)   normal tool
  hang()          never answers
  crash()         the process exits in the middle of the call (exit code 3)
  flood(mb)       writes mb MiB of junk to stderr, then answers
  big(mb)         answers with a text result of mb MiB
  slow(ms)        answers after ms milliseconds
Set CRASH_ON_START=1 to exit with code 7 before serving (a crash loop).
MODE=stateful PORT=n serves Streamable HTTP at http://127.0.0.1:n/mcp instead of stdio
(JSON=1: answers as application/json bodies instead of event streams)."""
import asyncio, os, sys
from mcp.server.mcpserver import MCPServer

if os.environ.get("CRASH_ON_START") == "1":
    print("faulty-server: crashing on start as asked", file=sys.stderr, flush=True)
    sys.exit(7)

mcp = MCPServer("faulty")

@mcp.tool()
def echo(message: str) -> str:
    """Echo a message"""
    return f"echo: {message}"

@mcp.tool()
async def slow(ms: int) -> str:
    """Answers after ms milliseconds"""
    await asyncio.sleep(ms / 1000)
    return "slow done"

@mcp.tool()
async def hang() -> str:
    """Never answers"""
    await asyncio.sleep(3600)
    return "late"

@mcp.tool()
def crash() -> str:
    """Exits the process mid-call"""
    sys.stderr.write("faulty-server: crashing mid-call\n")
    sys.stderr.flush()
    os._exit(3)

@mcp.tool()
def flood(mb: int) -> str:
    """Writes mb MiB to stderr"""
    line = "x" * 1023 + "\n"
    for _ in range(mb * 1024):
        sys.stderr.write(line)
    sys.stderr.flush()
    return "flooded"

@mcp.tool()
def big(mb: int) -> str:
    """Returns mb MiB of text"""
    return "y" * (mb * 1024 * 1024)

if __name__ == "__main__":
    if os.environ.get("MODE") == "stateful":
        mcp.run(
            "streamable-http",
            host="127.0.0.1",
            port=int(os.environ["PORT"]),
            json_response=os.environ.get("JSON", "0") == "1",
        )
    else:
        mcp.run("stdio")
