"""The tutorial's scoring script and conda environment, as the files a deployment is made from."""

from __future__ import annotations

import os
from pathlib import Path

MODEL_FILE = "sklearn_mnist_model.pkl"

SCORE_PY = """\
import json

import joblib
import numpy as np

from aci_widgets.core.model import Model


def init():
    global model
    # retrieve the path to the model file using the model name
    model_path = Model.get_model_path('sklearn_mnist_model.pkl')
    model = joblib.load(model_path)


def run(raw_data):
    data = np.array(json.loads(raw_data)['data'])
    # make prediction
    y_hat = model.predict(data)
    # any JSON-serializable value can be returned
    return y_hat.tolist()
"""

MYENV_YML = """\
# Conda environment of the MNIST demo's scoring script.
name: project_environment
dependencies:
  - python=3.11
  - scikit-learn
  - numpy
  - joblib
"""


def write_assets(workdir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``score.py`` and ``myenv.yml`` into ``workdir`` (created if needed), as the tutorial does."""
    folder = Path(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    score_path, env_path = folder / "score.py", folder / "myenv.yml"
    score_path.write_text(SCORE_PY, encoding="utf-8")
    env_path.write_text(MYENV_YML, encoding="utf-8")
    return score_path, env_path
