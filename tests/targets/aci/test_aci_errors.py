"""The errors a user of the aci target meets, each one line saying what to do, with ARM's own message kept in the
detail: not logged in, subscription or resource group missing, quota reached, image not pullable, push refused,
a DNS label already taken, a name or a size ACI refuses.

The core checks what holds everywhere first (its name rule, at most 4 vCPU and 16 GB, the DNS label's form); what
only Azure knows (the label is taken, this region's largest size, ACI's stricter name rule) comes back from ARM,
as does a label ARM refuses (its 400 read by the SDK over https). Each deploys the session's image (built and
pushed once) with one setting broken."""

from __future__ import annotations

import types
import uuid
from pathlib import Path

import pytest

from aci_widgets.core.errors import AciWidgetsError, UserErrorException
from aci_widgets.core.image import ContainerImage, Image
from aci_widgets.core.model import Model
from aci_widgets.core.webservice import AciWebservice, Webservice

pytestmark = pytest.mark.docker


def _deploy_error(aci_ws: object, image: Image, name: str | None = None, **config: object) -> AciWidgetsError:
    config = {"cpu_cores": 0.5, "memory_gb": 0.5, **config}
    service = Webservice.deploy_from_image(aci_ws, name or f"e-{uuid.uuid4().hex[:8]}", image,
                                           AciWebservice.deploy_configuration(**config))
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
def test_deploy_errors_say_what_to_do(aci_image: Image, aci_ws: object, monkeypatch: pytest.MonkeyPatch,
                                      aci_env: types.SimpleNamespace, variable: str, value: str, says: str,
                                      arm_code: str) -> None:
    monkeypatch.setenv(variable, value)
    error = _deploy_error(aci_ws, aci_image)
    assert says in error.message and "\n" not in error.message
    assert f"({arm_code})" in error.detail
    assert aci_env.stub.groups == {} or all(g.state != "Pending" for g in aci_env.stub.groups.values())


def test_quota_reached(aci_image: Image, aci_ws: object, aci_env: types.SimpleNamespace,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aci_env.stub, "quota", 0)
    error = _deploy_error(aci_ws, aci_image)
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


def test_a_size_this_region_does_not_offer(aci_image: Image, aci_ws: object, aci_env: types.SimpleNamespace,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aci_env.stub, "max_cpu", 2.0)  # a region whose largest group is smaller than 4 vCPU
    error = _deploy_error(aci_ws, aci_image, cpu_cores=3, memory_gb=2)
    assert isinstance(error, UserErrorException) and "\n" not in error.message
    assert "ACI in westeurope cannot give service" in error.message and "(3 vCPU, 2 GB)" in error.message
    assert "choose smaller cpu_cores / memory_gb" in error.message and "another location" in error.message
    # What ARM answers (409, as quoted in public threads), kept for the user.
    assert "(ServiceUnavailable)" in error.detail
    assert "not available in the location 'westeurope'" in error.detail
    assert "Resource requested: '3' CPU '2' GB memory 'Linux' OS" in error.detail


def test_a_name_azure_refuses(aci_image: Image, aci_ws: object, aci_env: types.SimpleNamespace) -> None:
    # Valid for the core's rule, but ACI refuses consecutive hyphens in a container-group name.
    error = _deploy_error(aci_ws, aci_image, name="ab--cd")
    assert isinstance(error, UserErrorException) and "\n" not in error.message
    assert "'ab--cd' is not a valid container-group name in Azure" in error.message
    assert "without two '-' in a row" in error.message
    assert "(InvalidContainerGroupName)" in error.detail and "'ab--cd' is invalid" in error.detail
    assert all(g.name != "ab--cd" for g in aci_env.stub.groups.values())


def test_an_invalid_dns_label_refused_by_azure(aci_image: Image, aci_ws: object,
                                               aci_env: types.SimpleNamespace) -> None:
    """The core refuses such a label before calling Azure (the test below); a label that reaches ARM anyway (another
    client's rule, an older core) comes back as ARM's 400 over https, read by the SDK and said in one line."""
    from azure.core.exceptions import HttpResponseError

    from aci_widgets.core.target import ServiceSpec
    from aci_widgets.targets.aci.client import aci_client
    from aci_widgets.targets.aci.errors import explain
    from aci_widgets.targets.aci.group import container_group
    from aci_widgets.targets.aci.settings import AciSettings

    settings = AciSettings.of(aci_ws)
    name = f"dns-{uuid.uuid4().hex[:6]}"
    spec = ServiceSpec(name=name, image={"tag": aci_image.image_location, "cmd": []}, cpu_cores=0.5, memory_gb=0.5)
    group = container_group(spec, "ws", settings, settings.location, {}, "Iris_Demo", None)
    with pytest.raises(HttpResponseError) as caught:
        aci_client(settings).container_groups.begin_create_or_update(settings.resource_group, name, group)
    assert caught.value.status_code == 400
    error = explain(caught.value, settings, name)
    assert isinstance(error, UserErrorException) and "\n" not in error.message
    assert f"The DNS name label of service {name!r} is not valid in Azure" in error.message
    assert "choose a dns_name_label of 5 to 63 lowercase letters, digits and '-', starting with a letter" \
        in error.message
    assert "(InvalidDnsNameLabel) The DNS name label 'Iris_Demo' in container group" in error.detail
    assert all(g.name != name for g in aci_env.stub.groups.values())


@pytest.mark.parametrize("label", ["iris-demo", "abcde", "a" * 63, "Iris_Demo", "iris", "a" * 64, "1abcd", "abcd-",
                                   "iris demo", "iris.demo"])
def test_the_core_and_arm_agree_on_the_dns_label_rule(label: str) -> None:
    """The core checks a label before calling Azure with the rule ARM states; the stand-in follows that rule."""
    from aci_widgets.testing.armstub.errors import ArmError
    from aci_widgets.testing.armstub.validation import check_group

    body = {"location": "westeurope", "properties": {
        "osType": "Linux", "containers": [{"name": "c", "properties": {
            "image": "x", "resources": {"requests": {"cpu": 1, "memoryInGB": 1}}}}],
        "ipAddress": {"type": "Public", "ports": [{"port": 5001}], "dnsNameLabel": label}}}
    try:
        check_group("svc", body)
        arm_accepts = True
    except ArmError as refused:
        assert refused.code == "InvalidDnsNameLabel"
        arm_accepts = False
    try:
        AciWebservice.deploy_configuration(dns_name_label=label)
        core_accepts = True
    except UserErrorException:
        core_accepts = False
    assert core_accepts == arm_accepts


@pytest.mark.parametrize(("setting", "says"), [
    ({"cpu_cores": 5}, "cpu_cores must be a number above 0 and at most 4, got 5"),
    ({"memory_gb": 32}, "memory_gb must be a number above 0 and at most 16, got 32"),
    ({"dns_name_label": "Iris_Demo"}, "dns_name_label must be 5 to 63 lowercase letters"),
])
def test_the_core_refuses_what_aci_never_accepts(setting: dict[str, object], says: str) -> None:
    with pytest.raises(UserErrorException) as caught:
        AciWebservice.deploy_configuration(**setting)
    assert says in str(caught.value)
