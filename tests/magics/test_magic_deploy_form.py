"""``%deploy_form``: the deploy form from a magic, with the target preset; refused where widgets cannot show."""

import pytest
from IPython.core.error import UsageError

from aci_widgets.core import Webservice
from aci_widgets.widgets.deploy_form import FILE, DeployForm
from aci_widgets.widgets.progress import DeploymentProgress


def test_deploy_form_shows_a_form_that_deploys(ip, settings, ws, numpy_model):
    ip.run_line_magic("config", "DeployMagics.ui = 'widgets'")
    form = ip.run_line_magic("deploy_form", "--target process")
    assert isinstance(form, DeployForm)
    assert form.target.value == "process"
    assert form.workspace.name == ws.name
    form.source.value = FILE
    form.model_file.value = "weights.npy"
    form.name.value = "from-magic"
    form.deploy_button.click()
    panel = form.results.children[0]
    assert isinstance(panel, DeploymentProgress)
    assert panel.wait_finished(300)
    assert panel.state == "Healthy"
    assert Webservice(ws, "from-magic").run('{"data": [[1, 1, 1]]}') == [6.0]


def test_deploy_form_takes_the_configured_target(ip, settings):
    ip.run_line_magic("config", "DeployMagics.ui = 'widgets'")
    ip.run_line_magic("config", "DeployMagics.target = 'docker'")
    assert ip.run_line_magic("deploy_form", "").target.value == "docker"


def test_deploy_form_outside_a_notebook_says_what_to_use(ip, settings):
    ip.run_line_magic("config", "DeployMagics.ui = 'text'")
    with pytest.raises(UsageError, match="draws widgets.*%deploy_aci"):
        ip.run_line_magic("deploy_form", "")


def test_deploy_form_rejects_an_unknown_target(ip, settings):
    ip.run_line_magic("config", "DeployMagics.ui = 'widgets'")
    with pytest.raises(UsageError, match="--target must be one of auto, process, docker"):
        ip.run_line_magic("deploy_form", "--target cloud")
