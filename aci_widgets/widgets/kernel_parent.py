"""Route a worker thread's output to the cell that started it (ipykernel 7, ipywidgets #4020).

ipykernel 7 keeps the "parent" request per thread (a ContextVar); a thread that never set one falls back to
whichever cell runs *now*, so output from a background deployment would land in a later cell. Capture the
parent in the main thread, then bind it in the worker before it writes anything.
"""

from __future__ import annotations

import sys
from typing import Any


def _shell() -> Any:
    from IPython import get_ipython

    return get_ipython()


def capture_parent() -> dict[str, Any] | None:
    """The current cell's request (call this in the main thread, while the cell runs); None outside a kernel."""
    getter = getattr(_shell(), "get_parent", None)
    parent = getter() if callable(getter) else None
    return parent if isinstance(parent, dict) and parent.get("header") else None


def bind_parent(parent: dict[str, Any] | None) -> None:
    """In a worker thread: make this thread's prints and displays belong to ``parent``'s cell.

    Only the thread-local parents are set (display publisher, stdout, stderr), so the main thread and other
    cells are not affected. Widget trait updates need none of this: comm messages are routed by comm id.
    """
    if not parent:
        return
    shell = _shell()
    for target in (getattr(shell, "display_pub", None), getattr(shell, "displayhook", None),
                   sys.stdout, sys.stderr):
        setter = getattr(target, "set_thread_parent", None)
        if callable(setter):
            setter(parent)
