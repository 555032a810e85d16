"""The small parts: state badge, step row, bounded log, and the thread parent binding (ipykernel 7)."""

from widget_helpers import make_operation

from aci_widgets.widgets import kernel_parent
from aci_widgets.widgets.badge import StateBadge
from aci_widgets.widgets.html_cards import COLOURS
from aci_widgets.widgets.log_view import LogView
from aci_widgets.widgets.progress import DeploymentProgress
from aci_widgets.widgets.step_row import StepRow


def test_badge_colour_follows_state():
    badge = StateBadge("Healthy")
    assert COLOURS["Healthy"] in badge.value and "Healthy" in badge.value
    badge.state = "Failed"
    assert COLOURS["Failed"] in badge.value and "Failed" in badge.value


def test_step_row_shows_icon_seconds_and_message():
    row = StepRow("build image")
    assert "○" in row.value and "build image" in row.value
    row.state, row.seconds, row.message = "done", 12.34, "reused <env>"
    assert "✔" in row.value and "12.3 s" in row.value and "reused &lt;env&gt;" in row.value
    row.state = "failed"
    assert "✘" in row.value


def test_log_keeps_only_the_last_lines():
    log = LogView(max_lines=500)
    for i in range(1200):
        log.append(f"line {i}")
    log.flush()
    assert len(log.lines) == 500
    assert log.lines[0] == "line 700" and log.lines[-1] == "line 1199"
    assert log.text.value.splitlines() == log.lines
    assert log.total == 1200
    assert log.get_title(0) == "Log (1200 lines, first 700 dropped)"


def test_a_panels_log_is_bounded_too():
    op = make_operation(log_lines=800).start()
    panel = DeploymentProgress.for_operation(op, max_log_lines=100)
    panel.follow(op)
    assert len(panel.log_view.lines) == 100 and panel.log_view.lines[-1] == "[service] service says hello"


# Binding the cell's parent in the worker thread is tested by what a real kernel sends: see
# tests/magics/test_magic_kernel.py (a background deployment's panel updates belong to its own cell).


def test_outside_a_kernel_nothing_is_captured(monkeypatch):
    monkeypatch.setattr(kernel_parent, "_shell", lambda: None)
    assert kernel_parent.capture_parent() is None
    kernel_parent.bind_parent(None)  # a no-op
