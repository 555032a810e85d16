"""Operations: events in order, live followers, failures with their detail, cancellation."""

import threading

import pytest

from aci_widgets.core import events
from aci_widgets.core.errors import OperationCancelled, WebserviceException
from aci_widgets.core.operation import Operation


def test_events_are_recorded_in_order_and_followed_live():
    gate = threading.Event()

    def work(report):
        with report.step(events.BUILD, "building"):
            report.log("line 1")
            gate.wait(5)
            report.log("line 2")
        return 42

    op = Operation("image x:1", work).start()
    seen = []
    follower = threading.Thread(target=lambda: seen.extend(op.follow()))
    follower.start()
    gate.set()
    assert op.result(5) == 42
    follower.join(5)
    kinds = [type(e).__name__ for e in seen]
    assert kinds == ["StepStarted", "LogLine", "LogLine", "StepFinished", "Finished"]
    assert seen[-1].state == "Succeeded"
    assert [e.line for e in seen if isinstance(e, events.LogLine)] == ["line 1", "line 2"]


def test_subscribe_replays_past_events():
    op = Operation("x", lambda report: report.notice("hello")).start()
    op.wait(5)
    got = []
    op.subscribe(got.append)
    assert [type(e).__name__ for e in got] == ["Notice", "Finished"]


def test_failure_keeps_message_and_detail():
    def work(report):
        with report.step(events.HEALTH):
            raise WebserviceException("init() failed", "Traceback ... line 7 in init")

    op = Operation("service s", work).start()
    with pytest.raises(WebserviceException):
        op.result(5)
    failed = [e for e in op.events if isinstance(e, events.StepFailed)][0]
    assert failed.step == events.HEALTH
    assert failed.detail == "Traceback ... line 7 in init"
    final = op.events[-1]
    assert (final.state, final.error, final.detail) == ("Failed", "init() failed", "Traceback ... line 7 in init")


def test_unexpected_error_carries_its_traceback():
    op = Operation("x", lambda report: 1 / 0).start()
    op.wait(5)
    assert op.events[-1].error.startswith("ZeroDivisionError")
    assert "Traceback" in op.events[-1].detail


def test_cancel_stops_the_work_at_its_next_check():
    started = threading.Event()

    def work(report):
        started.set()
        while True:
            report.check_cancelled()

    op = Operation("x", work).start()
    started.wait(5)
    op.cancel()
    with pytest.raises(OperationCancelled):
        op.result(5)
    assert op.events[-1].state == "Cancelled"


def test_console_printer_shows_every_step(capsys):
    def work(report):
        report.emit(events.TargetChosen, target="process", reason="test")
        with report.step(events.BUILD):
            report.log("pip says hi")

    op = Operation("image x:1", work).start()
    events.print_events(op)
    out = capsys.readouterr().out
    assert "Target: process (test)" in out
    assert "pip says hi" in out
    assert "build image: done" in out
    assert "image x:1: Succeeded" in out


def test_presenter_can_be_replaced_and_restored():
    shown = []
    previous = events.set_presenter(lambda op: shown.append(op.title))
    try:
        op = Operation("x", lambda report: None).start()
        events.present(op)
    finally:
        events.set_presenter(previous)
    assert shown == ["x"]
    assert events._presenter is previous
