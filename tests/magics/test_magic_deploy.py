"""%deploy_aci on the process target: real environments, real servers, real requests."""

import json

import pytest
from IPython.core.error import UsageError

from aci_widgets.core import Image, Model, Webservice, events

CALL = json.dumps({"data": [[1, 1, 1]]})


def test_blocking_deploy_registers_builds_and_returns_a_healthy_service(ip, ws, numpy_model, capsys):
    svc = ip.run_line_magic("deploy_aci", "dot-1 --model weights.npy --conda myenv.yml --cpu 0.5 --memory 0.5 "
                                          "--tag data=numbers --tag kind=dot")
    assert isinstance(svc, Webservice)
    assert svc.state == "Healthy"
    assert svc.run(CALL) == [6.0]
    assert svc.tags == {"data": "numbers", "kind": "dot"}
    assert [m.id for m in svc.models] == ["weights.npy:1"]
    assert Model(ws, "weights.npy").files == ["weights.npy"]
    out = capsys.readouterr().out
    assert "register model: weights.npy:1 (registered now)" in out
    for step in (events.BUILD, events.START, events.HEALTH):
        assert f"{step}: done" in out
    assert "service dot-1: Healthy" in out


def test_the_same_model_file_is_registered_once_and_names_select_versions(ip, ws, numpy_model, capsys):
    ip.run_line_magic("deploy_aci", "dot-2 --model weights.npy --conda myenv.yml")
    svc = ip.run_line_magic("deploy_aci", "dot-2 --model weights.npy --conda myenv.yml --overwrite")
    assert "weights.npy:1 (already registered)" in capsys.readouterr().out
    assert [m.version for m in Model.list(ws, name="weights.npy")] == [1]
    import numpy as np

    np.save(numpy_model / "weights.npy", np.array([10.0, 20.0, 30.0]))
    ip.run_line_magic("deploy_aci", "dot-2 --model weights.npy --conda myenv.yml --overwrite")
    assert [m.version for m in Model.list(ws, name="weights.npy")] == [1, 2]
    assert svc.run(CALL) == [60.0]
    older = ip.run_line_magic("deploy_aci", "dot-3 --model weights.npy:1 --conda myenv.yml")
    assert older.run(CALL) == [6.0]
    assert [m.id for m in older.models] == ["weights.npy:1"]


def test_existing_service_without_overwrite_is_a_usage_error(ip, numpy_model):
    ip.run_line_magic("deploy_aci", "dot-4 --model weights.npy --conda myenv.yml")
    with pytest.raises(UsageError, match="Service 'dot-4' already exists"):
        ip.run_line_magic("deploy_aci", "dot-4 --model weights.npy --conda myenv.yml")


def test_image_option_builds_a_named_image_then_deploys_it(ip, ws, numpy_model):
    svc = ip.run_line_magic("deploy_aci", "dot-5 --model weights.npy --conda myenv.yml --image dotimage")
    assert svc.image_id == "dotimage:1"
    assert Image(ws, "dotimage").creation_state == "Succeeded"
    assert svc.run(CALL) == [6.0]
    again = ip.run_line_magic("deploy_aci", "dot-6 --image dotimage:1")  # an existing image, no models
    assert again.image_id == "dotimage:1"
    assert again.run(CALL) == [6.0]


def test_auth_requires_keys(ip, numpy_model):
    svc = ip.run_line_magic("deploy_aci", "dot-7 --model weights.npy --conda myenv.yml --auth")
    assert svc.auth_enabled
    primary, secondary = svc.get_keys()
    assert primary and secondary and primary != secondary
    assert svc.run(CALL) == [6.0]  # run() sends the key


def test_configured_target_is_asked_for_explicitly(ip, settings, numpy_model):
    ip.run_line_magic("config", "DeployMagics.target = 'process'")
    svc = ip.run_line_magic("deploy_aci", "dot-8 --model weights.npy --conda myenv.yml")
    chosen = [e for e in svc.operation.events if isinstance(e, events.TargetChosen)]
    assert [(e.target, e.reason) for e in chosen] == [("process", "asked for by deployment_target")]


def test_init_failure_is_a_usage_error_after_the_traceback_was_shown(ip, numpy_model, capsys):
    (numpy_model / "score.py").write_text("def init():\n    raise RuntimeError('no weights here')\n\n"
                                          "def run(raw_data):\n    return 1\n")
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("deploy_aci", "dot-9 --model weights.npy --conda myenv.yml")
    message = str(caught.value)
    assert "deployment failed" in message and "RuntimeError: no weights here" in message
    assert message.endswith("(details above)") and "\n" not in message
    out = capsys.readouterr().out
    assert "raise RuntimeError('no weights here')" in out  # the traceback, printed live


def test_no_wait_returns_while_deploying_and_the_service_comes_up(ip, numpy_model, capsys):
    svc = ip.run_line_magic("deploy_aci", "dot-10 --model weights.npy --conda myenv.yml --no-wait")
    assert svc.operation is not None
    assert "in the background" in capsys.readouterr().out
    svc.wait_for_deployment()
    assert svc.state == "Healthy"


def test_widgets_mode_follows_the_deployment_in_a_panel(ip, settings, numpy_model, capsys):
    ip.run_line_magic("config", "DeployMagics.ui = 'widgets'")
    svc = ip.run_line_magic("deploy_aci", "dot-11 --model weights.npy --conda myenv.yml")
    panel = settings.last_panel
    assert panel is not None and panel.state == "Healthy"
    assert {step: row.state for step, row in panel.rows.items()} == dict.fromkeys(events.STEPS, "done")
    assert panel.rows[events.REGISTER].message == "weights.npy:1 (registered now)"
    assert panel.target == "process"
    assert panel.bar.value == panel.bar.max == 4
    assert svc.state == "Healthy"
    assert "build image: done" not in capsys.readouterr().out  # the panel, not the printer


def test_widgets_mode_no_wait_has_a_cancel_button_that_cancels(ip, settings, ws, numpy_model):
    (numpy_model / "score.py").write_text("import time\n\ndef init():\n    time.sleep(300)\n\n"
                                          "def run(raw_data):\n    return 1\n")  # healthy only after 5 min
    ip.run_line_magic("config", "DeployMagics.ui = 'widgets'")
    svc = ip.run_line_magic("deploy_aci", "dot-12 --model weights.npy --conda myenv.yml --no-wait")
    panel = settings.last_panel
    assert panel.cancel_button.layout.display == ""
    assert not panel.cancel_button.disabled
    panel.cancel_button.click()
    assert panel.cancel_button.disabled
    assert panel.wait_finished(120)
    assert svc.operation.events[-1].state == "Cancelled"
    assert panel.state == "Cancelled"
    assert panel.badge.state == "Cancelled"
    assert panel.cancel_button.layout.display == "none"
    assert any("cancelled" in notice for notice in panel.notices)
