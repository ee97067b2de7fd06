"""SEP-2663 Tasks extension for the Python SDK (mcp 2.3.0), used by `tests/peers/tasks-server.py`.

`store.py`: task records, the in-memory `TaskStore` and shared helpers;
`extension.py`: `TasksExtension` (tasks/* methods, the tool-call interceptor, middlewares).
"""

from .extension import TasksExtension
from .store import CURRENT_TASK, TaskStore, wire

__all__ = ["CURRENT_TASK", "TaskStore", "TasksExtension", "wire"]
