"""%deploy_aci on the aci target against the Resource Manager stand-in, what `aci-widgets ps` lists for it, and
`aci-widgets config`: the settings and where each comes from, secrets masked and never written to the workspace."""

from __future__ import annotations

import json
import sys
import types
import uuid
from pathlib import Path

import pytest
from support import RaisingShell
from traitlets.config import Config

from aci_widgets import cli
from aci_widgets.core import Webservice, Workspace
from aci_widgets.core.running import running


@pytest.fixture
def ip(aci_ws: Workspace) -> object:
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = RaisingShell.instance(config=config)
    shell.run_line_magic("load_ext", "aci_widgets")
    shell.run_line_magic("config", f"DeployMagics.workspace = {aci_ws.name!r}")
    shell.run_line_magic("config", f"DeployMagics.workspace_path = {str(aci_ws.root)!r}")
    shell.run_line_magic("config", "DeployMagics.ui = 'text'")
    yield shell
    shell.run_line_magic("unload_ext", "aci_widgets")
    RaisingShell.clear_instance()
    if "ipywidgets" in sys.modules:
        sys.modules["ipywidgets"].Widget.close_all()


@pytest.mark.docker
def test_deploy_aci_magic_shows_the_cost_and_ps_lists_the_group(ip: object, aci_env: types.SimpleNamespace,
                                                                aci_ws: Workspace, model_dir: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    name = f"mag-{uuid.uuid4().hex[:6]}"
    service = ip.run_line_magic("deploy_aci", f"{name} --model weights.npy --conda myenv.yml --cpu 1 --memory 2 "
                                              "--target aci")
    assert isinstance(service, Webservice) and service.state == "Healthy", service.error
    assert service.run(json.dumps({"data": [[1, 1, 1]]})) == [6.0]
    out = capsys.readouterr().out
    # 1 vCPU and 2 GB at the table's list prices: 3600 * (0.0000113 + 2 * 0.0000012) = $0.049 per hour.
    assert "Cost: 1 vCPU and 2 GB bill about $0.049 per hour" in out
    # The table's prices were never checked against Azure's page: the user is told so, and where to check.
    assert "not verified: check https://azure.microsoft.com/pricing/details/container-instances/" in out
    assert f"container group {name} in westeurope (1 vCPU, 2 GB)" in out
    # What `aci-widgets ps` lists: the workspace's container groups, as Azure reports them.
    groups = [r for r in running(aci_ws) if r.kind == "container group"]
    assert [(g.name, g.target, g.state) for g in groups if g.name == name] == [(name, "aci", "Running")]
    service.delete()
    assert name not in [g.name for g in running(aci_ws)]


def test_config_shows_where_each_setting_comes_from_and_masks_secrets(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ACI_WIDGETS_HOME", str(tmp_path / "home"))
    ws = Workspace.create("cfg-ws", subscription_id="sub-1", resource_group="rg-1", location="northeurope",
                          registry_password="pw-in-code-1234")
    monkeypatch.setenv("AZURE_RESOURCE_GROUP", "rg-from-env")
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    monkeypatch.delenv("AZURE_LOCATION", raising=False)
    monkeypatch.setenv("ACI_WIDGETS_REGISTRY", "myacr.azurecr.io")
    monkeypatch.setenv("ACI_WIDGETS_REGISTRY_USERNAME", "myacr")
    monkeypatch.setenv("ACI_WIDGETS_REGISTRY_PASSWORD", "pw-from-env-5678")
    monkeypatch.setenv("ACI_WIDGETS_ARM_TOKEN", "token-from-env-9012")
    monkeypatch.delenv("ACI_WIDGETS_ARM_ENDPOINT", raising=False)
    assert cli.main(["config", "--workspace", ws.name]) == 0
    lines = {line.split()[0] + (" " + line.split()[1] if line.split()[0] in ("registry", "ARM") else ""): line
             for line in capsys.readouterr().out.splitlines()[1:]}
    assert lines["subscription_id"].split()[1:] == ["sub-1", "workspace"]
    assert lines["resource_group"].split()[1:] == ["rg-from-env", "$AZURE_RESOURCE_GROUP"]
    assert lines["location"].split()[1:] == ["northeurope", "workspace"]
    assert lines["registry myacr.azurecr.io"].split()[2:] == ["$ACI_WIDGETS_REGISTRY"]
    assert "myacr" in lines["registry username"] and "$ACI_WIDGETS_REGISTRY_USERNAME" in lines["registry username"]
    assert "(hidden)" in lines["registry password"] and "(hidden)" in lines["ARM token"]
    assert "https://management.azure.com" in lines["ARM endpoint"]
    everything = "\n".join(lines.values())
    assert "pw-from-env" not in everything and "token-from-env" not in everything
    # A password given in code is never stored in plain text in the workspace.
    assert not [p for p in ws.root.rglob("*") if p.is_file() and b"pw-in-code-1234" in p.read_bytes()]


def test_the_registry_is_a_workspace_setting_the_environment_overrides(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from aci_widgets.core.errors import UserErrorException
    from aci_widgets.targets.aci.settings import AciSettings

    monkeypatch.setenv("ACI_WIDGETS_HOME", str(tmp_path / "home"))
    for name in ("ACI_WIDGETS_REGISTRY", "ACI_WIDGETS_REGISTRY_USERNAME", "ACI_WIDGETS_REGISTRY_PASSWORD",
                 "AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZURE_LOCATION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))  # no stored credentials
    bare = Workspace.create("bare-ws", subscription_id="sub-1", resource_group="rg-1")
    with pytest.raises(UserErrorException) as caught:
        AciSettings.of(bare)
    assert "set $ACI_WIDGETS_REGISTRY" in str(caught.value) and "registry='myacr.azurecr.io'" in str(caught.value)

    ws = Workspace.create("reg-ws", subscription_id="sub-1", resource_group="rg-1", location="northeurope",
                          registry="myacr.azurecr.io/")
    assert json.loads((ws.root / "workspace.json").read_text())["registry"] == "myacr.azurecr.io"
    assert Workspace("reg-ws")._settings["registry"] == "myacr.azurecr.io"  # kept for the next process
    assert AciSettings.of(ws).registry == "myacr.azurecr.io"

    def registry_line() -> list[str]:
        assert cli.main(["config", "--workspace", ws.name]) == 0
        out = capsys.readouterr().out.splitlines()
        return next(line.split() for line in out if line.split()[:1] == ["registry"] and "username" not in line
                    and "password" not in line)

    assert registry_line()[1:] == ["myacr.azurecr.io", "workspace"]
    monkeypatch.setenv("ACI_WIDGETS_REGISTRY", "other.azurecr.io")
    assert registry_line()[1:] == ["other.azurecr.io", "$ACI_WIDGETS_REGISTRY"]
    assert AciSettings.of(ws).registry == "other.azurecr.io"

    with pytest.raises(UserErrorException) as refused:
        Workspace.create("scheme-ws", registry="https://myacr.azurecr.io")
    assert "host name such as myacr.azurecr.io (no https://)" in str(refused.value)
