"""Images through the core API on the Docker target: the registry and the engine agree, and delete removes both."""

from __future__ import annotations

import pytest

from aci_widgets.core import ContainerImage, Image, Model, UserErrorException, Webservice


@pytest.mark.docker
def test_image_create_list_delete_on_docker(ws, numpy_model):
    from support import requirement_missing

    from aci_widgets.core.target import target_class

    reason = target_class("docker").unavailable_reason()
    if reason:
        requirement_missing("A Docker engine", reason)
    import docker

    engine = docker.from_env()
    ws.target = "docker"
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python",
                                                conda_file="myenv.yml")
    model = Model.register(ws, "weights.npy", "weights.npy")
    image = ContainerImage.create(ws, "core-docker-img", [model], config)
    image.wait_for_creation(show_output=False)
    assert image.creation_state == "Succeeded"
    record = image._row["record"]["docker"]
    assert engine.images.get(record["tag"]).id == record["id"]
    assert image.size and image.size > 0
    assert [i.id for i in Image.list(ws)] == ["core-docker-img:1"]
    assert Image(ws, id="core-docker-img:1").models == [model]

    service = Webservice.deploy_from_image(ws, "core-docker-svc", image)
    service.wait_for_deployment()
    with pytest.raises(UserErrorException, match="used by service"):
        image.delete()
    service.delete()
    image.delete()
    assert Image.list(ws) == []
    with pytest.raises(docker.errors.ImageNotFound):
        engine.images.get(record["id"])
