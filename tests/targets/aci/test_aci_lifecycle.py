"""A service's life on the aci target after its first deployment, against the Resource Manager stand-in: the seed's
option 3 (an image made by ContainerImage.create, then deploy_from_image) with a DNS name label, the label then
refused to a second service, update() to a new image (same name and label, new answers), the group deleted outside
aci_widgets (Failed, "not found in Azure"), and Ctrl-C during the create operation (the half-made group is gone)."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import types
import uuid
from pathlib import Path

import pytest

from aci_widgets.core import events
from aci_widgets.core.errors import UserErrorException, WebserviceException
from aci_widgets.core.image import ContainerImage, Image
from aci_widgets.core.model import Model
from aci_widgets.core.webservice import AciWebservice, Webservice

pytestmark = pytest.mark.docker

DOUBLED = '''\
import json

import numpy as np

from aci_widgets.core.model import Model


def init():
    global weights
    weights = 2 * np.load(Model.get_model_path("weights.npy"))


def run(raw_data):
    return (np.array(json.loads(raw_data)["data"]) @ weights).tolist()
'''


def _group(arm: types.SimpleNamespace, name: str) -> dict | None:
    with arm.stub.lock:
        group = next((g for g in arm.stub.groups.values() if g.name == name), None)
        return None if group is None else arm.stub.view(group)


def test_option3_with_a_dns_label_update_and_deleted_outside(aci_env: types.SimpleNamespace, aci_ws: object,
                                                             aci_image: Image, model_files: Path,
                                                             tmp_path: Path) -> None:
    name, label = f"life-{uuid.uuid4().hex[:6]}", f"iris-{uuid.uuid4().hex[:6]}"
    config = AciWebservice.deploy_configuration(cpu_cores=0.5, memory_gb=0.5, dns_name_label=label,
                                                location="westeurope", tags={"team": "ml"}, scoring_timeout_ms=30000)
    service = Webservice.deploy_from_image(aci_ws, name, aci_image, config)
    service.wait_for_deployment()
    assert service.state == "Healthy", service.error
    assert service.run(json.dumps({"data": [[1, 1, 1]]})) == [6.0]
    group = _group(aci_env, name)
    assert group["properties"]["ipAddress"]["dnsNameLabel"] == label
    assert group["properties"]["ipAddress"]["fqdn"] == f"{label}.westeurope.azurecontainer.io"
    assert group["location"] == "westeurope" and group["tags"]["team"] == "ml"
    assert group["properties"]["containers"][0]["properties"]["image"] == aci_image.image_location
    command = group["properties"]["containers"][0]["properties"]["command"]
    assert command[command.index("--scoring-timeout-ms") + 1] == "30000"
    # The FQDN of the stand-in does not resolve: the scoring URI falls back to the group's IP, as ARM reports it.
    assert service.scoring_uri == f"http://{group['properties']['ipAddress']['ip']}:5001/score"

    # Another service cannot have the label: only Azure knows it is taken.
    other = Webservice.deploy_from_image(aci_ws, f"life-{uuid.uuid4().hex[:6]}", aci_image,
                                         AciWebservice.deploy_configuration(cpu_cores=0.5, memory_gb=0.5,
                                                                            dns_name_label=label))
    with pytest.raises(WebserviceException):
        other.wait_for_deployment()
    error = other.operation.error
    assert isinstance(error, UserErrorException)  # the user's to fix: not a failure of the service
    assert f"The DNS name label of service {other.name!r} is already taken in westeurope" in error.message
    assert "choose another dns_name_label" in error.message and "\n" not in error.message
    assert "(DnsNameLabelAlreadyTaken)" in error.detail  # ARM's code and message, as az container create shows
    assert f"The DNS name label '{label}' in container group '{other.name}' is not available" in error.detail
    assert _group(aci_env, other.name) is None

    # update() to a new image: the group is made again under the same name and label, and answers with the new code.
    (tmp_path / "score.py").write_text(DOUBLED)
    model = Model(aci_ws, "weights")
    newer = ContainerImage.create(aci_ws, f"img2-{uuid.uuid4().hex[:6]}", [model],
                                  ContainerImage.image_configuration(execution_script=str(tmp_path / "score.py"),
                                                                     runtime="python",
                                                                     conda_file=str(model_files / "myenv.yml")))
    newer.wait_for_creation()
    service.update(image=newer)
    service.wait_for_deployment()
    assert service.state == "Healthy", service.error
    assert service.run(json.dumps({"data": [[1, 1, 1]]})) == [12.0]
    group = _group(aci_env, name)
    assert group["properties"]["containers"][0]["properties"]["image"] == newer.image_location
    assert group["properties"]["ipAddress"]["dnsNameLabel"] == label

    # Deleted outside aci_widgets (the portal, `az container delete`): Failed, and it says why.
    from aci_widgets.targets.aci.client import aci_client
    from aci_widgets.targets.aci.settings import AciSettings

    client = aci_client(AciSettings.of(aci_ws))
    client.container_groups.begin_delete(aci_env.standin.resource_group, name).result()
    assert Webservice(aci_ws, name).state == "Failed"
    assert "not found in Azure" in Webservice(aci_ws, name).error
    service.delete()
    assert name not in [s.name for s in Webservice.list(aci_ws)]


def _main_thread_is_waiting() -> bool:
    frame = sys._current_frames().get(threading.main_thread().ident)
    while frame is not None:
        if frame.f_code.co_name == "wait" and frame.f_code.co_filename.endswith("operation.py"):
            return True
        frame = frame.f_back
    return False


def test_ctrl_c_during_the_create_operation_deletes_the_half_made_group(aci_env: types.SimpleNamespace,
                                                                        aci_ws: object, aci_image: Image) -> None:
    name = f"intr-{uuid.uuid4().hex[:6]}"
    service = Webservice.deploy_from_image(aci_ws, name, aci_image,
                                           AciWebservice.deploy_configuration(cpu_cores=0.5, memory_gb=0.5))
    in_azure: list[bool] = []

    def watch() -> None:  # Ctrl-C once Azure has the group and its create operation runs
        for event in service.operation.follow():
            if isinstance(event, events.LogLine) and event.line.startswith("Azure: create operation"):
                in_azure.append(_group(aci_env, name) is not None)
                while not _main_thread_is_waiting():
                    time.sleep(0.005)
                os.kill(os.getpid(), signal.SIGINT)  # a real SIGINT, as a terminal or Jupyter's interrupt sends
                return

    threading.Thread(target=watch, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        service.wait_for_deployment()
    assert in_azure == [True]
    assert service.operation.events[-1].state == "Cancelled"
    assert _group(aci_env, name) is None
    assert aci_env.stub.docker.containers.list(all=True, filters={"label": f"armstub={aci_env.stub.id}",
                                                                   "name": name}) == []
    assert name not in [s.name for s in Webservice.list(aci_ws)]
