"""LocalWebservice as in azureml: lowercase states and their gate, port, reload, update that rebuilds and restarts,
deploy_to_cloud saying what is missing; update() on every service applies each argument or names it. Real servers
on the process target."""

import json
import warnings

import numpy as np
import pytest

from aci_widgets.core import Environment, UserErrorException, WebserviceException
from aci_widgets.core.model import InferenceConfig, Model
from aci_widgets.core.webservice import AciWebservice, LocalWebservice, Webservice


@pytest.fixture
def config(numpy_model):
    env = Environment("local-numpy")
    env.python.user_managed_dependencies = True  # the test's own Python: no environment to build
    return InferenceConfig(entry_script="score.py", environment=env)


@pytest.fixture
def local(ws, config):
    model = Model.register(ws, "weights.npy", "weights.npy")
    service = Model.deploy(ws, "local-svc", [model], config, LocalWebservice.deploy_configuration())
    service.wait_for_deployment()
    return service


def test_local_service_has_azureml_states_and_port(local, capsys):
    assert isinstance(local, LocalWebservice)
    assert local.state == "running"
    local.wait_for_deployment()
    assert f"Local webservice is running at http://127.0.0.1:{local.port}" in capsys.readouterr().out
    assert local.scoring_uri == f"http://127.0.0.1:{local.port}/score"
    assert LocalWebservice(local.workspace, "local-svc").serialize()["port"] == local.port
    local.delete()
    assert local.state == "deleted"
    with pytest.raises(WebserviceException, match=r"^Cannot call run\(\) when service is deleted\."):
        local.run({"data": [[1, 0, 0]]})
    with pytest.raises(WebserviceException, match=r"^Cannot call get_logs\(\) when service is deleted\."):
        local.get_logs()


def test_failed_service_gate_names_the_init_error(ws, numpy_model, config):
    (numpy_model / "score.py").write_text("def init():\n    raise ValueError('no weights here')\n\n"
                                          "def run(raw):\n    return raw\n")
    model = Model.register(ws, "weights.npy", "weights.npy")
    service = Model.deploy(ws, "local-bad", [model], config, LocalWebservice.deploy_configuration())
    with pytest.raises(WebserviceException, match="no weights here"):
        service.wait_for_deployment()
    assert service.state == "failed"
    with pytest.raises(WebserviceException, match=r"Cannot call run\(\) when service is failed\..*no weights here"):
        service.run({"data": [[1, 0, 0]]})
    assert "no weights here" in service.get_logs()  # allowed when failed, as in azureml


def test_update_rebuilds_with_new_models_script_and_port(local, numpy_model, config):
    port = local.port
    np.save("weights.npy", np.array([10.0, 20.0, 30.0]))
    newer = Model.register(local.workspace, "weights.npy", "weights.npy")
    local.update(models=[newer])
    assert local.run({"data": [[1, 1, 1]]}) == [60.0]   # run() waits while the service is deploying
    assert local.port == port and [m.id for m in local.models] == ["weights.npy:2"]

    (numpy_model / "score.py").write_text((numpy_model / "score.py").read_text().replace("@ weights", "@ -weights"))
    local.update(inference_config=config, wait=True)
    assert local.run({"data": [[1, 1, 1]]}) == [-60.0]

    local.update(deployment_config=LocalWebservice.deploy_configuration(port=_free_port()), wait=True)
    assert local.port != port
    assert local.run({"data": [[1, 0, 0]]}) == [-10.0]


def test_reload_and_logs_of_the_start(local, numpy_model):
    (numpy_model / "score.py").write_text((numpy_model / "score.py").read_text().replace("@ weights", "@ weights * 3"))
    local.reload()
    assert local.run({"data": [[1, 0, 0]]}) == [3.0]
    start = local.get_logs(init=True).splitlines()
    assert " ready on http://127.0.0.1:" in start[-1]


def test_update_refuses_what_it_cannot_apply_naming_it(local):
    with pytest.raises(UserErrorException, match="enable_app_insights=True: Application Insights is not available"):
        local.update(enable_app_insights=True)
    with pytest.raises(UserErrorException, match="ssl_enabled=True: HTTPS is not available"):
        local.update(ssl_enabled=True)
    with pytest.raises(UserErrorException, match="does not know: colour="):
        local.update(colour="blue")
    local.update(properties={"owner": "me"}, tags={"stage": "dev"}, enable_app_insights=False)
    again = Webservice(local.workspace, "local-svc")
    assert (again.properties, again.tags) == ({"owner": "me"}, {"stage": "dev"})


def test_aci_configuration_keys_are_real_and_azure_only_settings_are_named(ws, numpy_model, config):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        deployment = AciWebservice.deploy_configuration(auth_enabled=True, primary_key="first-key",
                                                        secondary_key="second-key", enable_app_insights=True)
    assert [str(w.message).split(":")[1].strip() for w in caught] == ["enable_app_insights=True does nothing on "
                                                                      "the local targets"]
    model = Model.register(ws, "weights.npy", "weights.npy")
    service = Model.deploy(ws, "aci-keys", [model], config, deployment)
    service.wait_for_deployment()
    assert service.get_keys() == ("first-key", "second-key")
    service.update(cpu_cores=0.5)
    service.wait_for_deployment()
    assert service.get_keys() == ("first-key", "second-key")  # a restart keeps the keys
    assert service.run({"data": [[0, 1, 0]]}) == [2.0]


def test_deploy_to_cloud_says_what_is_missing(local):
    with pytest.raises(WebserviceException) as info:
        local.deploy_to_cloud("cloud-svc")
    message = str(info.value)
    assert message.startswith("Cannot deploy 'local-svc' to the cloud: ")
    assert "subscription_id or resource_group" in message
    assert local.state == "running"


def test_serialize_and_deserialize(local):
    payload = json.loads(json.dumps(local.serialize()))
    assert payload["modelIds"] == ["weights.npy:1"] and payload["computeType"] == "Local"
    again = Webservice.deserialize(local.workspace, payload)
    assert again.name == "local-svc" and again.scoring_uri == local.scoring_uri
    with pytest.raises(NotImplementedError):
        LocalWebservice.deserialize(local.workspace, payload)


def test_list_filters(local, ws, config):
    other = Model.deploy(ws, "aci-other", [Model(ws, "weights.npy")], config,
                         AciWebservice.deploy_configuration(tags={"team": "a"}))
    other.wait_for_deployment()
    assert [s.name for s in Webservice.list(ws, compute_type="Local")] == ["local-svc"]
    assert [s.name for s in Webservice.list(ws, tags=[["team", "a"]])] == ["aci-other"]
    assert [s.name for s in Webservice.list(ws, model_name="weights.npy")] == ["aci-other", "local-svc"]
    assert Webservice.list(ws, model_name="nothing") == []


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
