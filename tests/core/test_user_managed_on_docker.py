"""``user_managed_dependencies=True`` on the Docker target, on the real engine with python:3.11-slim: the base
image's own Python runs the service, nothing of the environment is installed (no venv, no pip step for it); the
scoring runtime's own packages, which that image lacks, go into a folder of their own, and the build log says so."""

from __future__ import annotations

import json

import pytest

from aci_widgets.core import Environment
from aci_widgets.core.errors import AciWidgetsError
from aci_widgets.core.model import InferenceConfig, Model

SCORE = '''\
import json
import os
import sys

from aci_widgets.core.model import Model


def init():
    global text
    with open(Model.get_model_path("words")) as f:
        text = f.read().strip()


def run(raw_data):
    return {"words": text, "echo": json.loads(raw_data)["data"], "python": sys.executable, "prefix": sys.prefix,
            "venv": os.path.exists("/opt/venv"), "model_dir": os.environ["AZUREML_MODEL_DIR"]}
'''


@pytest.fixture
def docker_ws(ws):
    from support import requirement_missing

    from aci_widgets.core.target import target_class

    reason = target_class("docker").unavailable_reason()
    if reason:
        requirement_missing("A Docker engine", reason)
    ws.target = "docker"
    return ws


@pytest.mark.docker
def test_user_managed_python_runs_the_base_images_interpreter(docker_ws, workdir, capsys):
    (workdir / "words.txt").write_text("hello from the model\n")
    (workdir / "score.py").write_text(SCORE)
    model = Model.register(docker_ws, "words.txt", "words")
    env = Environment("theirs")
    env.python.user_managed_dependencies = True
    env.python.conda_dependencies.add_pip_package("numpy")  # ignored, as on Azure: the user manages the Python
    env.docker.base_image = "python:3.11-slim"
    service = Model.deploy(docker_ws, "v1-user-python", [model], InferenceConfig("score.py", environment=env))
    service.wait_for_deployment(show_output=True)
    shown = capsys.readouterr().out
    answer = service.run(json.dumps({"data": [1, 2]}))
    assert answer["words"] == "hello from the model" and answer["echo"] == [1, 2]
    its_own = _base_python("python:3.11-slim")
    assert (answer["python"], answer["prefix"]) == its_own
    assert answer["venv"] is False
    assert answer["model_dir"] == "/var/azureml-app/azureml-models/words/1"
    dockerfile = service.image._row["record"]["docker"]["dockerfile"]
    assert "venv" not in dockerfile and "numpy" not in dockerfile
    assert "--target /opt/aci_widgets/deps" in dockerfile
    assert f"user_managed_dependencies=True: the service runs {its_own[0]}" in shown
    assert "lacks httptools" in shown and "installed into /opt/aci_widgets/deps" in shown


def _base_python(image: str) -> tuple[str, str]:
    """What the image's own ``python`` is, asked of the engine directly."""
    import docker

    out = docker.from_env().containers.run(image, ["python", "-c", "import sys; print(sys.executable, sys.prefix)"],
                                           entrypoint=[], remove=True)
    executable, prefix = out.decode().split()
    return executable, prefix


@pytest.mark.docker
def test_a_base_image_without_that_interpreter_is_named(docker_ws, workdir):
    (workdir / "words.txt").write_text("x\n")
    (workdir / "score.py").write_text(SCORE)
    model = Model.register(docker_ws, "words.txt", "words")
    env = Environment("nowhere")
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = "/opt/conda/bin/python"
    env.docker.base_image = "python:3.11-slim"
    with pytest.raises(AciWidgetsError, match="has none that runs .*/opt/conda/bin/python.*interpreter_path"):
        Model.deploy(docker_ws, "v1-no-python", [model], InferenceConfig("score.py", environment=env),
                     show_output=False).wait_for_deployment()
