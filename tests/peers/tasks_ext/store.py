"""Task state for the SEP-2663 Tasks extension peer: records, the in-memory store, shared helpers.

Part of `tests/peers/tasks-server.py` (see its docstring); `extension.py` builds on it.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from mcp_types import (
    INVALID_PARAMS,
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    ClientCapabilities,
    ElicitResult,
    MissingRequiredClientCapabilityErrorData,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, ValidationError

from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError

logger = logging.getLogger("tasks-server")

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})
DEFAULT_TTL_MS = 10 * 60 * 1000
DEFAULT_POLL_INTERVAL_MS = 500

TaskSupport = Literal["optional", "required"]


def iso_now() -> str:
    """The current UTC time as an ISO-8601 string with millisecond precision."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_modern(ctx: ServerRequestContext[Any, Any]) -> bool:
    """Whether the request arrived on the 2026-07-28 per-request-envelope wire."""
    return ctx.protocol_version in MODERN_PROTOCOL_VERSIONS


def wire(model: BaseModel) -> dict[str, Any]:
    """Dump a pydantic model in its JSON wire form."""
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


def missing_extension_error() -> MCPError:
    """The -32021 error naming the tasks extension as the missing client capability."""
    data = MissingRequiredClientCapabilityErrorData(
        required_capabilities=ClientCapabilities(extensions={TASKS_EXTENSION: {}})
    )
    return MCPError(
        code=MISSING_REQUIRED_CLIENT_CAPABILITY,
        message=f"Missing required client capability: extension {TASKS_EXTENSION!r}",
        data=wire(data),
    )


# --------------------------------------------------------------------------- task state


@dataclass
class PendingInput:
    """One outstanding server-to-client request surfaced through `inputRequests`."""

    request: dict[str, Any]
    future: asyncio.Future[Any]


@dataclass
class TaskRecord:
    """Server-side state of one task: status, timestamps and the inlined outcome."""

    task_id: str
    ttl_ms: int
    poll_interval_ms: int
    created_at: str = field(default_factory=iso_now)
    last_updated_at: str = ""
    created_monotonic: float = field(default_factory=time.monotonic)
    status: str = "working"
    status_message: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    pending: dict[str, PendingInput] = field(default_factory=lambda: {})
    runner: asyncio.Task[None] | None = None
    key_counter: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.last_updated_at = self.last_updated_at or self.created_at

    @property
    def terminal(self) -> bool:
        """Whether the task reached `completed`, `failed` or `cancelled`."""
        return self.status in TERMINAL_STATUSES

    def expired(self) -> bool:
        """Whether the task outlived its TTL and may be discarded."""
        return (time.monotonic() - self.created_monotonic) * 1000 > self.ttl_ms

    def envelope(self) -> dict[str, Any]:
        """The flat `Task` fields shared by CreateTaskResult, tasks/get and notifications."""
        task: dict[str, Any] = {
            "taskId": self.task_id,
            "status": self.status,
            "createdAt": self.created_at,
            "lastUpdatedAt": self.last_updated_at,
            "ttlMs": self.ttl_ms,
            "pollIntervalMs": self.poll_interval_ms,
        }
        if self.status_message:
            task["statusMessage"] = self.status_message
        return task

    def detailed(self) -> dict[str, Any]:
        """The `DetailedTask` variant for the current status (tasks/get, notifications/tasks)."""
        task = self.envelope()
        if self.status == "input_required":
            task["inputRequests"] = {key: pending.request for key, pending in self.pending.items()}
        elif self.status == "completed" and self.result is not None:
            task["result"] = self.result
        elif self.status == "failed" and self.error is not None:
            task["error"] = self.error
        return task


CURRENT_TASK: contextvars.ContextVar[TaskRecord | None] = contextvars.ContextVar("current_task", default=None)
"""The task whose background work is running in this context (None on the synchronous path)."""


