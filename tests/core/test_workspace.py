import json

import pytest

from aci_widgets.core import Workspace
from aci_widgets.core.errors import UserErrorException


def test_create_open_and_exist_ok(tmp_path):
    ws = Workspace.create("docs-ws", path=tmp_path / "w", target="process")
    assert ws.target == "process"
    assert Workspace("docs-ws", path=tmp_path / "w") == ws
    with pytest.raises(UserErrorException, match="exist_ok=True"):
        Workspace.create("docs-ws", path=tmp_path / "w")
    assert Workspace.create("docs-ws", path=tmp_path / "w", exist_ok=True) == ws


def test_default_location_is_under_aci_widgets_home(tmp_path, monkeypatch):
    monkeypatch.setenv("ACI_WIDGETS_HOME", str(tmp_path / "home"))
    ws = Workspace.create("homed", exist_ok=True)
    assert ws.root == tmp_path / "home" / "workspaces" / "homed"
    assert ws.target == "auto"


def test_opening_a_missing_workspace_says_how_to_create_it(tmp_path, monkeypatch):
    monkeypatch.setenv("ACI_WIDGETS_HOME", str(tmp_path))
    with pytest.raises(UserErrorException, match=r"Workspace.create\('nope', exist_ok=True\)"):
        Workspace("nope")


def test_write_config_and_from_config_in_a_subfolder(tmp_path, monkeypatch):
    ws = Workspace.create("cfg-ws", path=tmp_path / "w", target="process", subscription_id="sub-1")
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    config_file = ws.write_config(path=project)
    assert json.loads(config_file.read_text())["workspace_name"] == "cfg-ws"
    monkeypatch.chdir(project / "notebooks")
    again = Workspace.from_config()
    assert again == ws
    assert again.subscription_id == "sub-1"


def test_from_config_without_a_file_explains(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserErrorException, match="write_config"):
        Workspace.from_config()


def test_target_setting_is_saved_and_checked(tmp_path):
    ws = Workspace.create("t-ws", path=tmp_path / "w")
    ws.target = "docker"
    assert Workspace("t-ws", path=tmp_path / "w").target == "docker"
    with pytest.raises(UserErrorException, match="auto, process, docker"):
        ws.target = "cloud"
