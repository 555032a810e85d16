"""A scikit-learn model end to end in a container, its score.py using ``Model.get_model_path`` as on Azure."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import sklearn
from docker_helpers import post_json, run_op
from sklearn.linear_model import LogisticRegression

from aci_widgets.core.target import ImageSpec, ServiceSpec

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SCORE = '''\
import json

import joblib
import numpy as np

from aci_widgets.core.model import Model


def init():
    global model
    model = joblib.load(Model.get_model_path("digits"))


def run(raw_data):
    return model.predict(np.array(json.loads(raw_data)["data"])).tolist()
'''


def test_a_scikit_learn_model_answers_as_it_does_here(ws: types.SimpleNamespace, target: Any,
                                                        tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    model = LogisticRegression().fit(x, y)
    context = tmp_path / "ctx"
    (context / "azureml-models" / "digits" / "1").mkdir(parents=True)
    joblib.dump(model, context / "azureml-models" / "digits" / "1" / "model.pkl")
    (context / "score.py").write_text(SCORE)
    spec = ImageSpec(name=f"{ws.name.lower()}-sk", version=1, context_dir=context, execution_script="score.py",
                     requirements=[f"scikit-learn=={sklearn.__version__}", "joblib", "numpy"], models=[("digits", 1)])
    image = run_op(lambda report: target.build_image(ws, spec, report)).result()
    handle = run_op(lambda report: target.start_service(ws, ServiceSpec(name="sk", image=image), report)).result()
    try:
        status, answer = post_json(handle["scoring_uri"], {"data": x[:20].tolist()})
        assert status == 200
        assert answer == model.predict(x[:20]).tolist()
    finally:
        target.stop_service(ws, handle)
