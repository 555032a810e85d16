"""Model.package(..., generate_dockerfile=True).save(path) gives a folder a user builds with ``docker build``: built
here by the real engine through docker-py (as a user's own tooling would, not through aci_widgets), run, and
scored over HTTP."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from aci_widgets.core import Environment
from aci_widgets.core.model import InferenceConfig, Model

CONTAINER_PORT = 5001  # the EXPOSE of the saved Dockerfile


def _post(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status == 200
    except (OSError, urllib.error.URLError):
        return False


@pytest.mark.docker
def test_a_saved_package_builds_runs_and_scores_with_plain_docker(ws, numpy_model, tmp_path):
    from support import requirement_missing

    from aci_widgets.targets.docker.client import unavailable_reason

    reason = unavailable_reason()
    if reason:
        requirement_missing("A Docker engine", reason)
    import docker

    model = Model.register(ws, "weights.npy", "weights.npy")
    env = Environment.from_conda_specification("numpy-env", "myenv.yml")
    env.environment_variables = {"GREETING": "hello"}
    package = Model.package(ws, [model], InferenceConfig("score.py", environment=env), generate_dockerfile=True)
    package.wait_for_creation(show_output=False)
    context = Path(package.save(tmp_path / "pkg"))

    client = docker.from_env()
    tag = f"aci-widgets-test-package-{uuid.uuid4().hex[:8]}:1"
    container = None
    try:
        image, _ = client.images.build(path=str(context), tag=tag, rm=True, forcerm=True)
        container = client.containers.run(image.id, detach=True, ports={f"{CONTAINER_PORT}/tcp": ("127.0.0.1", None)})
        container.reload()
        port = int(container.ports[f"{CONTAINER_PORT}/tcp"][0]["HostPort"])
        deadline = time.monotonic() + 120
        while not _answers(f"http://127.0.0.1:{port}/"):
            container.reload()
            assert container.status == "running", container.logs().decode("utf-8", "replace")
            assert time.monotonic() < deadline, "the packaged service never answered GET /"
            time.sleep(0.2)
        status, body = _post(f"http://127.0.0.1:{port}/score", json.dumps({"data": [[1, 2, 3]]}).encode())
        assert status == 200, body
        assert json.loads(body) == [14.0]
        assert "GREETING=hello" in container.attrs["Config"]["Env"]  # the environment's variables, baked in
    finally:
        if container is not None:
            container.remove(force=True)
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(tag, force=True)
