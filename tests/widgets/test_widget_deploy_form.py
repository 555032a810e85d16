"""The deploy form: live name validation, the model list, mistakes shown in place, and a real deployment."""

import pytest

from aci_widgets.core import Model, Webservice, events
from aci_widgets.core.names import SERVICE_RULE
from aci_widgets.widgets.deploy_form import FILE, DeployForm
from aci_widgets.widgets.progress import DeploymentProgress
from aci_widgets.widgets.service_card import ServiceCard


@pytest.mark.parametrize(("name", "valid"), [
    ("", False), ("a", False), ("Bad_Name", False), ("1abc", False), ("ends-", False), ("x" * 33, False),
    ("aci-mnist-1", True), ("abc", True),
])
def test_name_is_validated_as_it_is_typed(ws, workdir, name, valid):
    form = DeployForm(ws)
    form.name.value = name
    assert form.deploy_button.disabled is not valid
    if valid:
        assert "valid name" in form.name_rule.value
    elif name:
        assert SERVICE_RULE in form.name_rule.value.replace("&#x27;", "'")
    assert form.name.continuous_update


def test_fixing_the_name_enables_deploy(ws, workdir):
    form = DeployForm(ws)
    form.name.value = "Bad_Name"
    assert form.deploy_button.disabled
    form.name.value = "good-name"
    assert not form.deploy_button.disabled


def test_registered_models_are_offered_latest_first(ws, numpy_model):
    Model.register(ws, "weights.npy", "weights.npy")
    Model.register(ws, "myenv.yml", "env-as-model")
    form = DeployForm(ws)
    assert list(form.model.options) == ["env-as-model:1", "weights.npy:1"]
    assert form.conda.value == "myenv.yml"  # found in the notebook's folder


def test_a_mistake_is_shown_next_to_the_button_and_nothing_is_deployed(ws, numpy_model):
    form = DeployForm(ws)
    form.source.value = FILE
    assert form.model.layout.display == "none" and form.model_file.layout.display == ""
    form.model_file.value = "weights.npy"
    form.script.value = "missing.py"
    form.name.value = "form-bad"
    form.deploy_button.click()
    assert "Score script 'missing.py' not found" in form.status.value.replace("&#x27;", "'")
    assert form.results.children == ()
    assert Model.list(ws) == [] and Webservice.list(ws) == []


def test_deploy_opens_the_panel_below_and_adds_a_card_when_healthy(ws, numpy_model):
    deployed = []
    form = DeployForm(ws, on_deployed=deployed.append)
    form.source.value = FILE
    form.model_file.value = "weights.npy"
    form.cpu.value, form.memory.value = 0.5, 0.5
    form.name.value = "form-ok"
    form.deploy_button.click()
    panel = form.results.children[0]
    assert isinstance(panel, DeploymentProgress) and panel is form.panel
    assert panel.rows[events.REGISTER].state == "done"
    assert panel.rows[events.REGISTER].message == "weights.npy:1 (registered now)"
    assert panel.wait_finished(300)  # drawn from the worker thread: wait for the panel, not the operation
    assert panel.state == "Healthy"
    card = form.results.children[-1]
    assert isinstance(card, ServiceCard) and card.service.name == "form-ok"
    assert [s.name for s in deployed] == ["form-ok"]
    assert Webservice(ws, "form-ok").run('{"data": [[1, 1, 1]]}') == [6.0]
    assert "weights.npy:1" in form.model.options
