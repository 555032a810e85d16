"""The errors a user of the aci target meets, each one line saying what to do, with ARM's own message kept in the
detail: not logged in, subscription or resource group missing, quota reached, image not pullable, push refused."""

from __future__ import annotations

import types
import uuid
from pathlib import Path

import pytest

from aci_widgets.core.errors import AciWidgetsError
from aci_widgets.core.image import ContainerImage, Image
from aci_widgets.core.model import Model
from aci_widgets.core.webservice import AciWebservice, Webservice

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def image(arm: types.SimpleNamespace, aci_ws: object, tmp_path_factory: pytest.TempPathFactory) -> Image:
    """One image for the module (built and pushed once): each error test deploys it with one setting broken."""
    import numpy as np
    from conftest import NUMPY_ENV, NUMPY_SCORE  # tests/conftest.py

    folder = tmp_path_factory.mktemp("model")
    (folder / "score.py").write_text(NUMPY_SCORE)
    (folder / "myenv.yml").write_text(NUMPY_ENV)
    np.save(folder / "weights.npy", np.array([1.0, 2.0, 3.0]))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ACI_WIDGETS_REGISTRY", arm.registry.server)
        patch.setenv("ACI_WIDGETS_REGISTRY_USERNAME", arm.registry.username)
        patch.setenv("ACI_WIDGETS_REGISTRY_PASSWORD", arm.registry.password)
        model = Model.register(model_path=str(folder / "weights.npy"), model_name="weights", workspace=aci_ws)
        config = ContainerImage.image_configuration(execution_script=str(folder / "score.py"), runtime="python",
                                                    conda_file=str(folder / "myenv.yml"))
        created = ContainerImage.create(aci_ws, f"err-{uuid.uuid4().hex[:6]}", [model], config)
        created.wait_for_creation()
    return created


def _deploy_error(aci_ws: object, image: Image) -> AciWidgetsError:
    service = Webservice.deploy_from_image(aci_ws, f"e-{uuid.uuid4().hex[:8]}", image,
                                           AciWebservice.deploy_configuration(cpu_cores=0.5, memory_gb=0.5))
    with pytest.raises(AciWidgetsError):
        service.wait_for_deployment()
    assert service.state == "Failed"
    return service.operation.error


@pytest.mark.parametrize(("variable", "value", "says", "arm_code"), [
    ("ACI_WIDGETS_ARM_TOKEN", "expired-token", "az login", "InvalidAuthenticationToken"),
    ("AZURE_SUBSCRIPTION_ID", "11111111-2222-3333-4444-555555555555", "az account list", "SubscriptionNotFound"),
    ("AZURE_RESOURCE_GROUP", "no-such-rg", "az group create -n no-such-rg", "ResourceGroupNotFound"),
    ("ACI_WIDGETS_REGISTRY_PASSWORD", "wrong-password", "check the registry credentials", "InaccessibleImage"),
])
def test_deploy_errors_say_what_to_do(image: Image, aci_ws: object, monkeypatch: pytest.MonkeyPatch,
                                      aci_env: types.SimpleNamespace, variable: str, value: str, says: str,
                                      arm_code: str) -> None:
    monkeypatch.setenv(variable, value)
    error = _deploy_error(aci_ws, image)
    assert says in error.message and "\n" not in error.message
    assert f"({arm_code})" in error.detail
    assert aci_env.stub.groups == {} or all(g.state != "Pending" for g in aci_env.stub.groups.values())


def test_quota_reached(image: Image, aci_ws: object, aci_env: types.SimpleNamespace,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aci_env.stub, "quota", 0)
    error = _deploy_error(aci_ws, image)
    assert "quota" in error.message and "delete services you no longer need" in error.message
    assert "(ContainerGroupQuotaReached)" in error.detail


def test_push_refused(aci_env: types.SimpleNamespace, aci_ws: object, model_dir: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACI_WIDGETS_REGISTRY_PASSWORD", "wrong-password")
    model = Model.register(model_path="weights.npy", model_name="weights", workspace=aci_ws)
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python", conda_file="myenv.yml")
    created = ContainerImage.create(aci_ws, f"push-{uuid.uuid4().hex[:6]}", [model], config)
    with pytest.raises(AciWidgetsError) as caught:
        created.wait_for_creation()
    error = created.operation.error if created.operation else caught.value
    assert f"The registry {aci_env.registry.server} refused the push" in str(error)
    assert "ACI_WIDGETS_REGISTRY_PASSWORD" in str(error)
