"""The tutorial's score.py and myenv.yml: written as files, and score.py answers with the real model."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
import yaml

from aci_widgets.demo.assets import MYENV_YML, SCORE_PY, write_assets


def test_write_assets(tmp_path: Path) -> None:
    score, env = write_assets(tmp_path / "work")
    assert score.name == "score.py" and score.read_text() == SCORE_PY
    assert env.name == "myenv.yml" and env.read_text() == MYENV_YML
    compile(SCORE_PY, str(score), "exec")


def test_myenv_is_the_tutorial_environment() -> None:
    spec = yaml.safe_load(MYENV_YML)
    assert spec["name"] == "project_environment"
    assert spec["dependencies"] == ["python=3.11", "scikit-learn", "numpy", "joblib"]


def _run_score(model_path: Path, digits: list[list[float]]) -> object:
    namespace: dict[str, object] = {"__name__": "score"}
    exec(compile(SCORE_PY, "score.py", "exec"), namespace)
    namespace["init"]()
    return namespace["run"](json.dumps({"data": digits}))


def test_score_py_predicts_with_the_trained_model(demo_model, monkeypatch: pytest.MonkeyPatch) -> None:
    """init()/run() against the real model file; Model.get_model_path stands in for the service's lookup."""
    model_path, X_test, y_test = demo_model
    stand_in = types.ModuleType("aci_widgets.core.model")

    class Model:
        @staticmethod
        def get_model_path(name: str) -> str:
            assert name == model_path.name
            return str(model_path)

    stand_in.Model = Model
    monkeypatch.setitem(sys.modules, "aci_widgets.core.model", stand_in)
    result = _run_score(model_path, X_test[:20].tolist())
    assert isinstance(result, list) and len(result) == 20
    assert sum(int(p) == int(t) for p, t in zip(result, y_test[:20], strict=True)) >= 16
    json.dumps(result)


def test_score_py_with_the_real_model_lookup(
    demo_model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service's layout <dir>/<model name>/<version>/<file>, resolved by the package's own Model."""
    model_path, X_test, y_test = demo_model
    version_dir = tmp_path / "azureml-models" / "sklearn_mnist" / "1"
    version_dir.mkdir(parents=True)
    (version_dir / model_path.name).write_bytes(model_path.read_bytes())
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(tmp_path / "azureml-models"))
    monkeypatch.delenv("ACI_WIDGETS_MODEL_DIR", raising=False)
    result = _run_score(model_path, X_test[:5].tolist())
    assert len(result) == 5
