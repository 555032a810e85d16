"""AKS-style deployments on a real Ray cluster the tests start (its own folder, stopped by pid): replicas answer,
scale, roll over to a new score.py with no failed request, and a broken update leaves the old version serving."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from support import cleanup_workspace, requirement_missing, wait_until

from aci_widgets.core import Workspace
from aci_widgets.core.compute import AksCompute, ComputeTarget, ComputeTargetException
from aci_widgets.core.errors import WebserviceException
from aci_widgets.core.image import ContainerImage
from aci_widgets.core.webservice import AksWebservice, Webservice

SCORE = """import os
VERSION = {version!r}

def init():
    pass

def run(raw_data):
    return {{"pid": os.getpid(), "version": VERSION}}
"""
BROKEN = "def init():\n    raise ValueError('weights missing: model.pkl')\n\ndef run(raw_data):\n    return 1\n"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    from aci_widgets.core.target import target_class

    reason = target_class("ray").unavailable_reason()
    if reason:
        requirement_missing("Ray Serve", reason)
    ws = Workspace.create(f"ws-{uuid.uuid4().hex[:8]}", exist_ok=True, target="process",
                          path=tmp_path_factory.mktemp("ray") / "ws")
    compute = ComputeTarget.create(ws, "myaks", AksCompute.provisioning_configuration(num_cpus=2))
    try:
        compute.wait_for_completion(show_output=True)
        yield ws, compute
    finally:
        try:
            cleanup_workspace(ws)
        finally:
            ComputeTarget(ws, "myaks").delete()


def score(folder: Path, version: str, text: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "score.py"
    path.write_text(text if text is not None else SCORE.format(version=version))
    return path


def image(ws: Workspace, folder: Path, version: str, text: str | None = None):
    config = ContainerImage.image_configuration(execution_script=str(score(folder / version, version, text)),
                                                runtime="python")
    return ContainerImage.create(ws, f"img-{version}", [], config)


def call(service: Webservice) -> dict:
    key = service.get_keys()[0]
    req = urllib.request.Request(service.scoring_uri, data=b"{}", headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def test_compute_target_is_found_again_or_raises(cluster):
    ws, compute = cluster
    assert ComputeTarget(ws, "myaks").get_status() == "Succeeded"
    with pytest.raises(ComputeTargetException, match="create it with ComputeTarget.create"):
        ComputeTarget(ws, "nope")


def test_replicas_answer_scale_roll_out_and_survive_a_broken_update(cluster, tmp_path: Path):
    ws, compute = cluster
    v1 = image(ws, tmp_path, "v1")
    v1.wait_for_creation()
    service = Webservice.deploy_from_image(ws, "svc", v1, AksWebservice.deploy_configuration(num_replicas=2),
                                           deployment_target=compute)
    service.wait_for_deployment(show_output=True)
    assert isinstance(service, AksWebservice) and service.state == "Healthy"

    # Both replicas answer: two distinct processes behind the one scoring URI.
    pids: set[int] = set()
    wait_until(lambda: pids.add(call(service)["pid"]) or len(pids) == 2, "answers from 2 replicas", limit=60)
    # Key auth as on every target: no key, 401; the swagger document with the key.
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(urllib.request.Request(service.scoring_uri, data=b"{}"), timeout=30)
    assert denied.value.code == 401
    swagger = urllib.request.Request(service.swagger_uri, headers={"Authorization": f"Bearer {service.get_keys()[0]}"})
    with urllib.request.urlopen(swagger, timeout=30) as resp:
        assert json.loads(resp.read())["swagger"] == "2.0"

    # Scale out: as in azureml, update() starts the change and wait_for_deployment() waits for it.
    uri = service.scoring_uri
    service.scale(3)
    assert service.scoring_uri == uri  # kept while Serve adds the replica (the row keeps its handle in place)
    service.wait_for_deployment(show_output=True)
    assert service.state == "Healthy" and service.scoring_uri == uri
    wait_until(lambda: pids.add(call(service)["pid"]) or len(pids) >= 3, "answers from a third replica", limit=60)

    # Roll out v2 under a bounded request loop: no request fails, both versions answer.
    v2 = image(ws, tmp_path, "v2")
    v2.wait_for_creation()
    seen, failures, stop = set(), [], threading.Event()

    def loop() -> None:
        for _ in range(100_000):  # bounded; stopped once v2 has answered
            if stop.is_set():
                return
            try:
                seen.add(call(service)["version"])
            except Exception as exc:  # noqa: BLE001 - every failure counts
                failures.append(repr(exc))

    worker = threading.Thread(target=loop)
    worker.start()
    try:
        wait_until(lambda: "v1" in seen, "v1 answering before the update")
        service.update(image=v2)
        service.wait_for_deployment(show_output=True)
        wait_until(lambda: "v2" in seen, "v2 answering after the update")
    finally:
        stop.set()
        worker.join(60)
    assert not worker.is_alive()
    assert failures == [] and seen == {"v1", "v2"}

    # A broken score.py: the update fails with init()'s traceback, v2 keeps serving at the same URI.
    broken = image(ws, tmp_path, "v3", BROKEN)
    broken.wait_for_creation()
    service.update(image=broken)
    with pytest.raises(WebserviceException) as failed:
        service.wait_for_deployment(show_output=True)
    text = f"{failed.value} {failed.value.detail}"
    assert "weights missing: model.pkl" in text and "init" in text
    assert service.state == "Failed"
    assert {call(service)["version"] for _ in range(6)} == {"v2"}
