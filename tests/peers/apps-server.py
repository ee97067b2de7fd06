"""An MCP Apps server (Python SDK 2.3, `mcp.server.apps`): tools bound to `ui://` resources.

Usage: venv/bin/python apps-server.py            (stdio)
       PORT=3405 venv/bin/python apps-server.py  (Streamable HTTP at http://127.0.0.1:$PORT/mcp)

- `show_clock` (visible to the model and the app) renders `ui://clock/app.html`;
- `tick` is for the app only (`_meta.ui.visibility: ["app"]`): the app's own `tools/call`,
  by the name the server gives it, answers `tick <n>` with a per-process counter;
- the HTML resource is served as `text/html;profile=mcp-app`.
"""
import os

from mcp.server.apps import Apps, client_supports_apps
from mcp.server.mcpserver import Context, MCPServer

CLOCK_HTML = "<!doctype html><title>clock</title><p id=now>loopgate apps test</p>"

apps = Apps()
ticks = 0


@apps.tool(resource_uri="ui://clock/app.html", visibility=["model", "app"], description="Shows a clock")
def show_clock(ctx: Context) -> str:
    """The clock, as an app when the client renders apps, else as text."""
    return "clock app" if client_supports_apps(ctx) else "clock as text"


@apps.tool(resource_uri="ui://clock/app.html", visibility=["app"], description="Advances the clock")
def tick() -> str:
    """Called by the clock app itself."""
    global ticks
    ticks += 1
    return f"tick {ticks}"


apps.add_html_resource("ui://clock/app.html", CLOCK_HTML, title="Clock", prefers_border=True)

mcp = MCPServer("apps-demo", extensions=[apps])

if __name__ == "__main__":
    if "PORT" in os.environ:
        mcp.run("streamable-http", host="127.0.0.1", port=int(os.environ["PORT"]))
    else:
        mcp.run("stdio")
