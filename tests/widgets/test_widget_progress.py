"""The deployment panel, driven by real Operations and by real deployments on the process target."""

import threading

import pytest
from widget_helpers import make_operation, wait_until

from aci_widgets.core import AciWebservice, ContainerImage, Webservice, events
from aci_widgets.widgets.progress import DeploymentProgress

TRACEBACK = ('Traceback (most recent call last):\n  File "score.py", line 7, in init\n    scale = 1 / 0\n'
             "ZeroDivisionError: division by zero\n")


def states(panel):
    return {step: row.state for step, row in panel.rows.items()}


def test_a_successful_operation_ends_healthy_with_every_step_done():
    op = make_operation().start()
    panel = DeploymentProgress.for_operation(op)
    panel.follow(op)
    assert states(panel) == dict.fromkeys(events.STEPS, "done")
    assert all(row.seconds is not None and row.seconds >= 0 for row in panel.rows.values())
    assert "✔" in panel.rows[events.BUILD].value and " s" in panel.rows[events.BUILD].value
    assert panel.state == panel.badge.state == "Healthy"
    assert "Healthy" in panel.badge.value
    assert panel.bar.value == panel.bar.max == 4 and panel.bar.bar_style == "success"
    assert panel.target == "process" and "chosen by the test" in panel.target_line.value
    assert panel.notices == ["INFO: environment reused"]
    assert panel.log_view.lines == ["build line 0", "build line 1", "[service] service says hello"]
    assert panel.log_view.text.value.splitlines() == panel.log_view.lines
    assert panel.error == "" and panel.error_html.layout.display == "none"


def test_a_failure_shows_the_error_and_the_traceback_in_the_panel_itself():
    op = make_operation(fail_at=events.HEALTH, detail=TRACEBACK).start()
    panel = DeploymentProgress.for_operation(op)
    panel.follow(op)
    assert states(panel) == {events.REGISTER: "done", events.BUILD: "done", events.START: "done",
                             events.HEALTH: "failed"}
    assert panel.state == "Failed" and panel.bar.bar_style == "danger"
    assert panel.error == "wait for health failed: init() failed in score.py: ZeroDivisionError: division by zero"
    assert panel.detail == TRACEBACK
    assert panel.error_html.layout.display == ""
    assert "scale = 1 / 0" in panel.error_html.value and "ZeroDivisionError" in panel.error_html.value
    assert "scale = 1 / 0" not in panel.log_view.text.value  # not hidden in the log: it was never there


def test_steps_never_reached_are_marked_skipped():
    op = make_operation(fail_at=events.BUILD, detail="pip: no matching distribution").start()
    panel = DeploymentProgress.for_operation(op)
    panel.follow(op)
    assert states(panel) == {events.REGISTER: "done", events.BUILD: "failed", events.START: "skipped",
                             events.HEALTH: "skipped"}
    assert panel.detail == "pip: no matching distribution"


def test_updates_reach_the_browser_while_the_operation_still_runs(comm_log):
    """Blocking mode: the panel is drawn in the main thread while the worker waits until it sees that."""
    panel = DeploymentProgress("service live")

    def work(report):
        with report.step(events.BUILD):
            wait_until(lambda: panel.rows[events.BUILD].state == "running", "the panel drew the running build")

    from aci_widgets.core.operation import Operation

    op = Operation("service live", work, final_state=lambda _: "Healthy")
    comm_log.probe = op.done
    op.start()
    panel.follow(op)
    sent = comm_log.updates(panel.rows[events.BUILD])
    assert any("aci-spinner" in state.get("value", "") and done is False for state, done in sent)
    assert any("✔" in state.get("value", "") for state, _ in sent)
    badge = comm_log.updates(panel.badge)
    assert any("Running" in state.get("value", "") and done is False for state, done in badge)


def test_watch_draws_from_the_worker_thread_and_shows_intermediate_states():
    gate = threading.Event()
    op = make_operation(gate=gate).start()
    panel = DeploymentProgress.for_operation(op)
    panel.watch(op)
    wait_until(lambda: panel.rows[events.BUILD].state == "running", "build running")
    assert panel.rows[events.REGISTER].state == "done"
    assert panel.rows[events.START].state == "pending"
    assert panel.state == "Running" and panel.bar.value == 1
    gate.set()
    assert panel.wait_finished(60)  # the worker draws; op.wait() may return before it has
    assert panel.state == "Healthy"
    assert states(panel) == dict.fromkeys(events.STEPS, "done")


