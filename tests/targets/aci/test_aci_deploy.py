"""The seed's option 1 on the aci target, end to end against the Resource Manager stand-in: build, push, create the
container group through the SDK's poller, score through the container, logs, list, delete; and a crash-looping
init() reads Failed with the container's last log lines."""

from __future__ import annotations

import json
import types
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from aci_widgets.core import events
from aci_widgets.core.errors import WebserviceException
from aci_widgets.core.image import ContainerImage
from aci_widgets.core.model import Model
from aci_widgets.core.webservice import AciWebservice, Webservice
from aci_widgets.targets.aci.target import repository_path

pytestmark = pytest.mark.docker


def _groups(arm: types.SimpleNamespace) -> dict[str, str]:
    with arm.stub.lock:
        return {g.name: g.state for g in arm.stub.groups.values()}


def _stub_containers(arm: types.SimpleNamespace, name: str) -> list[object]:
    """The stand-in's containers of group ``name`` (its Docker names hold the group's name)."""
    return arm.stub.docker.containers.list(all=True, filters={"label": f"armstub={arm.stub.id}", "name": name})


def test_seed_option1_deploys_scores_and_deletes(aci_env: types.SimpleNamespace, aci_ws: object,
                                                 model_dir: Path) -> None:
    name = f"aci-np-{uuid.uuid4().hex[:6]}"
    model = Model.register(model_path="weights.npy", model_name="weights", workspace=aci_ws)
    image_config = ContainerImage.image_configuration(execution_script="score.py", runtime="python",
                                                      conda_file="myenv.yml")
    config = AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=1, auth_enabled=True, tags={"app": "np"})
    service = Webservice.deploy_from_model(workspace=aci_ws, name=name, deployment_config=config,
                                           models=[model], image_config=image_config)
    service.wait_for_deployment()

    assert service.state == "Healthy", service.error
    assert service.run(json.dumps({"data": [[1, 1, 1], [0, 0, 1]]})) == [6.0, 3.0]
    # The scoring URI is the group's own address as ARM reports it (the stand-in gives each group a loopback IP).
    group = aci_env.stub.view(next(g for g in aci_env.stub.groups.values() if g.name == name))
    assert urlsplit(service.scoring_uri).hostname == group["properties"]["ipAddress"]["ip"]
    assert urlsplit(service.scoring_uri).port == 5001
    # <registry>/<workspace>/<name>:<version>: two workspaces sharing a registry never overwrite each other.
    assert service.image.image_location == f"{aci_env.registry.server}/{repository_path(aci_ws.name)}/{name}:1"
    # What ACI was asked for: the size, tags, the keys as a secure variable (never shown back), the credentials.
    props = group["properties"]
    container = props["containers"][0]["properties"]
    assert container["resources"]["requests"] == {"cpu": 1.0, "memoryInGB": 1.0}
    assert group["tags"]["app"] == "np" and group["tags"]["aci-widgets-workspace"] == aci_ws.name
    assert props["restartPolicy"] == "Always"
    assert [v for v in container["environmentVariables"] if v["name"] == "ACI_WIDGETS_AUTH_KEYS"] == \
        [{"name": "ACI_WIDGETS_AUTH_KEYS"}]
    assert props["imageRegistryCredentials"] == [{"server": aci_env.registry.server,
                                                  "username": aci_env.registry.username}]
    # The panel's events: the push, then the group's instance-view events from Azure.
    ops = service.operation or service._operation
    lines = [e.line for e in ops.events if isinstance(e, events.LogLine)]
    steps = [e.step for e in ops.events if isinstance(e, events.StepFinished)]
    assert steps == [events.BUILD, "push image", events.START, events.HEALTH]
    assert any(line.startswith("Pulling:") for line in lines) and any(line.startswith("Started:") for line in lines)
    assert any(line.startswith("Pushed " + aci_env.registry.server) for line in lines)

    assert "Healthy" in service.get_logs() or service.get_logs().strip()
    assert name in [s.name for s in Webservice.list(aci_ws)]
    assert Webservice(aci_ws, name).state == "Healthy"

    service.delete()
    assert name not in _groups(aci_env)
    assert _stub_containers(aci_env, name) == []


def test_crash_looping_init_fails_with_the_last_log_lines(aci_env: types.SimpleNamespace, aci_ws: object,
                                                          model_dir: Path) -> None:
    (model_dir / "score.py").write_text(
        "def init():\n    raise RuntimeError('weights-missing-marker')\n\n\ndef run(raw_data):\n    return raw_data\n")
    name = f"aci-crash-{uuid.uuid4().hex[:6]}"
    image_config = ContainerImage.image_configuration(execution_script="score.py", runtime="python",
                                                      conda_file="myenv.yml")
    service = Webservice.deploy(aci_ws, name, ["weights.npy"], image_config,
                                AciWebservice.deploy_configuration(cpu_cores=0.5, memory_gb=0.5))
    with pytest.raises(WebserviceException) as caught:
        service.wait_for_deployment()
    assert "keeps exiting" in str(caught.value)
    assert "weights-missing-marker" in str(caught.value)
    assert service.state == "Failed"
    assert "weights-missing-marker" in service.get_logs()
    assert name not in _groups(aci_env)  # the half-made group was deleted
    assert _stub_containers(aci_env, name) == []