class TaskStore:
    """In-memory task registry with status-change listeners.

    Every mutation goes through `_touch`, which stamps `lastUpdatedAt` and
    fans the new DetailedTask out to listeners (the `subscriptions/listen`
    streams). Expired tasks are purged lazily on lookup.
    """

    def __init__(self, ttl_ms: int = DEFAULT_TTL_MS, poll_interval_ms: int = DEFAULT_POLL_INTERVAL_MS) -> None:
        self._tasks: dict[str, TaskRecord] = {}
        self._listeners: dict[object, Callable[[dict[str, Any]], None]] = {}
        self._ttl_ms = ttl_ms
        self._poll_interval_ms = poll_interval_ms

    def create(self) -> TaskRecord:
        """Register a new `working` task; it is visible to tasks/get before this returns."""
        self._purge()
        record = TaskRecord(task_id=str(uuid.uuid4()), ttl_ms=self._ttl_ms, poll_interval_ms=self._poll_interval_ms)
        self._tasks[record.task_id] = record
        return record

    def find(self, task_id: str) -> TaskRecord | None:
        """The live task with this id, or None."""
        self._purge()
        return self._tasks.get(task_id)

    def get(self, task_id: str) -> TaskRecord:
        """The live task with this id; unknown or expired ids are INVALID_PARAMS (-32602)."""
        record = self.find(task_id)
        if record is None:
            raise MCPError(code=INVALID_PARAMS, message="Failed to retrieve task: Task not found", data={"taskId": task_id})
        return record

    def _purge(self) -> None:
        for task_id in [tid for tid, rec in self._tasks.items() if rec.expired()]:
            record = self._tasks.pop(task_id)
            if record.runner is not None and not record.runner.done():
                record.runner.cancel()

    def subscribe(self, listener: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Register a status-change listener; returns its unsubscribe callable."""
        token = object()
        self._listeners[token] = listener

        def unsubscribe() -> None:
            self._listeners.pop(token, None)

        return unsubscribe

    def _touch(self, record: TaskRecord) -> None:
        record.last_updated_at = iso_now()
        snapshot = record.detailed()
        for listener in list(self._listeners.values()):
            try:
                listener(snapshot)
            except Exception:  # one broken stream must not break the task
                logger.exception("task status listener raised")

    def set_status(self, record: TaskRecord, status: str, message: str | None = None) -> None:
        """Move a non-terminal task to another status."""
        if record.terminal:
            return
        record.status = status
        record.status_message = message
        self._touch(record)

    def complete(self, record: TaskRecord, result: dict[str, Any]) -> None:
        """Settle the task as `completed` with the inlined original-request result."""
        if record.terminal:
            return
        record.result = result
        self.set_status(record, "completed")

    def fail(self, record: TaskRecord, error: dict[str, Any]) -> None:
        """Settle the task as `failed` with the JSON-RPC error that ended it."""
        if record.terminal:
            return
        record.error = error
        self.set_status(record, "failed", str(error.get("message") or "failed"))

    def cancel(self, record: TaskRecord) -> None:
        """Settle the task as `cancelled` and stop its background work (idempotent)."""
        if record.terminal:
            return
        for pending in record.pending.values():
            if not pending.future.done():
                pending.future.cancel()
        record.pending.clear()
        self.set_status(record, "cancelled", "Cancelled by tasks/cancel")
        if record.runner is not None and not record.runner.done():
            record.runner.cancel()

    async def request_input(self, record: TaskRecord, requests: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
        """Surface `requests` as `inputRequests` and wait until every one is answered.

        Keys are minted per task (`<name>-<n>`) so none is ever reused over the
        task's lifetime; the answers come back keyed by the caller's names.
        """
        loop = asyncio.get_running_loop()
        minted: dict[str, str] = {}
        for name, request in requests.items():
            key = f"{name}-{next(record.key_counter)}"
            minted[name] = key
            record.pending[key] = PendingInput(request=request, future=loop.create_future())
        futures = {name: record.pending[key].future for name, key in minted.items()}
        self.set_status(record, "input_required", "Waiting for client input")
        try:
            answers = {name: await future for name, future in futures.items()}
        finally:
            for key in minted.values():
                record.pending.pop(key, None)
        if not record.pending:
            self.set_status(record, "working")
        return answers

    def deliver(self, record: TaskRecord, responses: Mapping[str, Any]) -> None:
        """Route `tasks/update` responses to outstanding requests; other keys are ignored."""
        answered = False
        for key, value in responses.items():
            pending = record.pending.get(key)
            if pending is None or pending.future.done():
                continue
            try:
                answer = ElicitResult.model_validate(value, by_name=False)
            except ValidationError as exc:
                raise MCPError(code=INVALID_PARAMS, message=f"inputResponses[{key!r}] is not an ElicitResult") from exc
            del record.pending[key]
            pending.future.set_result(answer)
            answered = True
        if answered:
            if record.pending:
                self._touch(record)
