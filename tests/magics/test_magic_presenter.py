"""What %load_ext installs around the seed's own code: the live panel for show_output=True, and HTML cards."""

import pytest

from aci_widgets.core import AciWebservice, ContainerImage, Model, Webservice, events


def _deploy(ws, name):
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python",
                                                conda_file="myenv.yml")
    return Webservice.deploy(ws, name, ["weights.npy"], config, AciWebservice.deploy_configuration())


@pytest.fixture
def presenter(ip):
    return ip._aci_widgets_state["presenter"]


def test_show_output_draws_the_panel_in_a_notebook(ip, presenter, ws, numpy_model, capsys):
    ip.run_line_magic("config", "DeployMagics.ui = 'widgets'")
    service = _deploy(ws, "seed-1")
    service.wait_for_deployment(show_output=True)
    panel = presenter.last_panel
    assert panel is not None and panel.state == "Healthy"
    assert {s: r.state for s, r in panel.rows.items()} == dict.fromkeys(events.STEPS, "done")
    assert "register model: done" not in capsys.readouterr().out


def test_show_output_prints_outside_a_notebook(ip, presenter, ws, numpy_model, capsys):
    assert ip.magics_manager.registry["DeployMagics"].use_widgets() is False  # a plain shell has no frontend
    ip.run_line_magic("config", "DeployMagics.ui = 'auto'")
    service = _deploy(ws, "seed-2")
    service.wait_for_deployment(show_output=True)
    assert presenter.last_panel is None
    out = capsys.readouterr().out
    assert "register model: done" in out and "service seed-2: Healthy" in out


def test_image_creation_panel_has_only_the_image_steps(ip, presenter, ws, numpy_model):
    ip.run_line_magic("config", "DeployMagics.ui = 'widgets'")
    model = Model.register(ws, "weights.npy", "weights.npy")
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python",
                                                conda_file="myenv.yml")
    image = ContainerImage.create(ws, "seedimage", [model], config)
    image.wait_for_creation(show_output=True)
    panel = presenter.last_panel
    assert list(panel.rows) == [events.REGISTER, events.BUILD]
    assert panel.rows[events.BUILD].state == "done"
    assert panel.state == "Succeeded"


def test_results_render_as_cards_in_html_and_as_repr_in_text(ip, ws, numpy_model):
    service = _deploy(ws, "seed-3")
    service.wait_for_deployment()
    data, _ = ip.display_formatter.format(service)
    assert data["text/plain"] == repr(service)
    card = data["text/html"]
    assert "seed-3" in card and "Healthy" in card and service.scoring_uri in card and "process" in card
    model = service.models[0]
    data, _ = ip.display_formatter.format(model)
    assert "weights.npy:1" in data["text/html"] and data["text/plain"] == repr(model)
    data, _ = ip.display_formatter.format(service.image)
    assert "seed-3:1" in data["text/html"] and "Succeeded" in data["text/html"]
    ip.run_line_magic("unload_ext", "aci_widgets")
    data, _ = ip.display_formatter.format(service)
    assert "text/html" not in data
    ip.run_line_magic("load_ext", "aci_widgets")


def test_in_a_notebook_a_service_result_is_the_live_card_with_its_static_copy(ip, ws, numpy_model):
    from ipywidgets.widgets.widget import _instances

    from aci_widgets.widgets.service_card import ServiceCard

    ip.run_line_magic("config", "DeployMagics.ui = 'widgets'")
    service = _deploy(ws, "seed-4")
    service.wait_for_deployment()
    data, _ = ip.display_formatter.format(service)
    view = data["application/vnd.jupyter.widget-view+json"]
    card = _instances[view["model_id"]]  # the live widgets by model id (Widget.widgets is deprecated)
    assert isinstance(card, ServiceCard) and card.service.name == "seed-4"
    assert card.badge.state == "Healthy"
    assert [b.description for b in card.buttons.children] == ["Test", "Logs", "Delete"]
    assert "seed-4" in data["text/html"] and "Healthy" in data["text/html"]  # for a saved notebook
    assert data["text/plain"] == repr(service)
    service.delete()
    card.refresh()  # what the card's follower thread does every few seconds
    assert card.badge.state == "Deleted"
