"""Official Python SDK (mcp 2.3.0) client. TARGET = URL (Streamable HTTP) or a stdio command line.
Usage: [ERA=auto|legacy|2026-07-28] [MCP_AUTH='Bearer X'] venv/bin/python py-client.py TARGET ['{"calls":[...]}']
  ERA default 'auto' (SDK default: probe server/discover, fall back to initialize).
Prints ONE stdout line: RESULT {"protocol","tools":[...],"calls":[{name,isError,text}]} or ERROR <message> (exit 1).
"""
import asyncio, json, os, shlex, sys

from mcp import Client, StdioServerParameters


def text_of(res) -> str:
    return "".join(c.text for c in res.content if getattr(c, "type", None) == "text")


def message_of(e: BaseException) -> str:
    # anyio task groups wrap failures in ExceptionGroups: report the innermost first error.
    while isinstance(e, BaseExceptionGroup) and e.exceptions:
        e = e.exceptions[0]
    return " ".join(f"{type(e).__name__}: {e}".split())


async def run(target: str, plan: dict) -> dict:
    if not target.startswith("http"):
        cmd = shlex.split(target)
        target = StdioServerParameters(command=cmd[0], args=cmd[1:], env=dict(os.environ))  # pass our env (e.g. MODE=stdio) through
    elif os.environ.get("MCP_AUTH"):
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        client = create_mcp_http_client(headers={"Authorization": os.environ["MCP_AUTH"]})
        target = streamable_http_client(target, http_client=client)
    async with Client(target, mode=os.environ.get("ERA", "auto")) as client:
        out = {"protocol": client.protocol_version, "tools": [], "calls": []}
        cursor = None
        while True:  # follow pagination
            page = await client.list_tools(cursor=cursor)
            out["tools"] += [t.name for t in page.tools]
            cursor = page.next_cursor
            if not cursor:
                break
        for call in plan.get("calls", []):
            res = await client.call_tool(call["name"], call.get("arguments", {}))
            out["calls"].append({"name": call["name"], "isError": bool(res.is_error), "text": text_of(res)})
        return out


def main() -> None:
    try:
        out = asyncio.run(run(sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")))
    except BaseException as e:  # noqa: BLE001 - report everything, incl. ExceptionGroup / KeyboardInterrupt
        print("ERROR " + message_of(e), flush=True)
        sys.exit(1)
    print("RESULT " + json.dumps(out, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
