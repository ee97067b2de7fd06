"""Fidelity client (official Python SDK, mcp 2.3.0): connects over Streamable HTTP as a *capable*
client and checks that everything a server offers such a client reaches it.

Usage: [ERA=legacy|2026-07-28|auto] [MCP_AUTH='Bearer X'] [PREFIX=everything__] [PROFILE=everything|conformance]
       venv/bin/python fidelity-client.py URL
  ERA      legacy (default) = initialize + Mcp-Session-Id; 2026-07-28 = pinned stateless revision
           (server/discover, per-request _meta, input_required instead of server->client requests).
  PREFIX   prepended to the server's tool and prompt names (a gateway exposes `everything__echo`).
  PROFILE  which server's names the plan uses: `everything` (@modelcontextprotocol/server-everything)
           or `conformance` (conformance-backend.mjs); default: detected from the tool list.
Declares sampling, elicitation and roots (listChanged) with deterministic handlers:
  sampling    -> assistant text "sampled: <first user message text>"
  elicitation -> accept, required fields filled (strings "fidelity", numbers 7, booleans true, enums: first)
  roots       -> [{uri: "file:///tmp/fidelity-root", name: "fidelity-root"}]
(The SDK derives the capability ad from the callbacks: it always declares elicitation form AND url.)
Steps: instructions, capabilities, tools, sampling, elicitation, roots, logging, completion, subscribe,
protocol; each {ok, detail}, each bounded by a timeout, a failing step never stops the others.
Prints ONE stdout line: RESULT {"<step>":{"ok":bool,"detail":...},...,"summary":{...}} (exit 0),
or ERROR <message> (exit 1) when the connection itself fails.
"""

import asyncio
import json
import os
import re
import sys
import threading
import time
import warnings
from contextlib import AsyncExitStack

import anyio
import mcp_types as types
from mcp import Client
from mcp.client.session import ClientRequestContext

warnings.filterwarnings("ignore")  # the SDK flags roots/sampling/logging/subscribe as deprecated in 2026-07-28

STEP_S = 15.0  # upper bound for every step
SUBSCRIBE_WAIT_S = 10.0  # how long to wait for notifications/resources/updated
ROOT = {"uri": "file:///tmp/fidelity-root", "name": "fidelity-root"}

# The names each server under test uses (PREFIX is prepended to tool and prompt names).
PROFILES = {
    "everything": {
        "sampling": {"tool": "trigger-sampling-request", "args": {"prompt": "fidelity-probe", "maxTokens": 32}},
        "elicitation": {"tool": "trigger-elicitation-request", "args": {}},
        "roots": {"tool": "get-roots-list", "args": {}},
        # Starts periodic random-level logs (one at once, then every 5 s) on the session's standalone
        # stream; toggled off again afterwards.
        # `expect` matches the messages this tool causes ("Debug-level message", …, "Alert level-message").
        "logging": {
            "tool": "toggle-simulated-logging",
            "args": {},
            "toggle": True,
            "window": 3.0,
            "max_window": 7.0,
            "expect": re.compile(r"level[- ]message", re.I),
            # A 2026-07-28 client receives log messages only on the stream of a call it has open
            # (no session stream): it keeps one open while the periodic messages come.
            "hold": {"tool": "trigger-long-running-operation", "args": {"duration": 6, "steps": 2}},
        },
        "completion": {"prompt": "completable-prompt", "argument": {"name": "department", "value": "S"}},
        # Updates every subscribed URI of the session (one at once, then every 5 s) once toggled on.
        "subscribe": {
            "uri": "demo://resource/static/document/instructions.md",
            "tool": "toggle-subscriber-updates",
            "toggle": True,
        },
    },
    "conformance": {
        "sampling": {"tool": "test_sampling", "args": {"prompt": "fidelity-probe"}},
        "elicitation": {"tool": "test_elicitation", "args": {"message": "fidelity-probe"}},
        "roots": {"tool": "test_input_required_result_list_roots", "args": {}},
        "logging": {
            "tool": "test_tool_with_logging",
            "args": {},
            "window": 1.0,
            "max_window": 2.0,
            "expect": re.compile(r"^Tool (execution|processing)"),
        },
        "completion": {"prompt": "test_prompt_with_arguments", "argument": {"name": "arg1", "value": "pa"}},
        "subscribe": {
            "uri": "test://watched-resource",
            "note": "conformance-backend.mjs accepts the subscription but never updates the resource",
        },
    },
}

URL = sys.argv[1] if len(sys.argv) > 1 else ""
ERA = os.environ.get("ERA") or "legacy"
PREFIX = os.environ.get("PREFIX", "")
MODERN = ERA not in ("legacy", "auto")
CLIENT = "python mcp 2.3.0"

