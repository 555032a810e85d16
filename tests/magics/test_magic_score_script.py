"""%%score_script: write, check the shape, and run init() + run() once in a fresh process."""

import pytest
from IPython.core.error import UsageError

from aci_widgets.core import Model


@pytest.fixture
def numpy_score(numpy_model):
    """The text of the numpy_model fixture's score.py (tests/conftest.py's numpy_score)."""
    return (numpy_model / "score.py").read_text()


BROKEN_INIT = '''\
import numpy as np


def init():
    global weights
    weights = np.load("weights.npy")
    scale = 1 / 0


def run(raw_data):
    return 1
'''


def test_writes_the_cell_and_says_it_is_fine(ip, workdir, capsys, numpy_score):
    result = ip.run_cell_magic("score_script", "", numpy_score)
    assert result is None
    assert (workdir / "score.py").read_text() == numpy_score
    out = capsys.readouterr().out
    assert out.strip() == "Wrote score.py: it compiles and defines init() and run(raw_data)."


def test_writes_to_the_path_given(ip, workdir, numpy_score):
    other = numpy_score.replace("weights.npy", "other.npy")
    ip.run_cell_magic("score_script", "other.py", other)
    assert (workdir / "other.py").read_text() == other
    assert (workdir / "score.py").read_text() == numpy_score  # untouched


@pytest.mark.parametrize(("source", "message"), [
    ("def init():\n    pass\n\ndef run(raw_data)\n    return 1\n", "score.py line 4: SyntaxError"),
    ("def init():\n    pass\n", "score.py defines no run(raw_data)."),
    ("def run(raw_data):\n    return 1\n", "score.py defines no init()"),
    ("def init(model):\n    pass\n\ndef run(raw_data):\n    return 1\n", "init() must take no arguments (line 1)"),
    ("def init():\n    pass\n\ndef run():\n    return 1\n", "run() must take exactly one argument"),
])
def test_shape_mistakes_are_one_line_usage_errors(ip, workdir, source, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ip.run_cell_magic("score_script", "", source)
    assert (workdir / "score.py").read_text() == source  # written anyway, as %%writefile would


def test_runs_init_and_run_with_a_model_file(ip, numpy_model, numpy_score):
    report = ip.run_cell_magic("score_script", "--test-model weights.npy --test-input '{\"data\": [[1, 1, 1]]}'",
                               numpy_score)
    assert report.ok, repr(report)
    assert report.report["output"] == [6.0]
    assert report.report["init_seconds"] >= 0 and report.report["run_seconds"] >= 0
    text = repr(report)
    assert text.startswith("OK: init() took ")
    assert "output: [6.0]" in text
    assert "models: weights.npy (file)" in text
    assert "[6.0]" in report._repr_html_()


def test_input_can_be_an_expression_of_the_notebook_or_a_file(ip, numpy_model, numpy_score):
    ip.user_ns["rows"] = [[1, 0, 0], [0, 0, 1]]
    report = ip.run_cell_magic("score_script", "--test-model weights.npy --test-input '{\"data\": rows}'",
                               numpy_score)
    assert report.report["output"] == [1.0, 3.0]
    (numpy_model / "request.json").write_text('{"data": [[0, 1, 0]]}')
    report = ip.run_cell_magic("score_script", "--test-model weights.npy --test-input request.json", numpy_score)
    assert report.report["output"] == [2.0]


def test_a_registered_model_is_laid_out_by_name_and_version(ip, ws, numpy_model, numpy_score):
    Model.register(ws, "weights.npy", "weights.npy")
    (numpy_model / "weights.npy").unlink()  # only the registry has it now
    report = ip.run_cell_magic("score_script", "--test-model weights.npy:1 --test-input '{\"data\": [[1, 1, 1]]}'",
                               numpy_score)
    assert report.ok, repr(report)
    assert report.models == ["weights.npy:1"]
    assert report.report["output"] == [6.0]


def test_a_broken_init_shows_the_traceback_with_the_users_line(ip, numpy_model):
    report = ip.run_cell_magic("score_script", "--test-model weights.npy --test-input '{\"data\": [[1, 1, 1]]}'",
                               BROKEN_INIT)
    assert not report.ok
    assert report.report["stage"] == "init"
    assert report.user_line["line"] == 7
    assert report.user_line["code"] == "scale = 1 / 0"
    text = repr(report)
    assert text.startswith("init() failed: ZeroDivisionError: division by zero")
    assert "--> score.py, line 7: scale = 1 / 0" in text
    marked = [line for line in text.splitlines() if line.startswith("--> File ")]
    assert len(marked) == 1 and "line 7, in init" in marked[0]
    assert "Traceback (most recent call last)" in text
    assert "scale = 1 / 0" in report._repr_html_()


def test_a_failing_run_is_reported_at_the_run_stage(ip, numpy_model, numpy_score):
    report = ip.run_cell_magic("score_script", "--test-model weights.npy --test-input '{\"rows\": []}'",
                               numpy_score)
    assert not report.ok
    assert report.report["stage"] == "run"
    assert "KeyError" in report.headline()
    assert report.user_line["code"] == 'data = np.array(json.loads(raw_data)["data"])'


def test_test_model_without_test_input_is_a_usage_error(ip, numpy_model, numpy_score):
    with pytest.raises(UsageError, match="--test-model needs --test-input"):
        ip.run_cell_magic("score_script", "--test-model weights.npy", numpy_score)


def test_unknown_test_model_is_a_usage_error(ip, numpy_model, numpy_score):
    with pytest.raises(UsageError, match="'nosuch' is neither a file"):
        ip.run_cell_magic("score_script", "--test-model nosuch --test-input '{}'", numpy_score)
