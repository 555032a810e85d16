"""notebooks/conftest.py and nbval-sanitize.cfg, proven on a small notebook run by a real nbval in a subprocess.

The stored outputs differ from what the cells print in exactly the ways the plumbing must absorb (a port, a
widget view with another model id and another repr); a third cell's stored output is plain wrong in one variant,
which must fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
CHECK = {"tags": ["nbval-check-output"]}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _notebook(last_stored: str) -> nbformat.NotebookNode:
    port_cell = new_code_cell(
        "import socket\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\n"
        "print(f'service at http://127.0.0.1:{s.getsockname()[1]}/score')\ns.close()",
        metadata=CHECK, execution_count=1,
        outputs=[new_output("stream", name="stdout", text="service at http://127.0.0.1:1/score\n")])
    widget_cell = new_code_cell(
        "import ipywidgets\nipywidgets.IntSlider(value=3)", metadata=CHECK, execution_count=2,
        outputs=[new_output("execute_result", execution_count=2, data={
            "text/plain": "IntSlider(value=5)",
            WIDGET_VIEW: {"model_id": "0" * 32, "version_major": 2, "version_minor": 0}})])
    state_cell = new_code_cell("print('Healthy')", metadata=CHECK, execution_count=3,
                               outputs=[new_output("stream", name="stdout", text=f"{last_stored}\n")])
    nb = new_notebook(cells=[port_cell, widget_cell, state_cell])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _run_nbval(folder: Path, last_stored: str, plumbing: bool) -> subprocess.CompletedProcess[str]:
    folder.mkdir()
    nbformat.write(_notebook(last_stored), folder / "check.ipynb")
    args = [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q", "--color=no",
            f"--rootdir={folder}", "check.ipynb"]
    if plumbing:
        shutil.copy(NOTEBOOK_DIR / "conftest.py", folder / "conftest.py")
        shutil.copy(NOTEBOOK_DIR / "nbval-sanitize.cfg", folder / "nbval-sanitize.cfg")
    else:  # the same options by hand, without the conftest's widget hook
        args[3:3] = ["--nbval-current-env", "--nbval-sanitize-with", str(NOTEBOOK_DIR / "nbval-sanitize.cfg")]
    # Its own home: the copied conftest removes the session home it finds when that session ends.
    env = dict(os.environ, ACI_WIDGETS_TEST_HOME=str(folder / "aci-widgets-tests-inner"))
    return subprocess.run(args, cwd=folder, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(("last_stored", "plumbing", "passes"), [
    ("Healthy", True, True),    # ports sanitized, the widget view left out of the comparison
    ("Failed", True, False),    # a real difference still fails
    ("Healthy", False, False),  # without the conftest hook, the widget's text/plain repr differs
], ids=["plumbing-absorbs-ports-and-widgets", "real-difference-fails", "widget-compared-without-hook"])
def test_nbval_plumbing(tmp_path: Path, last_stored: str, plumbing: bool, passes: bool) -> None:
    done = _run_nbval(tmp_path / "nb", last_stored, plumbing)
    report = done.stdout + done.stderr
    assert (done.returncode == 0) is passes, report
    if not passes:
        assert "Cell outputs differ" in report, report
        failing = "Cell 2" if last_stored != "Healthy" else "Cell 1"
        assert f"FAILED check.ipynb::{failing} " in report, report
