"""Model.delete as on Azure (a service blocks it, images do not, and keep working), one transaction for a model and
its details, and an image's build log and Dockerfile as real local files."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from aci_widgets.core import Environment, UserErrorException
from aci_widgets.core.image import Image
from aci_widgets.core.model import InferenceConfig, Model
from aci_widgets.core.webservice import LocalWebservice, Webservice


@pytest.fixture
def config(numpy_model):
    env = Environment("numpy-here")
    env.python.user_managed_dependencies = True
    return InferenceConfig(entry_script="score.py", environment=env)


def test_model_delete_after_its_service_keeps_the_image_deployable(ws, config):
    model = Model.register(ws, "weights.npy", "weights.npy")
    service = Model.deploy(ws, "del-model", [model], config, LocalWebservice.deploy_configuration())
    service.wait_for_deployment()
    with pytest.raises(UserErrorException, match="used by service.*del-model"):
        model.delete()
    image = service.image
    service.delete()
    model.delete()
    assert ws.models == {}
    assert image.models == []  # the registered model is gone; the image keeps its copy
    redeployed = Webservice.deploy_from_image(ws, "del-again", Image(ws, image.name, version=image.version),
                                              LocalWebservice.deploy_configuration())
    redeployed.wait_for_deployment()
    assert redeployed.run({"data": [[0, 0, 1]]}) == [3.0]


def test_model_details_are_written_with_the_model(ws, numpy_model):
    model = Model.register(ws, "weights.npy", "weights.npy", model_framework=Model.Framework.SCIKITLEARN,
                           model_framework_version="1.3")
    assert (model.model_framework, model.model_framework_version) == ("ScikitLearn", "1.3")
    assert ws.registry.get("model_details", name="weights.npy", version=1)["details"]["model_framework"]


def test_build_log_and_dockerfile_are_local_files(ws, config):
    model = Model.register(ws, "weights.npy", "weights.npy")
    service = Model.deploy(ws, "files-svc", [model], config, LocalWebservice.deploy_configuration())
    service.wait_for_deployment()
    image = service.image
    log = Path(urlsplit(image.image_build_log_uri).path)
    assert log.is_file() and log.read_text() == image.get_logs()
    dockerfile = Path(urlsplit(image.generated_dockerfile_uri).path)
    text = dockerfile.read_text()
    assert text.startswith("FROM ") and "aci_widgets.runtime" in text
    context = dockerfile.parent
    assert (context / "azureml-models" / "weights.npy" / "1" / "weights.npy").is_file()
    assert (context / "script" / "score.py").read_text() == Path("score.py").read_text()
    # What the COPY lines name is in the context (what docker build would need).
    for line in text.splitlines():
        if line.startswith("COPY ") and not line.startswith("COPY ["):
            assert (context / line.split()[1].rstrip("/")).exists(), line
