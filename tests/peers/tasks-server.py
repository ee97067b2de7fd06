"""Python SDK (mcp 2.3.0) server implementing the SEP-2663 Tasks extension (`io.modelcontextprotocol/tasks`).

Usage:
  PORT=3411 [MODE=stateful|stateless] [JSON=1] venv/bin/python tasks-server.py
      Streamable HTTP at http://127.0.0.1:$PORT/mcp (logs go to stderr; poll the port for readiness).
      Serves 2026-07-28 per-request traffic and, in `stateful` mode (default), initialize-based
      sessions as well; `stateless` drops Mcp-Session-Id for the handshake era.
  venv/bin/python tasks-server.py stdio        (or MODE=stdio)

The extension (the sibling package `tasks_ext/`) is built on the SDK's `Extension` seam: `tasks/get`, `tasks/update`
and `tasks/cancel` are `MethodBinding`s, and `intercept_tool_call` turns calls to
task-supporting tools into a `CreateTaskResult` whose work runs as a background
asyncio task. Results, errors and pending input requests are kept in an
in-memory store until the task's `ttlMs` elapses. Two small server middlewares
complete the picture where the extension seam stops:

- `subscriptions/listen` with `notifications.taskIds` streams `notifications/tasks`
  (a full DetailedTask per status change) on the 2026-07-28 wire;
- on handshake-era (2025-11-25) sessions the SDK sieves every `tools/call`
  result into a `CallToolResult`, so a `CreateTaskResult` cannot leave an
  interceptor there; a middleware creates those tasks above the sieve instead.

Tools: `greet` (sync only), `slow_compute` (optional), `failing_job` (required),
`protocol_error_job` (optional), `confirm_delete` and `multi_input` (optional,
ask for input while running), `test_tool_with_task` (required; gathers input via
MRTR, then becomes a task).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
from mcp_types import (
    INTERNAL_ERROR,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequiredResult,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp.shared.exceptions import MCPError

# The extension lives in the sibling package `tasks_ext/`; importable from any working directory.
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True  # no __pycache__ next to the peers
from tasks_ext import CURRENT_TASK, TasksExtension, wire  # noqa: E402

# --------------------------------------------------------------------------- server and tools

bus = InMemorySubscriptionBus()
tasks = TasksExtension(bus=bus)
mcp = MCPServer("loopgate-tasks-peer", version="1.0.0", extensions=[tasks], subscriptions=bus, middleware=tasks.middleware())


def _elicit(message: str, properties: dict[str, Any], required: Sequence[str]) -> ElicitRequest:
    """A form-mode `elicitation/create` request."""
    schema = {"type": "object", "properties": properties, "required": list(required)}
    return ElicitRequest(params=ElicitRequestFormParams(message=message, requested_schema=schema))


async def ask(ctx: Context, questions: Mapping[str, ElicitRequest]) -> dict[str, ElicitResult] | InputRequiredResult:
    """Collect one answer per question, whichever way the current call allows.

    Answers already supplied through MRTR (`inputResponses` on this call) are
    used first. Inside a task the rest are surfaced together as the task's
    `inputRequests` (answered by `tasks/update`); on a synchronous 2026-07-28
    call they are returned as an `InputRequiredResult` for the client to retry
    with; on a synchronous handshake-era call they become `elicitation/create`
    requests sent to the client.
    """
    supplied = ctx.input_responses or {}
    answers = {key: value for key, value in supplied.items() if key in questions and isinstance(value, ElicitResult)}
    missing = {key: question for key, question in questions.items() if key not in answers}
    if not missing:
        return answers
    record = CURRENT_TASK.get()
    if record is not None:
        answers.update(await tasks.store.request_input(record, {key: wire(q) for key, q in missing.items()}))
        return answers
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        return InputRequiredResult(input_requests=dict(missing))
    session = ctx.request_context.session
    for key, question in missing.items():
        params = question.params
        assert isinstance(params, ElicitRequestFormParams)
        answers[key] = await session.elicit_form(params.message, params.requested_schema, ctx.request_context.request_id)
    return answers


@mcp.tool()
def greet(name: str) -> str:
    """Say hello (synchronous only; never becomes a task)."""
    return f"Hello, {name}!"


@mcp.tool()
@tasks.task_tool("optional")
async def slow_compute(seconds: float = 1.0, label: str = "") -> str:
    """Sleep for `seconds`, then report; runs as a task for task-aware clients."""
    await anyio.sleep(max(0.0, seconds))
    return f"slow_compute{f' [{label}]' if label else ''} finished after {seconds:g}s"


@mcp.tool()
@tasks.task_tool("required")
async def failing_job() -> str:
    """Fail with a tool execution error after about a second (task support: required)."""
    await anyio.sleep(1.0)
    raise ToolError("failing_job always fails")


@mcp.tool()
@tasks.task_tool("optional")
async def protocol_error_job() -> str:
    """Fail with a JSON-RPC protocol error (a task settles as `failed`)."""
    await anyio.sleep(0.2)
    raise MCPError(code=INTERNAL_ERROR, message="protocol_error_job hit an internal error", data={"tool": "protocol_error_job"})


@mcp.tool(structured_output=False)
@tasks.task_tool("optional")
async def confirm_delete(filename: str, ctx: Context) -> str | InputRequiredResult:
    """Ask the user to confirm, then (pretend to) delete `filename`."""
    answers = await ask(
        ctx,
        {
            "confirm": _elicit(
                f"Delete {filename}?", {"confirm": {"type": "boolean", "description": "Delete the file"}}, ["confirm"]
            )
        },
    )
    if isinstance(answers, InputRequiredResult):
        return answers
    answer = answers["confirm"]
    if answer.action == "accept" and (answer.content or {}).get("confirm", True):
        return f"Deleted {filename}"
    return f"Kept {filename} ({answer.action})"


@mcp.tool(structured_output=False)
@tasks.task_tool("optional")
async def multi_input(ctx: Context) -> str | InputRequiredResult:
    """Ask two questions at once (both pending together), then summarize the answers."""
    answers = await ask(
        ctx,
        {
            "first": _elicit("First value?", {"name": {"type": "string"}, "confirm": {"type": "boolean"}}, ["name"]),
            "second": _elicit("Second value?", {"name": {"type": "string"}, "confirm": {"type": "boolean"}}, ["name"]),
        },
    )
    if isinstance(answers, InputRequiredResult):
        return answers
    names = [str((answers[key].content or {}).get("name", answers[key].action)) for key in ("first", "second")]
    return f"multi_input received: {', '.join(names)}"


@mcp.tool(structured_output=False)
@tasks.task_tool("required", gather_first=["user_name"])
async def test_tool_with_task(ctx: Context) -> str | InputRequiredResult:
    """Ask for `user_name` via MRTR, then finish as a task that greets that user."""
    answers = await ask(ctx, {"user_name": _elicit("What is your name?", {"name": {"type": "string"}}, ["name"])})
    if isinstance(answers, InputRequiredResult):
        return answers
    answer = answers["user_name"]
    name = (answer.content or {}).get("name") if answer.action == "accept" else None
    await anyio.sleep(0.5)
    return f"Hello, {name}! (completed as a task)" if name else f"No name given ({answer.action})"


if __name__ == "__main__":
    mode = "stdio" if sys.argv[1:] == ["stdio"] else os.environ.get("MODE", "stateful")
    if mode == "stdio":
        mcp.run("stdio")
    else:
        mcp.run(
            "streamable-http",
            host="127.0.0.1",
            port=int(os.environ.get("PORT", "3411")),
            stateless_http=mode == "stateless",
            json_response=os.environ.get("JSON", "0") == "1",
        )
