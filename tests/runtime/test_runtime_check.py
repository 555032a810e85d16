"""``python -m aci_widgets.runtime.check``: one JSON line telling whether score.py works, and where it breaks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from runtime_harness import NUMPY_SCORE, REPO, make_model_dir, runtime_env, write_score


def run_check(score: Path, input_text: str, tmp_path: Path, model_dir: Path | None = None) -> tuple[int, dict]:
    input_file = tmp_path / "input.json"
    input_file.write_text(input_text)
    cmd = [sys.executable, "-m", "aci_widgets.runtime.check", "--score", str(score), "--input-file", str(input_file)]
    if model_dir is not None:
        cmd += ["--model-dir", str(model_dir)]
    proc = subprocess.run(cmd, cwd=REPO, env=runtime_env(), capture_output=True, text=True, timeout=120)
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, (proc.stdout, proc.stderr)
    return proc.returncode, json.loads(lines[0])


def line_of(source: str, marker: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if marker in line)


def test_success_reports_output_and_timings(tmp_path: Path) -> None:
    models = make_model_dir(tmp_path / "models")
    code, report = run_check(NUMPY_SCORE, json.dumps({"data": [[1, 0, 1]]}), tmp_path, models)
    assert code == 0
    assert report["ok"] is True
    assert report["output"] == [[6.0, 8.0]]
    assert report["init_seconds"] >= 0 and report["run_seconds"] >= 0


def test_users_prints_do_not_break_the_one_json_line(tmp_path: Path) -> None:
    score = write_score(
        tmp_path,
        "print('hello from import')\n\ndef init():\n    print('init')\n\ndef run(raw):\n"
        "    print('run')\n    return {'n': len(raw)}\n",
    )
    code, report = run_check(score, "abc", tmp_path)
    assert (code, report["ok"], report["output"]) == (0, True, {"n": 3})


FAILS = {
    "import": "import json\nVALUE = json.loads('{}')['missing']  # <- boom\n\ndef run(raw):\n    return 1\n",
    "init": "def helper():\n    return 1 / 0  # <- boom\n\ndef init():\n    helper()\n\ndef run(raw):\n    return 1\n",
    "run": "import json\n\ndef init():\n    pass\n\ndef run(raw):\n    data = json.loads(raw)\n"
    "    return data['x'] + 1  # <- boom\n",
}
ERRORS = {"import": "KeyError: 'missing'", "init": "ZeroDivisionError: division by zero", "run": "TypeError:"}


@pytest.mark.parametrize("stage", ["import", "init", "run"])
def test_each_failure_stage_points_at_the_users_line(tmp_path: Path, stage: str) -> None:
    score = write_score(tmp_path, FAILS[stage])
    code, report = run_check(score, json.dumps({"x": "not a number"}), tmp_path)
    assert code == 1
    assert report["ok"] is False
    assert report["stage"] == stage
    assert report["error"].startswith(ERRORS[stage])
    assert "Traceback" in report["traceback"]
    assert report["user_line"] == {
        "file": str(score),
        "line": line_of(FAILS[stage], "# <- boom"),
        "code": next(line.strip() for line in FAILS[stage].splitlines() if "# <- boom" in line),
    }


def test_syntax_error_is_an_import_failure_with_its_line(tmp_path: Path) -> None:
    score = write_score(tmp_path, "import json\n\ndef run(raw)\n    return 1\n")
    code, report = run_check(score, "{}", tmp_path)
    assert (code, report["stage"]) == (1, "import")
    assert report["error"].startswith("SyntaxError")
    assert report["user_line"]["line"] == 3
    assert report["user_line"]["code"] == "def run(raw)"


def test_output_json_cannot_encode_is_a_run_failure(tmp_path: Path) -> None:
    score = write_score(tmp_path, "def run(raw):\n    return {1, 2}\n")
    code, report = run_check(score, "{}", tmp_path)
    assert (code, report["ok"], report["stage"]) == (1, False, "run")
    assert "set" in report["error"] and "JSON serializable" in report["error"]
