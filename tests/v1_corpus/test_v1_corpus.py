"""Public Azure ML v1 deployment notebooks, converted mechanically (convert.py), run to the end on local processes.

Each script runs as its own Python process in a fresh folder holding the notebook's files and a v1 config.json (the
one thing ``Workspace.from_config()`` needs), against this session's aci_widgets home; what it printed is checked
against what the notebook shows on Azure. Whatever it left running is removed after, and counted as a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from support import cleanup_workspace

from aci_widgets.core import Webservice, Workspace

HERE = Path(__file__).resolve().parent
LIMIT = 240  # seconds per notebook: a hung deployment fails the test instead of the session

# the diabetes Ridge model's first two predictions, as the notebooks print them on Azure
RIDGE = "[182.67335420683418, 90.99860655841785]"
EXPECTED = {
    "register_model_deploy_local": [
        "Local service port: 6789", RIDGE, f"'Hello from the updated score.py: {RIDGE}'"],
    "register_model_deploy_local_advanced": [  # the source_directory's own files read by init(), then reload()
        "Local service port: 6789", "Hello Mrudula here is your result = [182.67335421  90.99860656]",
        "'Hello Mrudula from Seattle here is your result = [182.67335421  90.99860656]'"],
    "multi_model_register_and_deploy": [
        f"{{'prediction1': {RIDGE}, 'prediction2': [202.63861242760507, 71.11080898817333]}}"],
    "model_register_and_deploy": [
        "Name: my-sklearn-model", "Version: 1", RIDGE, "Sending 100 samples", "Profiling succeeded"],
    "train_within_notebook": [  # 21 runs in the experiment's history; the best one registered, deployed, scored
        "Mean Squared Error is 3424.8567023974488", "Metrics: {'alpha': 0.4, 'mse': 3295.714938563238}",
        "outputs/model.pkl", "best_model 1", "[217.67881271679826]"],
}


def _run(name: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    folder = tmp_path / name
    if (HERE / name).is_dir():
        shutil.copytree(HERE / name, folder)
    folder.mkdir(exist_ok=True)
    ws_path = tmp_path / "ws"
    (folder / "config.json").write_text(json.dumps({
        "subscription_id": "00000000-0000-0000-0000-000000000000", "resource_group": "v1-corpus",
        "location": "eastus",
        "workspace_name": f"v1-{uuid.uuid4().hex[:8]}", "aci_widgets_path": str(ws_path)}))
    env = {**os.environ, "ACI_WIDGETS_TARGET": "process", "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    try:
        done = subprocess.run([sys.executable, str(HERE / f"{name}.py")], cwd=folder, env=env, text=True,
                              capture_output=True, timeout=LIMIT)
    finally:
        if (ws_path / "workspace.json").is_file():  # what the script left: removed, and reported below
            leftover = Workspace(json.loads((ws_path / "workspace.json").read_text())["name"], path=ws_path)
            left = [s.name for s in Webservice.list(leftover)]
            cleanup_workspace(leftover)
            assert left == [], f"{name} left services running: {left}"
    return done, folder


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_to_the_end(name, tmp_path):
    done, _ = _run(name, tmp_path)
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    lines = done.stdout.splitlines()
    for expected in EXPECTED[name]:
        assert any(expected in line for line in lines), f"{name}: {expected!r} not printed:\n{done.stdout[-3000:]}"


def test_the_converter_changes_imports_and_magics_only():
    sys.path.insert(0, str(HERE))
    try:
        from convert import convert_cell
    finally:
        sys.path.remove(str(HERE))
    cell = "import azureml.core\nfrom azureml.core.model import Model\nprint(azureml.core.VERSION)\nx = 'azureml'\nx"
    assert convert_cell(cell) == ("import aci_widgets.core\nfrom aci_widgets.core.model import Model\n"
                                  "print(aci_widgets.core.VERSION)\nx = 'azureml'\n_shown = (x)\n"
                                  "if _shown is not None:\n    print(repr(_shown))\n")
    written = convert_cell("%%writefile score.py\nfrom azureml.core.model import Model\n")
    assert written == "with open('score.py', 'w') as _f:\n    _f.write('from aci_widgets.core.model import Model\\n')\n"
    assert convert_cell("%%time\n%matplotlib inline\n!pip install x\ny = 1") == "y = 1\n"
