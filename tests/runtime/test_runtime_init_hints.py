"""An init() that cannot find its model file: the traceback in the ready file ends with one hint line naming
Model.get_model_path / AZUREML_MODEL_DIR and what the model directory holds; other failures get no hint."""

from __future__ import annotations

from pathlib import Path

import pytest
from runtime_harness import StartServer, write_score

HINT_START = 'Hint: load model files with Model.get_model_path("<model name>") or from os.environ["AZUREML_MODEL_DIR"]'


def _failed(start_server: StartServer, tmp_path: Path, model_dir: Path, init_body: str) -> dict:
    source = f"import os\n\nimport numpy as np\n\n\ndef init():\n    {init_body}\n\n\ndef run(raw):\n    return 1\n"
    server = start_server(write_score(tmp_path / "score", source), model_dir=model_dir)
    assert server.proc.wait(30) == 3
    assert server.ready["status"] == "failed"
    return server.ready


@pytest.mark.parametrize("init_body", [
    'np.load("weights.npy")',  # relative to the working directory, as on the author's laptop
    'np.load(os.path.join(os.environ["ACI_WIDGETS_MODEL_DIR"], "linear", "2", "weights.npy"))',  # wrong version
    'from aci_widgets.core.model import Model; Model.get_model_path("lineer")',  # a typo in the name
])
def test_a_missing_model_file_adds_one_hint_line(start_server: StartServer, tmp_path: Path, model_dir: Path,
                                                 init_body: str) -> None:
    ready = _failed(start_server, tmp_path, model_dir, init_body)
    last = ready["traceback"].rstrip("\n").splitlines()[-1]
    assert last.startswith(HINT_START), ready["traceback"]
    assert last.endswith("the model directory holds: linear/1/weights.npy.")
    assert f"(here {model_dir / 'linear' / '1'})" in last  # one model: AZUREML_MODEL_DIR is its own folder
    assert ready["traceback"].count("Hint:") == 1
    assert "Hint" not in ready["error"]  # the one-line error stays the exception's own


@pytest.mark.parametrize("init_body", ['open("settings.yaml")', 'raise ValueError("broken")'])
def test_other_init_failures_get_no_hint(start_server: StartServer, tmp_path: Path, model_dir: Path,
                                         init_body: str) -> None:
    ready = _failed(start_server, tmp_path, model_dir, init_body)
    assert "Traceback" in ready["traceback"] and "Hint" not in ready["traceback"]
