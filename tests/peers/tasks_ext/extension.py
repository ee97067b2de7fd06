"""The SEP-2663 Tasks extension (`io.modelcontextprotocol/tasks`) on the Python SDK's `Extension` seam.

Part of `tests/peers/tasks-server.py` (see its docstring): `tasks/get`, `tasks/update`
and `tasks/cancel` are `MethodBinding`s, `intercept_tool_call` turns calls to
task-supporting tools into a `CreateTaskResult`, and two server middlewares serve
`subscriptions/listen` task streams and handshake-era task creation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import anyio
from mcp_types import (
    CLIENT_CAPABILITIES_META_KEY,
    HEADER_MISMATCH,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    CallToolRequestParams,
    RequestParams,
    SubscriptionFilter,
    SubscriptionsAcknowledgedNotification,
    SubscriptionsAcknowledgedNotificationParams,
    SubscriptionsListenRequestParams,
)
from mcp_types.methods import serialize_server_result
from pydantic import BaseModel

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding
from mcp.server.subscriptions import InMemorySubscriptionBus, ServerEvent
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import MCP_NAME_HEADER, decode_header_value
from mcp.shared.subscriptions import SUBSCRIPTION_ID_META_KEY, event_matches, event_to_notification

from .store import (
    CURRENT_TASK,
    TASKS_EXTENSION,
    TaskRecord,
    TaskStore,
    TaskSupport,
    is_modern,
    missing_extension_error,
    wire,
)

logger = logging.getLogger("tasks-server")


class TaskIdParams(RequestParams):
    """Params of `tasks/get` and `tasks/cancel`."""

    task_id: str


class UpdateTaskParams(TaskIdParams):
    """Params of `tasks/update`: raw `inputResponses`, validated per outstanding key."""

    input_responses: dict[str, Any]


@dataclass(frozen=True)
class TaskPolicy:
    """How a tool takes part in the tasks extension.

    `support="required"` tools refuse non-declaring clients with -32021.
    `gather_first` names MRTR answers that must arrive (on the 2026-07-28
    wire) before the call is escalated to a task; until then the tool runs
    synchronously and returns its `InputRequiredResult`.
    """

    support: TaskSupport = "optional"
    gather_first: tuple[str, ...] = ()


class TaskStatusNotification(BaseModel):
    """`notifications/tasks`: the full DetailedTask, pushed on a listen stream."""

    method: Literal["notifications/tasks"] = "notifications/tasks"
    params: dict[str, Any]


class TasksExtension(Extension):
    """SEP-2663 Tasks extension for `MCPServer`.

    Usage: decorate task-capable tools with `@tasks.task_tool(...)` (below
    `@mcp.tool()`), pass the instance in `extensions=[...]`, and add
    `tasks.middleware()` to `middleware=[...]`.
    """

    identifier = TASKS_EXTENSION

    def __init__(self, bus: InMemorySubscriptionBus | None = None, store: TaskStore | None = None) -> None:
        self.store = store or TaskStore()
        self.bus = bus
        self._policies: dict[str, TaskPolicy] = {}

    # ---- registration

    def task_tool(
        self, support: TaskSupport = "optional", *, name: str | None = None, gather_first: Sequence[str] = ()
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Mark a tool function as task-capable; returns the function unchanged."""

        def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._policies[name or fn.__name__] = TaskPolicy(support=support, gather_first=tuple(gather_first))
            return fn

        return mark

    def methods(self) -> Sequence[MethodBinding]:
        """`tasks/get`, `tasks/update` and `tasks/cancel` (served at every protocol version)."""
        return (
            MethodBinding("tasks/get", TaskIdParams, self._handle_get),
            MethodBinding("tasks/update", UpdateTaskParams, self._handle_update),
            MethodBinding("tasks/cancel", TaskIdParams, self._handle_cancel),
        )

    def middleware(self) -> list[Any]:
        """Server middlewares completing the extension (listen streams, handshake-era task creation)."""
        return [self._listen_middleware, self._handshake_era_middleware]

    # ---- negotiation helpers

    @staticmethod
    def client_declares(ctx: ServerRequestContext[Any, Any]) -> bool:
        """Whether this request may receive task results.

        True when the connection's capabilities (the initialize handshake, or
        the 2026-07-28 request envelope) list the extension, or when this one
        request opts in through `_meta["io.modelcontextprotocol/clientCapabilities"]`.
        """
        caps = ctx.session.client_capabilities
        if caps is not None and caps.extensions and TASKS_EXTENSION in caps.extensions:
            return True
        meta = (ctx.params or {}).get("_meta")
        per_request = meta.get(CLIENT_CAPABILITIES_META_KEY) if isinstance(meta, Mapping) else None
        extensions = per_request.get("extensions") if isinstance(per_request, Mapping) else None
        return isinstance(extensions, Mapping) and TASKS_EXTENSION in extensions

    def _require_extension(self, ctx: ServerRequestContext[Any, Any]) -> None:
        if not self.client_declares(ctx):
            raise missing_extension_error()

    @staticmethod
    def _check_routing_header(ctx: ServerRequestContext[Any, Any], task_id: str) -> None:
        """SEP-2663 routing header: over HTTP, `Mcp-Name` must equal `params.taskId`.

        Enforced (missing or mismatched -> -32020) on the 2026-07-28 wire, where
        SEP-2243 makes the header mandatory; a handshake-era request is only
        rejected when it carries a header that disagrees.
        """
        headers = getattr(ctx.request, "headers", None)
        if headers is None:
            return
        raw = headers.get(MCP_NAME_HEADER)
        if raw is None and not is_modern(ctx):
            return
        if decode_header_value(raw.strip() if raw is not None else None) != task_id:
            raise MCPError(code=HEADER_MISMATCH, message="Mcp-Name header does not match params.taskId")

    # ---- tasks/* handlers

    async def _handle_get(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        self._require_extension(ctx)
        self._check_routing_header(ctx, params.task_id)
        return {"resultType": "complete", **self.store.get(params.task_id).detailed()}

    async def _handle_update(self, ctx: ServerRequestContext[Any, Any], params: UpdateTaskParams) -> dict[str, Any]:
        self._require_extension(ctx)
        self._check_routing_header(ctx, params.task_id)
        self.store.deliver(self.store.get(params.task_id), params.input_responses)
        return {"resultType": "complete"}

    async def _handle_cancel(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        self._require_extension(ctx)
        self._check_routing_header(ctx, params.task_id)
        self.store.cancel(self.store.get(params.task_id))
        return {"resultType": "complete"}

    # ---- task creation

    def _wants_task(self, policy: TaskPolicy, params: CallToolRequestParams, modern: bool) -> bool:
        """Server-directed choice: become a task once any MRTR pre-round is done.

        The handshake era has no MRTR, so there the task asks for that input itself.
        """
        if not modern or not policy.gather_first:
            return True
        supplied = params.input_responses or {}
        return all(key in supplied for key in policy.gather_first)

    def start_task(self, run: Callable[[], Any], wire_version: str | None = None) -> dict[str, Any]:
        """Create a task, start `run()` (returns the tool result) in the background.

        Returns the flat `CreateTaskResult`. The task is registered before the
        result is built, so an immediate tasks/get resolves. With
        `wire_version`, the eventual `CallToolResult` is shaped for that
        protocol version before it is stored (the SDK only does this for
        results it sends itself).
        """
        record = self.store.create()
        runner = self._drive(record, run, wire_version)
        record.runner = asyncio.get_running_loop().create_task(runner, name=f"task-{record.task_id}")
        return {"resultType": "task", **record.envelope()}

    async def _drive(self, record: TaskRecord, run: Callable[[], Any], wire_version: str | None) -> None:
        """Run the tool for `record` and settle the task from its outcome."""
        CURRENT_TASK.set(record)
        try:
            outcome = await run()
            result = wire(outcome) if isinstance(outcome, BaseModel) else dict(outcome or {})
            if result.get("resultType") == "input_required":
                raise MCPError(code=INTERNAL_ERROR, message="Tool asked for MRTR input after becoming a task")
            if wire_version is not None:
                result = serialize_server_result("tools/call", wire_version, result)
        except asyncio.CancelledError:
            self.store.cancel(record)
            raise
        except MCPError as exc:
            self.store.fail(record, wire(exc.error))
        except Exception:
            logger.exception("task %s crashed", record.task_id)
            self.store.fail(record, {"code": INTERNAL_ERROR, "message": "Internal error while running the task"})
        else:
            self.store.complete(record, result)

    async def intercept_tool_call(
        self,
        params: CallToolRequestParams,
        ctx: ServerRequestContext[Any, Any],
        call_next: CallNext,
    ) -> HandlerResult:
        """Turn a call to a task-capable tool into a `CreateTaskResult` when the client allows it."""
        policy = self._policies.get(params.name)
        if policy is None or CURRENT_TASK.get() is not None:
            return await call_next(ctx)
        if not self.client_declares(ctx):
            if policy.support == "required":
                raise missing_extension_error()
            return await call_next(ctx)  # non-declaring client: plain synchronous ToolResult
        if not is_modern(ctx) or not self._wants_task(policy, params, modern=True):
            # Handshake-era tasks are created by `_handshake_era_middleware` (the SDK would
            # sieve a CreateTaskResult out of this layer's return value on that wire).
            return await call_next(ctx)
        return self.start_task(lambda: call_next(ctx), wire_version=ctx.protocol_version)

    async def _handshake_era_middleware(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Create tasks for handshake-era `tools/call` above the SDK's result sieve.

        The background run re-enters the full chain (params validation, the
        interceptor - which passes through inside a task - and the tool); its
        result is the sieved `CallToolResult` that tasks/get later inlines.
        """
        if ctx.method != "tools/call" or is_modern(ctx) or CURRENT_TASK.get() is not None:
            return await call_next(ctx)
        name = (ctx.params or {}).get("name")
        policy = self._policies.get(name) if isinstance(name, str) else None
        if policy is None or not self.client_declares(ctx):
            return await call_next(ctx)
        return self.start_task(lambda: call_next(ctx))

    # ---- notifications/tasks over subscriptions/listen

    async def _listen_middleware(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Serve `subscriptions/listen` requests that ask for `notifications.taskIds`.

        Other listen requests go to the SDK's handler unchanged. The stream
        acknowledges the honored filter (known task ids only), sends each
        honored task's current DetailedTask, then forwards every status change
        plus the standard bus events the filter asked for.
        """
        if ctx.method != "subscriptions/listen" or not is_modern(ctx):
            return await call_next(ctx)
        raw_filter = (ctx.params or {}).get("notifications")
        wanted = raw_filter.get("taskIds") if isinstance(raw_filter, Mapping) else None
        if not wanted:
            return await call_next(ctx)
        params = SubscriptionsListenRequestParams.model_validate(ctx.params or {}, by_name=False)
        if not isinstance(wanted, list) or not all(isinstance(t, str) for t in wanted):
            raise MCPError(code=INVALID_PARAMS, message="notifications.taskIds must be an array of strings")
        self._require_extension(ctx)
        if ctx.request_id is None:
            raise MCPError(code=INVALID_PARAMS, message="subscriptions/listen requires a request id")

        requested = params.notifications
        task_ids = [task_id for task_id in dict.fromkeys(wanted) if self.store.find(task_id) is not None]
        honored = SubscriptionFilter(
            tools_list_changed=True if requested.tools_list_changed else None,
            prompts_list_changed=True if requested.prompts_list_changed else None,
            resources_list_changed=True if requested.resources_list_changed else None,
            resource_subscriptions=list(requested.resource_subscriptions) if requested.resource_subscriptions else None,
            **{"taskIds": task_ids},
        )
        honored_uris = frozenset(honored.resource_subscriptions or ())
        meta: dict[str, Any] = {SUBSCRIPTION_ID_META_KEY: ctx.request_id}
        send, recv = anyio.create_memory_object_stream[ServerEvent | dict[str, Any]](256)

        def push(item: ServerEvent | dict[str, Any]) -> None:
            try:
                send.send_nowait(item)
            except anyio.WouldBlock:
                logger.warning("listen stream %r backlog full; ending it", ctx.request_id)
                send.close()
            except anyio.ClosedResourceError:
                pass

        def on_task(snapshot: dict[str, Any]) -> None:
            if snapshot["taskId"] in task_ids:
                push(snapshot)

        def on_event(event: ServerEvent) -> None:
            if event_matches(honored, honored_uris, event):
                push(event)

        unsubscribers = [self.store.subscribe(on_task)]
        if self.bus is not None:
            unsubscribers.append(self.bus.subscribe(on_event))
        try:
            await ctx.session.send_notification(
                SubscriptionsAcknowledgedNotification(
                    params=SubscriptionsAcknowledgedNotificationParams(notifications=honored, _meta=meta)
                ),
                related_request_id=ctx.request_id,
            )
            for task_id in task_ids:
                record = self.store.find(task_id)
                if record is not None:
                    push(record.detailed())
            async with recv:
                async for item in recv:
                    if isinstance(item, dict):
                        notification: Any = TaskStatusNotification(params={**item, "_meta": meta})
                    else:
                        notification = event_to_notification(item, meta)
                    await ctx.session.send_notification(notification, related_request_id=ctx.request_id)
        finally:
            for unsubscribe in unsubscribers:
                unsubscribe()
            send.close()
        return {"resultType": "complete", "_meta": meta}
