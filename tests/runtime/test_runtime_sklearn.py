"""The seed's kind of score.py: a joblib-pickled scikit-learn model found by file name, like the azureml sample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from runtime_harness import StartServer, write_score

SKLEARN_SCORE = """\
import json

import joblib
import numpy as np

from aci_widgets.runtime.model_dir import get_model_path


def init():
    global model
    model = joblib.load(get_model_path("sklearn_mnist_model.pkl"))


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return model.predict(data).tolist()
"""


def test_sklearn_model_round_trip(start_server: StartServer, tmp_path: Path) -> None:
    import joblib
    import sklearn  # noqa: F401 - the model below is an sklearn one
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 8))
    y = (x[:, 0] + x[:, 1] > 0).astype(int) + 2 * (x[:, 2] > 0.5)
    model = LogisticRegression(max_iter=500).fit(x, y)
    version_dir = tmp_path / "models" / "sklearn_mnist" / "1"
    version_dir.mkdir(parents=True)
    joblib.dump(model, version_dir / "sklearn_mnist_model.pkl")

    server = start_server(write_score(tmp_path / "app", SKLEARN_SCORE), model_dir=tmp_path / "models")
    assert server.ready["status"] == "ready", server.stderr()
    probe = rng.normal(size=(5, 8))
    status, _, body = server.score({"data": probe.tolist()})
    assert status == 200
    assert json.loads(body) == model.predict(probe).tolist()
