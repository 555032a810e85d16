"""The live deployment panel: steps with timings, a progress bar, the log, notices, and the outcome.

It is a subscriber to an :class:`~aci_widgets.core.operation.Operation` and nothing else: every change comes from
an event. ``follow`` reads the events in the calling thread (blocking mode: the cell runs until the deployment
ends, and each trait change goes out to the browser as it happens); ``watch`` subscribes, so that the updates
come from the operation's own thread (background mode, with a Cancel button).
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable, Iterable

import ipywidgets as widgets
import traitlets

from ..core import events
from ..core.ansi import strip_ansi
from ..core.operation import Operation
from .badge import StateBadge
from .kernel_parent import bind_parent, capture_parent
from .log_view import MAX_LINES, LogView
from .static import StaticFallback
from .step_row import StepRow

MAX_NOTICES = 20
STATIC_LOG_LINES = 40  # the log's tail kept in the static copy (a saved notebook)
TICK = 1.0  # seconds between redraws of the running step's elapsed time when no event arrives
IMAGE_STEPS = (events.REGISTER, events.BUILD)


def steps_for(operation: Operation) -> tuple[str, ...]:
    """The steps an operation goes through: an image build has no service to start."""
    return IMAGE_STEPS if operation.title.startswith("image ") else events.STEPS


class DeploymentProgress(StaticFallback, widgets.VBox):
    """A panel drawing one deployment (or image build) from its events.

    ``state`` is Waiting, then Running, then the operation's final state (Healthy, Succeeded, Failed,
    Cancelled); ``error`` and ``detail`` hold what went wrong (``detail`` is the init() traceback or the
    build's error lines), shown in the panel itself, not only in the log. The log is open while the steps run;
    it folds when the deployment succeeds and stays open when it does not. Displayed, the panel carries a static
    HTML copy of itself, refreshed at its final state, for saved notebooks.
    """

    state = traitlets.Unicode("Waiting")
    error = traitlets.Unicode("")
    detail = traitlets.Unicode("")

    def __init__(self, title: str = "deployment", steps: Iterable[str] = events.STEPS,
                 max_log_lines: int = MAX_LINES) -> None:
        self.heading = title
        self.badge = StateBadge("Waiting")
        self.header = widgets.HTML(self._header_html())
        self.target_line = widgets.HTML("")
        self.rows: dict[str, StepRow] = {step: StepRow(step) for step in steps}
        self.steps_box = widgets.VBox(list(self.rows.values()))
        self.bar = widgets.IntProgress(value=0, min=0, max=len(self.rows), bar_style="info",
                                       layout=widgets.Layout(width="100%"))
        self.notices_html = widgets.HTML("")
        self.error_html = widgets.HTML("", layout=widgets.Layout(display="none"))
        self.log_view = LogView("Log", max_lines=max_log_lines)
        self.cancel_button = widgets.Button(description="Cancel", icon="stop", button_style="warning",
                                            layout=widgets.Layout(display="none"))
        self.cancel_button.on_click(self._on_cancel)
        super().__init__([widgets.HBox([self.header, self.badge, self.cancel_button]), self.target_line,
                          self.steps_box, self.bar, self.notices_html, self.error_html, self.log_view])
        self.notices: list[str] = []
        self.target = ""
        self._started_at: dict[str, float] = {}
        self._cancellable: list[Operation] = []
        self._finished_callbacks: list[Callable[[str], None]] = []
        self._finished = threading.Event()
        self._lock = threading.RLock()

    @classmethod
    def for_operation(cls, operation: Operation, max_log_lines: int = MAX_LINES) -> DeploymentProgress:
        """A panel with the steps this kind of operation goes through, titled after it."""
        return cls(operation.title, steps=steps_for(operation), max_log_lines=max_log_lines)

    # --- driving it --------------------------------------------------------------------------------------

    def follow(self, operation: Operation, final: bool = True) -> None:
        """Draw the operation's events in this thread until it ends (Ctrl-C cancels it, then re-raises).

        The running step's seconds advance at least every ``TICK`` seconds, events or not. ``final=False`` for
        an operation that another follows (an image build before its service): its success is then not the
        panel's final state.
        """
        seen = 0
        try:
            while True:
                for index, event in enumerate(operation.follow(timeout=TICK)):
                    if index >= seen:
                        seen += 1
                        self.apply(event, final=final)
                if operation.done() and seen == len(operation.events):
                    return
                with self._lock:
                    self._tick(time.time())
        except KeyboardInterrupt:
            operation.cancel()
            operation.wait()
            for event in operation.events[seen:]:
                self.apply(event, final=final)
            raise
        finally:
            self.log_view.flush()

    def watch(self, operation: Operation, final: bool = True) -> Callable[[], None]:
        """Subscribe: events are drawn from the operation's thread while the cell is free. Returns unsubscribe.

        The cell's parent request is captured here (main thread) and bound in the worker, so anything the
        worker prints goes to this cell, not to whichever cell runs later (ipykernel 7). A small daemon thread
        advances the running step's seconds until the panel's final state.
        """
        parent = capture_parent()
        # Past events are replayed in this (the cell's) thread, whose parent is right already: only other
        # threads are bound, so nothing here can tie the kernel's own thread to this cell.
        bound: set[int] = {threading.get_ident()}

        def on_event(event: events.Event) -> None:
            if threading.get_ident() not in bound:
                bound.add(threading.get_ident())
                bind_parent(parent)
            self.apply(event, final=final)

        if final:
            threading.Thread(target=self._ticker, name=f"aci-widgets ticker {self.heading}", daemon=True).start()
        with self._lock:  # past events are replayed before any new one is drawn
            return operation.subscribe(on_event)

    def _ticker(self) -> None:
        while not self._finished.wait(TICK):
            with self._lock:
                self._tick(time.time())

    def allow_cancel(self, *operations: Operation) -> None:
        """Show the Cancel button; a click asks each unfinished operation to stop (the target cleans up)."""
        self._cancellable = list(operations)
        if any(not op.done() for op in operations):
            self.cancel_button.layout.display = ""
            self.cancel_button.disabled = False

    def on_finished(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(final_state)`` once the panel reaches its final state (from the drawing thread)."""
        self._finished_callbacks.append(callback)

    def wait_finished(self, timeout: float | None = None) -> bool:
        """Block until the panel has drawn its final state and run its callbacks (``watch`` draws in the worker
        thread, which may still be drawing after ``operation.wait()`` returned). True if it had.

        The static copy is sent again from here: sent from the worker, it belongs to the cell that started the
        deployment, which a notebook runner (nbconvert, nbval) no longer listens to."""
        finished = self._finished.wait(timeout)
        if finished:
            self.update_static()
        return finished

    def note_step(self, step: str, state: str, seconds: float | None = None, message: str = "") -> None:
        """Record a step done outside the operation (e.g. models the magic registered before deploying)."""
        with self._lock:
            row = self._row(step)
            row.state, row.seconds, row.message = state, seconds, message
            self._update_bar()

    # --- drawing -----------------------------------------------------------------------------------------

    def apply(self, event: events.Event, final: bool = True) -> None:
        """Draw one event. Thread-safe; the log is sent in batches, everything else at once."""
        with self._lock:
            if self.state == "Waiting":
                self._set_state("Running")
                self.log_view.expand()
            if isinstance(event, events.LogLine):
                self.log_view.append(event.line if event.source == "build" else f"[{event.source}] {event.line}")
                self._tick(event.at)
                return
            if isinstance(event, events.TargetChosen):
                self.target = event.target
                self.target_line.value = (f"<b>Target:</b> {html.escape(event.target)} "
                                          f'<span style="color:#6b6b6b">({html.escape(event.reason)})</span>')
            elif isinstance(event, events.StepStarted):
                row = self._row(event.step)
                self._started_at[event.step] = event.at
                row.state, row.seconds, row.message = "running", 0.0, event.message
            elif isinstance(event, events.StepFinished):
                row = self._row(event.step)
                row.state, row.seconds = "done", event.seconds
                if event.message:
                    row.message = event.message
            elif isinstance(event, events.StepFailed):
                row = self._row(event.step)
                row.state, row.seconds = "failed", event.seconds
                self._show_error(f"{event.step} failed: {event.error}", event.detail)
            elif isinstance(event, events.Notice):
                self._add_notice(event.message, event.level)
            elif isinstance(event, events.Finished) and (final or event.state in ("Failed", "Cancelled")):
                self._finish(event)
            self._tick(event.at)
            self._update_bar()
            self.log_view.flush()

    def _row(self, step: str) -> StepRow:
        row = self.rows.get(step)
        if row is None:  # a target may report a step of its own
            row = self.rows[step] = StepRow(step)
            self.steps_box.children = tuple(self.rows.values())
            self.bar.max = len(self.rows)
        return row

    def _tick(self, now: float) -> None:
        """Elapsed time of the running step, as of the latest event."""
        for step, row in self.rows.items():
            if row.state == "running" and step in self._started_at:
                row.seconds = max(0.0, now - self._started_at[step])

    def _update_bar(self) -> None:
        self.bar.value = sum(row.state in ("done", "skipped") for row in self.rows.values())

    def _add_notice(self, message: str, level: str) -> None:
        self.notices.append(f"{level.upper()}: {message}")
        del self.notices[:-MAX_NOTICES]
        colour = {"warning": "#c87800", "error": "#d13438"}.get(level, "#0078d4")
        self.notices_html.value = "".join(
            f'<div style="color:{colour}">{html.escape(line)}</div>' for line in self.notices)

    def _show_error(self, error: str, detail: str) -> None:
        self.error = strip_ansi(error)
        if detail:
            self.detail = strip_ansi(detail)
        self.error_html.value = (
            '<div style="border-left:4px solid #d13438;padding:0.3em 0.8em;background:#fdf3f4">'
            f'<b style="color:#d13438">{html.escape(self.error)}</b>'
            + (f'<pre style="white-space:pre-wrap;margin:0.4em 0 0 0">{html.escape(self.detail)}</pre>'
               if self.detail else "") + "</div>")
        self.error_html.layout.display = ""

    def _finish(self, event: events.Finished) -> None:
        ended = {"Failed": "failed", "Cancelled": "cancelled"}.get(event.state, "done")
        for row in self.rows.values():
            if row.state == "running":
                row.state = ended
            elif row.state == "pending":
                row.state = "skipped"
        if event.state == "Failed":
            step_error = self.error
            self._show_error(step_error or event.error, event.detail or self.detail)
        elif event.state == "Cancelled":
            self._add_notice(event.error or "Cancelled.", "warning")
        self.bar.bar_style = {"Failed": "danger", "Cancelled": "warning"}.get(event.state, "success")
        if event.state not in ("Failed", "Cancelled"):
            self.bar.value = self.bar.max
        self.cancel_button.disabled = True
        self.cancel_button.layout.display = "none"
        self._set_state(event.state)
        if self.detail:
            self.log_view.drop_repeated(self.detail, prefix="[service] ")
        self.log_view.flush()
        if event.state in ("Failed", "Cancelled"):
            self.log_view.expand()
        else:
            self.log_view.fold()
        self.update_static()
        for callback in list(self._finished_callbacks):
            try:
                callback(event.state)
            except Exception as exc:  # noqa: BLE001 - the operation would swallow it: show it instead
                self._add_notice(f"after {event.state}: {type(exc).__name__}: {exc}", "error")
        self._finished.set()

    def _set_state(self, state: str) -> None:
        self.state = state
        self.badge.state = state

    def _header_html(self) -> str:
        return f'<b style="font-size:1.1em;margin-right:0.6em">{html.escape(self.heading)}</b>'

    def _on_cancel(self, _button: widgets.Button) -> None:
        self.cancel_button.disabled = True
        self.cancel_button.description = "Cancelling…"
        for operation in self._cancellable:
            operation.cancel()

    # --- the static copy (a saved notebook) --------------------------------------------------------------

    def static_bundle(self) -> dict[str, str]:
        """The panel as HTML (for GitHub, nbviewer without widget state) and as text."""
        with self._lock:
            lines = self.log_view.lines[-STATIC_LOG_LINES:]
            log = html.escape("\n".join(lines))
            failed = self.state in ("Failed", "Cancelled")
            parts = [f"<div>{self.header.value}{self.badge.value}</div>", self.target_line.value,
                     *(row.value for row in self.rows.values()), self.notices_html.value,
                     self.error_html.value if self.error else "",
                     f"<details{' open' if failed else ''}><summary>Log ({self.log_view.total} lines)</summary>"
                     f'<pre style="max-height:20em;overflow:auto;white-space:pre-wrap">{log}</pre></details>'
                     if lines else ""]
            text = [f"{self.heading}: {self.state}", *(row.text() for row in self.rows.values()),
                    *self.notices, *([self.error] if self.error else [])]
        return {"text/html": '<div class="aci-panel">' + "".join(parts) + "</div>", "text/plain": "\n".join(text)}
