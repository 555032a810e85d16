"""Long-running operations, in the manner of the Azure SDK's pollers.

``ContainerImage.create`` and ``Webservice.deploy*`` return at once; their work runs in a thread as an
:class:`Operation` that records every event. ``wait_for_creation`` / ``wait_for_deployment`` follow it, a widget
subscribes to it, and Ctrl-C while waiting cancels it so that the target can undo what it had begun.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import OperationCancelled
from .events import Event, Finished, LogLine, Notice, StepFailed, StepFinished, StepStarted


class Reporter:
    """What a unit of work uses to speak: steps with timings, log lines, notices, and cancellation checks."""

    def __init__(self, operation: Operation) -> None:
        self._op = operation
        # Set by the work that owns a service: records a server's handle the moment it exists.
        self.on_started: Callable[[dict[str, Any]], None] | None = None

    @property
    def operation(self) -> Operation:
        return self._op

    def emit(self, event_type: type[Event], **fields: Any) -> None:
        self._op._record(event_type(operation=self._op.title, **fields))

    @contextlib.contextmanager
    def step(self, name: str, message: str = "") -> Iterator[None]:
        """Time a step; a failure inside it is reported with the step's name and then re-raised."""
        self.check_cancelled()
        self.emit(StepStarted, step=name, message=message)
        started = time.perf_counter()
        try:
            yield
        except BaseException as exc:
            detail = getattr(exc, "detail", "") or ""
            self.emit(StepFailed, step=name, seconds=time.perf_counter() - started,
                      error=_one_line(exc), detail=detail)
            raise
        self.emit(StepFinished, step=name, seconds=time.perf_counter() - started)

    def log(self, line: str, source: str = "build") -> None:
        self.emit(LogLine, source=source, line=line.rstrip("\n"))

    def notice(self, message: str, level: str = "info") -> None:
        self.emit(Notice, message=message, level=level)

    def started(self, handle: dict[str, Any]) -> None:
        """Targets call this with the handle (pid or container id, start token, port if known) right after the
        server exists and before waiting for it to answer, so that whatever interrupts the deployment, something
        can find and stop it. Raises ``OperationCancelled`` if the deployment no longer owns the service: the
        target then stops what it started, as on any failure."""
        if self.on_started is not None:
            self.on_started(handle)

    @property
    def cancelled(self) -> bool:
        return self._op._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._op._cancel.is_set():
            raise OperationCancelled(f"{self._op.title} was cancelled")


_running: dict[str, Operation] = {}
_running_lock = threading.Lock()


def running(key: str) -> Operation | None:
    """The unfinished operation registered under ``key`` in this process (e.g. a service's deployment)."""
    with _running_lock:
        op = _running.get(key)
    return op if op is not None and not op.done() else None


