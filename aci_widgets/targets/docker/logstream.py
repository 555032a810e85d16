"""Following a container's output while we wait for it, so that init()'s prints show up as they happen."""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any

from docker.errors import APIError

if TYPE_CHECKING:
    from ...core.operation import Reporter


class LogFollower:
    """Sends each line the container writes to ``report.log(line, "service")`` from a helper thread."""

    def __init__(self, container: Any, report: Reporter, since: float | None = None) -> None:
        self._container = container
        self._report = report
        self._since = since
        self._stream: Any = None
        self._thread = threading.Thread(target=self._run, name=f"logs {container.name}", daemon=True)
        self._opened = threading.Event()

    def start(self) -> LogFollower:
        self._thread.start()
        self._opened.wait(5)
        return self

    def _run(self) -> None:
        partial = b""
        try:
            kwargs = {"since": self._since} if self._since is not None else {}
            self._stream = self._container.logs(stream=True, follow=True, stdout=True, stderr=True, **kwargs)
            self._opened.set()
            for chunk in self._stream:
                partial += chunk
                *lines, partial = partial.split(b"\n")
                for line in lines:
                    self._report.log(line.decode("utf-8", "replace"), "service")
        except (APIError, OSError, ValueError, AttributeError):
            pass  # the container went away or we closed the stream: nothing more to show
        finally:
            self._opened.set()
            if partial:
                self._report.log(partial.decode("utf-8", "replace"), "service")

    def stop(self, drain: bool = False) -> None:
        """Stop following. ``drain``: the container has exited, so let the stream end by itself first."""
        if drain:
            self._thread.join(timeout=3)
        if self._stream is not None:
            with contextlib.suppress(Exception):
                self._stream.close()
        self._thread.join(timeout=3)