report: dict = {}
seen: dict = {"sampling": [], "elicitation": [], "roots": [], "logs": [], "updates": []}


def err_text(e: BaseException) -> str:
    # anyio task groups wrap failures in ExceptionGroups: report the innermost first error.
    while isinstance(e, BaseExceptionGroup) and e.exceptions:
        e = e.exceptions[0]
    return " ".join(f"{type(e).__name__}: {e}".split())[:500]


def clip(s, n: int = 300):
    return s[:n] + "…" if isinstance(s, str) and len(s) > n else s


def text_of(res) -> str:
    return "\n".join(c.text for c in (res.content or []) if getattr(c, "type", None) == "text")


def via(ctx: ClientRequestContext) -> str:
    # A server->client JSON-RPC request has the server's id (numeric for the TS servers); an
    # input_required entry the SDK fulfils (2026-07-28) has its inputRequests key as id.
    rid = ctx.request_id
    return f"input_required:{rid}" if isinstance(rid, str) else f"request:{rid}"


def content_text(content) -> str:
    for block in content if isinstance(content, list) else [content]:
        if getattr(block, "type", None) == "text":
            return block.text
    return ""


def fill_value(p: dict):
    """A value satisfying one elicitation property schema (primitive-only per the spec)."""
    if p.get("enum"):
        return p["enum"][0]
    options = p.get("oneOf") or p.get("anyOf")
    if options and isinstance(options[0], dict) and "const" in options[0]:
        return options[0]["const"]
    t = p.get("type")
    if t == "boolean":
        return True
    if t in ("number", "integer"):
        v = 7
        if p.get("minimum") is not None:
            v = max(v, p["minimum"])
        if p.get("maximum") is not None:
            v = min(v, p["maximum"])
        return v
    if t == "array":
        items = p.get("items") or {}
        if items.get("enum"):
            return [items["enum"][0]]
        opts = items.get("anyOf") or items.get("oneOf") or []
        return [opts[0]["const"]] if opts and "const" in opts[0] else []
    by_format = {
        "email": "fidelity@example.com",
        "uri": "https://example.com/fidelity",
        "date": "2026-01-01",
        "date-time": "2026-01-01T00:00:00Z",
    }
    s = by_format.get(p.get("format"), "fidelity")
    return s[: p["maxLength"]] if p.get("maxLength") is not None else s


def fill_schema(schema: dict) -> dict:
    props = schema.get("properties") or {}
    return {k: fill_value(props.get(k) or {}) for k in schema.get("required") or []}


async def on_sampling(ctx: ClientRequestContext, params: types.CreateMessageRequestParams):
    first = next((m for m in params.messages if m.role == "user"), None)
    text = content_text(first.content) if first else ""
    seen["sampling"].append({"via": via(ctx), "text": text})
    return types.CreateMessageResult(
        role="assistant",
        content=types.TextContent(type="text", text=f"sampled: {text}"),
        model="fidelity-model",
        stop_reason="endTurn",
    )


async def on_elicitation(ctx: ClientRequestContext, params):
    schema = getattr(params, "requested_schema", None) or {}
    content = fill_schema(schema)
    seen["elicitation"].append({"via": via(ctx), "message": params.message, "content": content})
    return types.ElicitResult(action="accept", content=content)


async def on_roots(ctx: ClientRequestContext):
    seen["roots"].append({"via": via(ctx)})
    return types.ListRootsResult(roots=[types.Root(uri=ROOT["uri"], name=ROOT["name"])])


async def on_log(params: types.LoggingMessageNotificationParams):
    entry = {"level": params.level, "data": params.data}
    if params.logger is not None:
        entry["logger"] = params.logger
    seen["logs"].append(entry)


async def on_message(message):
    if isinstance(message, types.ResourceUpdatedNotification):
        seen["updates"].append(str(message.params.uri))


async def step(name: str, fn) -> None:
    try:
        with anyio.fail_after(STEP_S):
            report[name] = await fn()
    except TimeoutError:
        report[name] = {"ok": False, "detail": {"error": f"{name}: timed out after {STEP_S:.0f} s"}}
    except Exception as e:  # noqa: BLE001 - a failed step never stops the others
        report[name] = {"ok": False, "detail": {"error": err_text(e)}}


async def wait_until(pred, at_least: float, at_most: float) -> None:
    """Sleep at least `at_least` s, then until pred() holds, never longer than `at_most` s."""
    start = time.monotonic()
    while time.monotonic() - start < at_most and (time.monotonic() - start < at_least or not pred()):
        await anyio.sleep(0.1)


