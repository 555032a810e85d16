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
from aci_widgets.core.target import target_class
from aci_widgets.core.webservice import AksWebservice, Webservice
from aci_widgets.targets.ray import cluster as ray_cluster
from aci_widgets.targets.ray import serve_api

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
    assert "previous version (img-v2:1) keeps serving" in service.error
    assert {call(service)["version"] for _ in range(6)} == {"v2"}

    # Scaling after the failed update deploys the version that serves (the last Healthy one), never the broken one.
    assert service.image.name == "img-v3" and service.serving_image().name == "img-v2"
    service.scale(2)
    service.wait_for_deployment(show_output=True)
    assert service.state == "Healthy" and service.image.name == "img-v2"
    target = target_class("ray")()
    wait_until(lambda: [r["state"] for r in target.replicas(service._handle())] == ["RUNNING"] * 2,
               "2 replicas of v2 after scale(2)", limit=120, every=0.5)
    assert {call(service)["version"] for _ in range(6)} == {"v2"}

    # The keys are not in what the Ray dashboard shows (the application config names a private file instead).
    shown = json.dumps(serve_api.details(compute.record))
    assert "keys-" in shown and not any(key in shown for key in service.get_keys())


def test_a_second_node_joins_and_replicas_land_on_it(cluster, tmp_path: Path):
    ws, compute = cluster
    node = ray_cluster.start_node(compute.record, tmp_path / "node2", num_cpus=2)
    try:
        assert node["node_id"] in {n["node_id"] for n in ray_cluster.nodes(compute.record)}
        slow = SCORE.format(version="spread").replace("def run(raw_data):\n", "def run(raw_data):\n"
                                                       "    import time; time.sleep(0.2)\n")
        spread = image(ws, tmp_path, "spread", slow)
        spread.wait_for_creation()
        service = Webservice.deploy_from_image(ws, "spread", spread, AksWebservice.deploy_configuration(
            num_replicas=3), deployment_target=compute)
        service.wait_for_deployment(show_output=True)
        target = target_class("ray")()
        # Serve spreads replicas over the nodes: one lands on the new node, and it answers like the others.
        replicas = target.replicas(service._handle())
        assert node["node_id"] in {r["node_id"] for r in replicas} and len({r["node_id"] for r in replicas}) == 2
        # The head's proxy prefers the replicas on its own node (Serve's local routing) and turns to the others
        # when those are busy: 6 clients at once (replicas take one request at a time) reach the new node's one.
        remote = {r["pid"] for r in replicas if r["node_id"] == node["node_id"]}
        pids: set[int] = set()
        stop = threading.Event()

        def client() -> None:
            for _ in range(2_000):  # bounded; stopped once the new node's replica has answered
                if stop.is_set():
                    return
                pids.add(call(service)["pid"])

        clients = [threading.Thread(target=client) for _ in range(6)]
        for t in clients:
            t.start()
        try:
            wait_until(lambda: remote & pids, "an answer from the replica on the new node", limit=120, every=0.2)
        finally:
            stop.set()
            for t in clients:
                t.join(60)
        # The service card shows them (the card's row is what a notebook user sees).
        from aci_widgets.widgets.service_card import ServiceCard

        card = ServiceCard(service)
        assert "3 of 3 Healthy (RUNNING 3) on 2 nodes" in card.info.value
        card.close()
        service.delete()
    finally:
        ray_cluster.stop_head(node)
    assert not ray_cluster._alive(ray_cluster.session_pids(node["pid"]))  # the node and its workers ended
    wait_until(lambda: node["node_id"] not in {n["node_id"] for n in ray_cluster.nodes(compute.record)
                                               if n.get("state") == "ALIVE"}, "the node gone from the cluster",
               limit=120, every=0.5)
