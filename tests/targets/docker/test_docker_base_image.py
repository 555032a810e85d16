"""A Docker engine that cannot get the base image: ``auto`` goes on with the process target and says so first;
``docker`` asked for by name fails with the image, the engine's reason and the ways out. Real engine, real pulls
(of a name no registry can serve), real processes."""

from __future__ import annotations

import uuid

import pytest
from support import cleanup_workspace

from aci_widgets.core import ContainerImage, LocalWebservice, Webservice, WebserviceException, Workspace, events

pytestmark = pytest.mark.docker

MISSING = "aci-widgets-test/missing:0"  # no registry serves it (and CI has no network to try)


@pytest.fixture
def auto_ws(docker_client, tmp_path):
    from aci_widgets.targets.docker import cleanup

    workspace = Workspace.create(f"base-{uuid.uuid4().hex[:8]}", exist_ok=True, target="auto",
                                 path=tmp_path / "ws")
    yield workspace
    cleanup_workspace(workspace)
    cleanup(f"aci_widgets.workspace={workspace.name}")


def _config(base_image: str | None = MISSING):
    return ContainerImage.image_configuration(execution_script="score.py", runtime="python",
                                              conda_file="myenv.yml", base_image=base_image)


def _first(operation, kind):
    return next(e for e in operation.events if isinstance(e, kind))


def test_auto_falls_back_to_the_process_target_and_says_why_first(auto_ws, numpy_model):
    service = Webservice.deploy(auto_ws, "fallback", ["weights.npy"], _config(),
                                LocalWebservice.deploy_configuration())
    service.wait_for_deployment()
    assert service.state == "running"  # a LocalWebservice: azureml's lowercase states
    assert service.target == "process"
    assert service.run('{"data": [[1, 1, 1]]}') == [6.0]

    chosen = _first(service.operation, events.TargetChosen)
    assert chosen.target == "process" and MISSING in chosen.reason and chosen.reason.startswith("auto")
    assert [type(e) for e in service.operation.events if isinstance(e, (events.TargetChosen, events.Notice))][:2] \
        == [events.TargetChosen, events.Notice]
    notice = _first(service.operation, events.Notice)
    assert notice.level == "warning"
    assert f"cannot get base image {MISSING}" in notice.message
    assert "process target instead" in notice.message
    assert f"docker pull {MISSING}" in notice.message and "base_image=" in notice.message
    assert any(isinstance(e, events.StepFinished) and e.step == events.BUILD for e in service.operation.events)
    service.delete()


def test_auto_with_an_available_base_image_stays_on_docker(auto_ws, numpy_model):
    image = ContainerImage.create(auto_ws, "on-docker", [], _config(base_image=None))
    image.wait_for_creation()
    assert image.creation_state == "Succeeded"
    chosen = _first(image.operation, events.TargetChosen)
    assert chosen.target == "docker"
    assert not [e for e in image.operation.events if isinstance(e, events.Notice) and "base image" in e.message]


def test_image_creation_on_auto_falls_back_too(auto_ws, numpy_model):
    image = ContainerImage.create(auto_ws, "fallback-image", [], _config())
    image.wait_for_creation()
    assert image.creation_state == "Succeeded"
    assert image.built_on("process") and not image.built_on("docker")
    assert _first(image.operation, events.TargetChosen).target == "process"
    assert MISSING in _first(image.operation, events.Notice).message


def test_docker_by_name_fails_with_the_image_the_reason_and_the_ways_out(auto_ws, numpy_model):
    service = Webservice.deploy(auto_ws, "named", ["weights.npy"], _config(), LocalWebservice.deploy_configuration(),
                                deployment_target="docker")
    with pytest.raises(WebserviceException) as caught:
        service.wait_for_deployment()
    message = str(caught.value)
    assert f"cannot get base image {MISSING}" in message
    assert "registry" in message or "pull access denied" in message or "not found" in message  # the engine's words
    assert f"docker pull {MISSING}" in message and "base_image=" in message
    assert "--target process" in message and 'deployment_target="process"' in message
    failed = [e for e in service.operation.events if isinstance(e, events.StepFailed)]
    assert [e.step for e in failed] == [events.BUILD]

    # The failed row says so, with its error; the next deploy of that name replaces it without overwrite=True.
    [row] = Webservice.list(auto_ws)
    assert (row.name, row.state) == ("named", "Failed") and MISSING in row.error
    again = Webservice.deploy(auto_ws, "named", ["weights.npy"], _config(None), LocalWebservice.deploy_configuration(),
                              deployment_target="process")
    again.wait_for_deployment()
    assert again.state == "running" and again.target == "process"
    assert [(s.name, s.state) for s in Webservice.list(auto_ws)] == [("named", "Healthy")]
    again.delete()
