"""An init() that raises: with show_output=True its traceback is on screen once (the printer), without it once
(the exception's message); the exception's .detail always holds it. A missing model file adds one hint line."""

from __future__ import annotations

import io
import textwrap

import pytest

from aci_widgets.core import AciWebservice, ContainerImage, Webservice, WebserviceException

BROKEN = textwrap.dedent("""
    import numpy as np


    def init():
        global model
        model = np.load("weights.npy")  # relative: not where the runtime puts models


    def run(raw_data):
        return raw_data
""")
USER_LINE = 'model = np.load("weights.npy")'


def _deploy(ws, numpy_model, name: str) -> Webservice:
    (numpy_model / "score.py").write_text(BROKEN)
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python", conda_file="myenv.yml")
    return Webservice.deploy(ws, name, ["weights.npy"], config, AciWebservice.deploy_configuration())


def test_with_show_output_the_traceback_is_printed_once_and_kept_in_the_exception(ws, numpy_model, capsys):
    service = _deploy(ws, numpy_model, "broken-shown")
    with pytest.raises(WebserviceException) as info:
        service.wait_for_deployment(show_output=True)
    printed = capsys.readouterr().out
    assert printed.count(USER_LINE) == 1, printed
    assert printed.count("Hint: load model files with Model.get_model_path") == 1, printed
    assert printed.count("Traceback (most recent call last)") == 1, printed
    assert USER_LINE not in str(info.value) and "shown above" in str(info.value)
    assert USER_LINE in info.value.detail and "Hint: load model files" in info.value.detail
    assert service.state == "Failed"


def test_without_show_output_the_exception_shows_it_once(ws, numpy_model, capsys):
    service = _deploy(ws, numpy_model, "broken-quiet")
    with pytest.raises(WebserviceException) as info:
        service.wait_for_deployment()
    assert capsys.readouterr().out == ""
    message = str(info.value)
    assert message.count(USER_LINE) == 1 and message.count("Traceback (most recent call last)") == 1, message
    assert message.count("Hint: load model files with Model.get_model_path") == 1, message
    assert message.splitlines()[-1].startswith("Hint: load model files"), message


# -- the printer, on a streamed traceback (the Docker target streams the server's stderr) ---------------------------

TRACEBACK = 'Traceback (most recent call last):\n  File "score.py", line 3, in init\n    boom()\nValueError: boom'


def _printed(work) -> str:
    from aci_widgets.core import events
    from aci_widgets.core.operation import Operation

    out = io.StringIO()
    events.print_events(Operation("service x", work).start(), out)
    return out.getvalue()


def test_a_streamed_traceback_that_the_failure_repeats_is_printed_once():
    def work(report):
        with report.step("wait for health"):
            for line in TRACEBACK.splitlines():
                report.log(line, source="service")
            report.log("ERROR runtime: score.py failed at init", source="service")
            raise WebserviceException("init() failed: ValueError: boom", TRACEBACK)

    text = _printed(work)
    assert text.count("    boom()") == 1 and text.count("Traceback (most recent call last)") == 1, text
    assert "  | ERROR runtime: score.py failed at init\n" in text  # a log line the detail does not hold stays
    assert text.count("init() failed: ValueError: boom") == 1, text  # the FAILED line; the end does not repeat it


def test_a_streamed_traceback_of_a_step_that_succeeds_is_printed_in_full():
    def work(report):
        with report.step("wait for health"):
            for line in TRACEBACK.splitlines():
                report.log(line, source="service")

    text = _printed(work)
    assert "\n".join(f"  | {line}" for line in TRACEBACK.splitlines()) in text, text
    assert text.index("  | ValueError: boom") < text.index("wait for health: done")