def test_cancel_button_cancels_the_operation():
    gate = threading.Event()
    op = make_operation(gate=gate).start()
    panel = DeploymentProgress.for_operation(op)
    panel.watch(op)
    panel.allow_cancel(op)
    assert panel.cancel_button.layout.display == ""
    wait_until(lambda: panel.rows[events.BUILD].state == "running", "build running")
    panel.cancel_button.click()
    assert panel.wait_finished(60)
    assert panel.state == "Cancelled"
    assert panel.rows[events.BUILD].state == "failed"  # the step saw the cancellation as its failure
    assert panel.rows[events.HEALTH].state == "skipped"
    assert panel.cancel_button.disabled and panel.cancel_button.layout.display == "none"


def test_an_image_operation_followed_before_its_service_does_not_end_the_panel():
    image_op = make_operation("image demo:1").start()
    service_op = make_operation("service demo").start()
    panel = DeploymentProgress("service demo")
    panel.follow(image_op, final=False)
    assert panel.state == "Running"
    panel.follow(service_op)
    assert panel.state == "Healthy"


def test_finished_callbacks_get_the_final_state():
    op = make_operation(fail_at=events.START).start()
    panel = DeploymentProgress.for_operation(op)
    seen = []
    panel.on_finished(seen.append)
    panel.follow(op)
    assert seen == ["Failed"]


def test_steps_a_target_adds_get_their_own_row():
    from aci_widgets.core.operation import Operation

    def work(report):
        with report.step("push image"):
            pass

    op = Operation("service extra", work).start()
    panel = DeploymentProgress.for_operation(op)
    panel.follow(op)
    assert list(panel.rows)[-1] == "push image" and panel.rows["push image"].state == "done"
    assert panel.bar.max == 5


# --- real deployments --------------------------------------------------------------------------------------

def _deploy(ws, name):
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python",
                                                conda_file="myenv.yml")
    return Webservice.deploy(ws, name, ["weights.npy"], config, AciWebservice.deploy_configuration())


def test_a_real_deployment_drives_the_panel_to_healthy(ws, numpy_model):
    service = _deploy(ws, "panel-ok")
    panel = DeploymentProgress.for_operation(service.operation)
    panel.follow(service.operation)
    assert states(panel) == dict.fromkeys(events.STEPS, "done")
    assert panel.state == "Healthy" and panel.target == "process"
    assert any("ready on" in line for line in panel.log_view.lines)


@pytest.mark.parametrize("mode", ["follow", "watch"])
def test_a_real_init_failure_puts_the_users_traceback_in_the_panel(ws, numpy_model, mode):
    (numpy_model / "score.py").write_text("def init():\n    global scale\n    scale = 1 / 0\n\n"
                                          "def run(raw_data):\n    return scale\n")
    service = _deploy(ws, f"panel-bad-{mode}")
    panel = DeploymentProgress.for_operation(service.operation)
    if mode == "follow":
        panel.follow(service.operation)
    else:
        panel.watch(service.operation)
        assert panel.wait_finished(300)
    assert panel.rows[events.HEALTH].state == "failed"
    assert panel.rows[events.BUILD].state == "done"
    assert panel.state == "Failed"
    assert "init() failed in score.py: ZeroDivisionError: division by zero" in panel.error
    assert "scale = 1 / 0" in panel.detail and 'line 3, in init' in panel.detail
    assert "scale = 1 / 0" in panel.error_html.value and panel.error_html.layout.display == ""
    # shown once: the server log's copy of the traceback is dropped from the open log, the rest of the log stays
    assert "scale = 1 / 0" not in panel.log_view.text.value
    assert panel.log_view.expanded and panel.log_view.lines


@pytest.mark.parametrize("mode", ["follow", "watch"])
def test_the_running_steps_seconds_advance_without_events(mode):
    """A quiet step (init() loading a big model) still shows its time passing, in both modes."""
    from aci_widgets.core.operation import Operation

    panel = DeploymentProgress("service quiet")

    def work(report):
        with report.step(events.HEALTH):  # no event is emitted until the panel has counted past a second
            wait_until(lambda: (panel.rows[events.HEALTH].seconds or 0) >= 1.0, "the seconds advanced")

    op = Operation("service quiet", work, final_state=lambda _: "Healthy").start()
    if mode == "follow":
        panel.follow(op)
    else:
        panel.watch(op)
        assert panel.wait_finished(60)
    assert panel.rows[events.HEALTH].state == "done"
    assert sum(isinstance(e, events.LogLine) for e in op.events) == 0
