"""Model.deploy with an InferenceConfig on the Docker target: the same core path (ImageSpec/ServiceSpec) as the
process target, so a source_directory, an environment's variables and AZUREML_MODEL_DIR behave the same."""

from __future__ import annotations

import json

import pytest

from aci_widgets.core import Environment
from aci_widgets.core.model import InferenceConfig, Model

SCORE = '''\
import json
import os

import numpy as np

from helpers import scale
from aci_widgets.core.model import Model


def init():
    global weights
    weights = np.load(Model.get_model_path("weights"))


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return {"result": (scale(data) @ weights).tolist(), "model_dir": os.environ["AZUREML_MODEL_DIR"],
            "greeting": os.environ.get("GREETING"), "files": sorted(os.listdir("."))}
'''


@pytest.mark.docker
def test_model_deploy_with_a_source_directory_on_docker(ws, numpy_model):
    from support import requirement_missing

    from aci_widgets.core.target import target_class

    reason = target_class("docker").unavailable_reason()
    if reason:
        requirement_missing("A Docker engine", reason)
    ws.target = "docker"
    (numpy_model / "src").mkdir()
    (numpy_model / "src" / "score.py").write_text(SCORE)
    (numpy_model / "src" / "helpers.py").write_text("def scale(x):\n    return x * 2\n")
    model = Model.register(ws, "weights.npy", "weights")
    env = Environment.from_conda_specification("numpy-env", "myenv.yml")
    env.environment_variables = {"GREETING": "hello"}
    config = InferenceConfig(entry_script="score.py", source_directory="src", environment=env)
    service = Model.deploy(ws, "v1-docker", [model], config)
    service.wait_for_deployment()
    assert service.target == "docker"
    answer = service.run(json.dumps({"data": [[1, 1, 1]]}))
    assert answer["result"] == [12.0]
    assert answer["greeting"] == "hello"
    assert answer["model_dir"] == "/var/azureml-app/azureml-models/weights/1"
    assert "src" in answer["files"]  # the source_directory under its own name, as on Azure


BASE_SCORE = '''\
def init():
    pass


def run(raw_data):
    with open("/etc/from-base-dockerfile") as f:
        return f.read().strip()
'''


@pytest.mark.docker
def test_base_dockerfile_steps_come_first_on_docker(ws, workdir, capsys):
    """env.docker.base_dockerfile as the v1 samples write it: an Azure ML base image (our default stands in for it)
    and a step of the user's, which the service's image really ran."""
    from support import requirement_missing

    from aci_widgets.core.target import target_class

    reason = target_class("docker").unavailable_reason()
    if reason:
        requirement_missing("A Docker engine", reason)
    ws.target = "docker"
    (workdir / "score.py").write_text(BASE_SCORE)
    (workdir / "m.txt").write_text("m\n")
    model = Model.register(ws, "m.txt", "m")
    env = Environment("from-dockerfile")
    env.docker.base_image = None
    env.docker.base_dockerfile = ("FROM mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04\n"
                                  "RUN echo \"this is test\" > /etc/from-base-dockerfile")
    service = Model.deploy(ws, "v1-base-dockerfile", [model], InferenceConfig("score.py", environment=env))
    service.wait_for_deployment(show_output=True)
    shown = capsys.readouterr().out
    assert "its Azure ML base image stands in as python:3.11-slim" in shown
    assert service.run("{}") == "this is test"
    dockerfile = service.image._row["record"]["docker"]["dockerfile"]
    assert dockerfile.startswith("FROM python:3.11-slim\nRUN echo \"this is test\"")
