"""Helpers of the widget tests (imported by name: tests/widgets is put on sys.path by its conftest)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from support import wait_until  # noqa: F401 - the suite's one waiting helper, re-exported for the widget tests

from aci_widgets.core import events
from aci_widgets.core.operation import Operation, Reporter


class CommLog:
    """Every message widgets send, with what ``probe()`` said at that moment (e.g. "was the operation done?")."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, Any], Any]] = []
        self.probe: Callable[[], Any] = lambda: None
        self._lock = threading.Lock()

    def create(self, *args: Any, **kwargs: Any) -> RecordingComm:
        return RecordingComm(self, kwargs.get("comm_id") or uuid.uuid4().hex)

    def record(self, comm_id: str, data: dict[str, Any]) -> None:
        with self._lock:
            self.messages.append((comm_id, data, self.probe()))

    def updates(self, widget: Any) -> list[tuple[dict[str, Any], Any]]:
        """The state updates sent for ``widget``, each with its probe value."""
        return [(data["state"], probed) for comm_id, data, probed in list(self.messages)
                if comm_id == widget.comm.comm_id and data.get("method") == "update"]


class RecordingComm:
    kernel = "Truthy"  # widgets send state only over a comm that has a kernel

    def __init__(self, log: CommLog, comm_id: str) -> None:
        self.log = log
        self.comm_id = comm_id

    def open(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_msg(self, *args: Any, **kwargs: Any) -> None:
        pass

    def close(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send(self, data: dict[str, Any] | None = None, metadata: Any = None, buffers: Any = None) -> None:
        self.log.record(self.comm_id, data or {})


def make_operation(title: str = "service demo", fail_at: str | None = None, detail: str = "",
                   gate: threading.Event | None = None, log_lines: int = 2) -> Operation:
    """A real Operation going through the four steps, optionally failing at one, optionally pausing in BUILD."""
    from aci_widgets.core import WebserviceException

    def work(report: Reporter) -> None:
        report.emit(events.TargetChosen, target="process", reason="chosen by the test")
        for step in events.STEPS:
            with report.step(step, f"doing {step}"):
                if step == events.BUILD:
                    for i in range(log_lines):
                        report.log(f"build line {i}")
                    report.notice("environment reused")
                    if gate is not None:
                        while not gate.wait(0.05):
                            report.check_cancelled()
                if step == events.HEALTH:
                    report.log("service says hello", source="service")
                if step == fail_at:
                    raise WebserviceException("init() failed in score.py: ZeroDivisionError: division by zero",
                                              detail)

    return Operation(title, work, final_state=lambda _: "Healthy")