class Operation:
    """Runs ``work(reporter)`` in a thread and keeps its events; any number of followers can read them.

    ``key`` names what it works on (a service, an image), so that another handle on the same thing in this
    process finds the operation with :func:`running`. With a ``journal`` path, every event is also written there
    as one JSON line, so that another process (the Jupyter server's sidebar) can follow it: see :func:`read_journal`.
    """

    def __init__(self, title: str, work: Callable[[Reporter], Any],
                 final_state: Callable[[Any], str] = lambda _: "Succeeded", key: str | None = None,
                 journal: Path | None = None) -> None:
        self.title = title
        self.key = key
        self.journal = journal
        self._journal: IO[str] | None = None
        self._work = work
        self._final_state = final_state
        self._events: list[Event] = []
        self._cond = threading.Condition()
        self._cancel = threading.Event()
        self.cancel_reason: str | None = None  # why, when not the user (e.g. a timeout): the work records it
        self._done = False
        self._settled = False  # done, and every subscriber has seen the last event
        self._result: Any = None
        self._error: BaseException | None = None
        self._subscribers: list[Callable[[Event], None]] = []
        self._thread = threading.Thread(target=self._run, name=f"aci-widgets {title}", daemon=True)

    def start(self) -> Operation:
        if self.key:
            with _running_lock:
                _running[self.key] = self
        if self.journal is not None:
            with contextlib.suppress(OSError):  # following from elsewhere is a convenience: never fail for it
                self.journal.parent.mkdir(parents=True, exist_ok=True)
                self._journal = self.journal.open("w", encoding="utf-8")
        self._thread.start()
        return self

    def _run(self) -> None:
        reporter = Reporter(self)
        try:
            self._result = self._work(reporter)
            state, error, detail = self._final_state(self._result), "", ""
        except OperationCancelled as exc:
            self._error, state, error, detail = exc, "Cancelled", str(exc), ""
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the user through the stream
            self._error, state = exc, "Failed"
            error = _one_line(exc)
            detail = getattr(exc, "detail", "") or ("" if _is_user_error(exc) else traceback.format_exc())
        self._record(Finished(operation=self.title, state=state, error=error, detail=detail), last=True)
        with self._cond:
            self._settled = True
            self._cond.notify_all()
        if self.key:
            with _running_lock:
                if _running.get(self.key) is self:
                    del _running[self.key]

    def _record(self, event: Event, last: bool = False) -> None:
        with self._cond:
            self._events.append(event)
            if self._journal is not None:
                self._write_journal(event, last)
            if last:
                self._done = True
            subscribers = list(self._subscribers)
            self._cond.notify_all()
        for callback in subscribers:
            with contextlib.suppress(Exception):
                callback(event)

    def _write_journal(self, event: Event, last: bool) -> None:
        try:
            line = json.dumps({"type": type(event).__name__, **dataclasses.asdict(event)}, default=str)
            self._journal.write(line + "\n")
            self._journal.flush()
            if last:
                self._journal.close()
                self._journal = None
        except (OSError, ValueError):  # a full disk, a removed workspace: the operation goes on without it
            self._journal = None

    # --- reading -------------------------------------------------------------------------------------------

    @property
    def events(self) -> list[Event]:
        with self._cond:
            return list(self._events)

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback`` for every past and future event (from the worker thread); returns an unsubscribe."""
        with self._cond:
            past = list(self._events)
            self._subscribers.append(callback)
        for event in past:
            callback(event)

        def unsubscribe() -> None:
            with self._cond, contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def follow(self, timeout: float | None = None) -> Iterator[Event]:
        """Yield every event, past and future, until the operation finishes (or ``timeout`` seconds pass)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        index = 0
        while True:
            with self._cond:
                while index >= len(self._events) and not self._done:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return
                    self._cond.wait(0.5 if remaining is None else min(remaining, 0.5))
                batch = self._events[index:]
                index = len(self._events)
                finished = self._done and index == len(self._events)
            yield from batch
            if finished:
                return

    def done(self) -> bool:
        with self._cond:
            return self._done

    def wait(self, timeout: float | None = None) -> bool:
        """Block until done and every subscriber has seen the end; True if it finished.

        Ctrl-C here cancels the operation and waits for its cleanup.
        """
        # Not Thread.join: a KeyboardInterrupt inside join() can mark a still-running thread as stopped
        # (CPython's bpo-45274 handling), after which a second join() returns at once, before the cleanup.
        # Short waits: a SIGINT that lands on another thread is then handled within 0.1 s all the same.
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while not self._settled:
                if deadline is not None and time.monotonic() >= deadline:
                    return False
                with self._cond:
                    self._cond.wait(0.1)
        except KeyboardInterrupt:
            self.cancel()
            while not self._settled:
                with self._cond:
                    self._cond.wait(0.1)
            raise
        return True

    def result(self, timeout: float | None = None) -> Any:
        if not self.wait(timeout):
            raise TimeoutError(f"{self.title} is still running after {timeout} s")
        if self._error is not None:
            raise self._error
        return self._result

    @property
    def error(self) -> BaseException | None:
        return self._error

    def cancel(self, reason: str | None = None) -> None:
        """Ask the work to stop at its next check; the target undoes what it had begun. A ``reason`` (a timeout)
        tells the work to record a failure rather than forget what it was making."""
        if reason is not None and not self._cancel.is_set():
            self.cancel_reason = reason
        self._cancel.set()

    def __repr__(self) -> str:
        return f"<Operation {self.title!r} {'done' if self.done() else 'running'}>"


def read_journal(path: Path) -> list[dict[str, Any]]:
    """The events an operation wrote to its journal, as dicts with their event ``type`` (``[]`` if none).

    A line still being written by the other process is skipped; the next read has it.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    events = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            events.append(json.loads(line))
    return events


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if _is_user_error(exc) else f"{type(exc).__name__}: {text}"


def _is_user_error(exc: BaseException) -> bool:
    from .errors import AciWidgetsError

    return isinstance(exc, AciWidgetsError)
