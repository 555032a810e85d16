"""An operation's journal: every event as a JSON line, readable by another process while it is being written."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from aci_widgets.core.operation import Operation, read_journal


def test_events_are_written_as_they_happen_and_read_from_another_process(tmp_path: Path) -> None:
    journal = tmp_path / "operations" / "svc.jsonl"
    proceed = threading.Event()

    def work(report) -> str:  # noqa: ANN001 - a Reporter
        with report.step("build image", "numpy"):
            report.log("collecting numpy")
            proceed.wait(30)
        return "done"

    op = Operation("service svc", work, journal=journal).start()
    seen = _read_elsewhere(journal, until="LogLine")  # the work is held inside its step meanwhile
    assert [e["type"] for e in seen] == ["StepStarted", "LogLine"]
    assert seen[0] | {"at": 0} == {"type": "StepStarted", "operation": "service svc", "step": "build image",
                                   "message": "numpy", "at": 0}
    proceed.set()
    assert op.result(30) == "done"
    final = _read_elsewhere(journal, until="Finished")
    assert [e["type"] for e in final] == ["StepStarted", "LogLine", "StepFinished", "Finished"]
    assert final[-1]["state"] == "Succeeded" and final == read_journal(journal)


def _read_elsewhere(journal: Path, until: str) -> list[dict]:
    """The journal as another process reads it, once it holds an event of type ``until`` (polling the file)."""
    code = ("import json, sys, time, pathlib\n"
            "from aci_widgets.core.operation import read_journal\n"
            "path, end = pathlib.Path(sys.argv[1]), time.monotonic() + 30\n"
            "while not any(e['type'] == sys.argv[2] for e in read_journal(path)) and time.monotonic() < end:\n"
            "    time.sleep(0.02)\n"
            "print(json.dumps(read_journal(path)))\n")
    result = subprocess.run([sys.executable, "-c", code, str(journal), until], capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout)


def test_a_new_operation_rewrites_the_journal_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    journal = tmp_path / "svc.jsonl"
    Operation("first", lambda report: report.notice("one"), journal=journal).start().result(30)
    Operation("second", lambda report: None, journal=journal).start().result(30)
    assert [e["operation"] for e in read_journal(journal)] == ["second"]
    with journal.open("a") as out:
        out.write('{"type": "Notice", "operat')  # what a reader can meet while the writer is mid-line
    assert [e["type"] for e in read_journal(journal)] == ["Finished"]
    assert read_journal(tmp_path / "missing.jsonl") == []


def test_without_a_journal_nothing_is_written(tmp_path: Path) -> None:
    Operation("quiet", lambda report: report.notice("x")).start().result(30)
    assert list(tmp_path.iterdir()) == []