async def run() -> None:
    target = URL
    if os.environ.get("MCP_AUTH"):
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        http = create_mcp_http_client(headers={"Authorization": os.environ["MCP_AUTH"]})
        target = streamable_http_client(URL, http_client=http)
    client = Client(
        target,
        mode=ERA,
        read_timeout_seconds=STEP_S,
        sampling_callback=on_sampling,
        elicitation_callback=on_elicitation,
        list_roots_callback=on_roots,
        logging_callback=on_log,
        message_handler=on_message,
        # 2026-07-28 has no logging/setLevel: the level rides in each request's _meta.
        log_level="debug" if MODERN else None,
        client_info=types.Implementation(name="loopgate-fidelity-python", version="1.0.0"),
    )
    async with client:  # connect (initialize is bounded by read_timeout_seconds)
        if MODERN:
            # mode=<version> adopts a synthesized DiscoverResult without any round trip (no capabilities,
            # no instructions): ask the server for the real one. This is also the connect check.
            with anyio.fail_after(STEP_S):
                raw = await client.session.send_discover(client.protocol_version)
                client.session.adopt(types.DiscoverResult.model_validate(raw))
        await plan(client)
        # Report before closing: a slow session teardown must not hold the result back.
        finish()
        reaper = threading.Timer(5, lambda: os._exit(0))
        reaper.daemon = True
        reaper.start()


async def plan(client: Client) -> None:
    async def call(tool: str, args: dict):
        return await client.call_tool(PREFIX + tool, args)

    async def instructions():
        s = client.instructions
        return {"ok": bool(s), "detail": clip(s, 200)}

    async def capabilities():
        caps = client.server_capabilities.model_dump(by_alias=True, mode="json", exclude_none=True)
        return {"ok": bool(caps), "detail": caps}

    tools: list[str] = []

    async def list_tools():
        cursor = None
        while True:  # follow pagination
            page = await client.list_tools(cursor=cursor)
            tools.extend(t.name for t in page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        profile = os.environ.get("PROFILE") or ("conformance" if PREFIX + "test_sampling" in tools else "everything")
        report["summary"] = {"client": CLIENT, "era": ERA, "protocol": client.protocol_version, "profile": profile, "prefix": PREFIX}
        wanted = [PREFIX + s["tool"] for s in PROFILES.get(profile, {}).values() if s.get("tool")]
        missing = [t for t in wanted if t not in tools]
        return {"ok": bool(tools) and not missing, "detail": {"count": len(tools), "names": tools, "missing": missing}}

    await step("instructions", instructions)
    await step("capabilities", capabilities)
    await step("tools", list_tools)
    P = PROFILES.get((report.get("summary") or {}).get("profile"), PROFILES["everything"])

    async def sampling():
        S, before = P["sampling"], len(seen["sampling"])
        res = await call(S["tool"], S["args"])
        text, got = text_of(res), seen["sampling"][before:]
        expected = f"sampled: {got[0]['text']}" if got else "sampled: "
        return {
            "ok": not res.is_error and bool(got) and expected in text,
            "detail": {"tool": PREFIX + S["tool"], "handler": got, "isError": bool(res.is_error), "text": clip(text)},
        }

    async def elicitation():
        E, before = P["elicitation"], len(seen["elicitation"])
        res = await call(E["tool"], E["args"])
        text, got = text_of(res), seen["elicitation"][before:]
        values = [v for g in got for v in g["content"].values() if isinstance(v, str)]
        return {
            "ok": not res.is_error and bool(got) and "accept" in text and bool(values) and all(v in text for v in values),
            "detail": {"tool": PREFIX + E["tool"], "handler": got, "isError": bool(res.is_error), "text": clip(text, 500)},
        }

    async def roots():
        R, before = P["roots"], len(seen["roots"])
        res = await call(R["tool"], R["args"])
        text = text_of(res)
        return {
            "ok": not res.is_error and ROOT["uri"] in text,
            # server-everything may have fetched the roots right after initialize (handler calls then precede this step)
            "detail": {
                "tool": PREFIX + R["tool"],
                "handlerCalls": len(seen["roots"]),
                "handlerCallsDuringStep": seen["roots"][before:],
                "text": clip(text),
            },
        }

    async def logging():
        L = P["logging"]
        how = "_meta io.modelcontextprotocol/logLevel=debug on each request" if MODERN else "logging/setLevel debug"
        if not MODERN:
            await client.set_logging_level("debug")
        before = len(seen["logs"])
        res = await call(L["tool"], L["args"])
        if MODERN and L.get("hold"):
            await call(L["hold"]["tool"], L["hold"]["args"])
        # Collect for `window`; if nothing arrived yet, keep waiting up to `max_window`.
        def matching() -> list:
            return [m for m in seen["logs"][before:] if L["expect"].search(str(m["data"]))]

        await wait_until(lambda: bool(matching()), L["window"], L["max_window"])
        got, matched = seen["logs"][before:], len(matching())
        stopped = None
        if L.get("toggle"):
            try:
                stopped = text_of(await call(L["tool"], L["args"]))
            except Exception as e:  # noqa: BLE001
                stopped = f"stop failed: {err_text(e)}"
        return {
            # Only messages the tool caused count: a stray one (e.g. server-everything's "Roots updated") proves nothing.
            "ok": not res.is_error and matched >= 1,
            "detail": {
                "level": how,
                "tool": PREFIX + L["tool"],
                "isError": bool(res.is_error),
                "count": len(got),
                "matched": matched,
                "sample": got[:3],
                "stopped": clip(stopped, 120),
            },
        }

    async def completion():
        C = P["completion"]
        res = await client.complete(types.PromptReference(name=PREFIX + C["prompt"]), C["argument"])
        values = list(res.completion.values or [])
        return {
            "ok": bool(values),
            "detail": {
                "prompt": PREFIX + C["prompt"],
                "argument": C["argument"],
                "values": values,
                "total": res.completion.total,
                "hasMore": res.completion.has_more,
            },
        }

    async def subscribe():
        S, before = P["subscribe"], len(seen["updates"])
        async with AsyncExitStack() as stack:
            if MODERN:
                sub = await stack.enter_async_context(client.listen(resource_subscriptions=[S["uri"]]))
                how = {"method": "subscriptions/listen", "honored": sub.honored.model_dump(by_alias=True, exclude_none=True)}
            else:
                await client.subscribe_resource(S["uri"])
                how = {"method": "resources/subscribe"}

                async def unsubscribe():
                    with anyio.move_on_after(2):
                        await client.unsubscribe_resource(S["uri"])

                stack.push_async_callback(unsubscribe)
            toggled, trigger_failed = None, False
            try:
                if S.get("tool"):
                    res = await call(S["tool"], {})
                    toggled, trigger_failed = text_of(res), bool(res.is_error)
                if not trigger_failed:
                    await wait_until(lambda: S["uri"] in seen["updates"][before:], 0, SUBSCRIBE_WAIT_S)
            finally:
                if S.get("toggle") and not trigger_failed:
                    with anyio.move_on_after(3):
                        await call(S["tool"], {})
        got = seen["updates"][before:]
        detail = {"uri": S["uri"], **how}
        if S.get("note"):
            detail["note"] = S["note"]
        detail.update(
            trigger=PREFIX + S["tool"] if S.get("tool") else None,
            toggled=clip(toggled, 120),
            updates=len(got),
            waitedMs=int(SUBSCRIBE_WAIT_S * 1000),
        )
        return {"ok": S["uri"] in got, "detail": detail}

    async def protocol():
        v = client.protocol_version
        return {"ok": bool(v), "detail": {"version": v, "era": "modern" if MODERN or v >= "2026" else "legacy"}}

    await step("sampling", sampling)
    await step("elicitation", elicitation)
    await step("roots", roots)
    await step("logging", logging)
    await step("completion", completion)
    await step("subscribe", subscribe)
    await step("protocol", protocol)


_printed = threading.Lock()


def finish(note: str | None = None) -> None:
    if not _printed.acquire(blocking=False):
        return
    summary = report.pop("summary", None) or {"client": CLIENT, "era": ERA}
    steps = dict(report)
    summary["passed"] = [k for k, s in steps.items() if s.get("ok")]
    summary["failed"] = [k for k, s in steps.items() if not s.get("ok")]
    if note:
        summary["note"] = note
    print("RESULT " + json.dumps({**steps, "summary": summary}, separators=(",", ":"), default=str), flush=True)


def main() -> None:
    # Hard stop: whatever happens, print what we have and leave.
    def hard_stop() -> None:
        finish("hard timeout")
        os._exit(0)

    timer = threading.Timer(110, hard_stop)
    timer.daemon = True
    timer.start()
    try:
        asyncio.run(run())
    except BaseException as e:  # noqa: BLE001 - report everything, incl. ExceptionGroup / KeyboardInterrupt
        if not report:  # the connection failed: nothing ran
            print("ERROR " + err_text(e), flush=True)
            sys.exit(1)
        finish(f"aborted: {err_text(e)}")
        sys.exit(0)
    finish()


if __name__ == "__main__":
    main()
