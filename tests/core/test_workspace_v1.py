"""Workspace.from_config with a v1 config.json, and azureml's dictionaries ws.models / webservices / environments."""

import json
import os

from aci_widgets.core import Model, Workspace


def test_version_is_the_package_version():
    import aci_widgets.core as core
    from aci_widgets import __version__

    version = core.VERSION
    assert version == __version__
    assert core.VERSION.split(".")[0].isdigit()
    assert "VERSION" in dir(core)


def test_from_config_creates_the_named_workspace_and_keeps_the_azure_fields(workdir, capsys, monkeypatch):
    (workdir / ".azureml").mkdir()
    (workdir / ".azureml" / "config.json").write_text(json.dumps(
        {"subscription_id": "0000-sub", "resource_group": "rg-1", "workspace_name": f"v1-{os.getpid()}"}))
    (workdir / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(workdir / "deep" / "er")  # searched in parent folders too, as azureml does
    ws = Workspace.from_config()
    assert "did not exist on this machine: created it" in capsys.readouterr().out
    assert (ws.subscription_id, ws.resource_group) == ("0000-sub", "rg-1")
    assert json.loads((ws.root / "workspace.json").read_text())["resource_group"] == "rg-1"
    again = Workspace.from_config(path=str(workdir))
    assert again == ws and capsys.readouterr().out == ""
    assert ws.models == {} and ws.webservices == {}
    assert "AzureML-Minimal" in ws.environments


def test_from_config_fills_in_missing_azure_fields_of_an_existing_workspace(ws, workdir):
    (workdir / "config.json").write_text(json.dumps({"workspace_name": ws.name, "aci_widgets_path": str(ws.root),
                                                     "subscription_id": "s", "resource_group": "g"}))
    opened = Workspace.from_config()
    assert opened == ws and opened.subscription_id == "s"


def test_ws_models_maps_each_name_to_its_latest_version(ws, numpy_model):
    Model.register(ws, "weights.npy", "w")
    latest = Model.register(ws, "weights.npy", "w")
    Model.register(ws, "myenv.yml", "other")
    assert ws.models["w"] == latest and latest.version == 2
    assert sorted(ws.models) == ["other", "w"]


def test_location_is_always_a_region_as_in_azureml(tmp_path, monkeypatch):
    monkeypatch.delenv("AZURE_LOCATION", raising=False)
    bare = Workspace.create("no-region", path=tmp_path / "bare")
    assert "Azure region: " + bare.location == "Azure region: eastus"  # the configuration notebook's print
    assert bare.get_details()["location"] == "eastus"
    monkeypatch.setenv("AZURE_LOCATION", "westeurope")
    assert Workspace("no-region", path=tmp_path / "bare").location == "westeurope"
    own = Workspace.create("own-region", location="northeurope", path=tmp_path / "own")
    assert own.location == "northeurope"  # the workspace's own region wins over $AZURE_LOCATION
    assert json.loads((tmp_path / "bare" / "workspace.json").read_text())["location"] is None  # not invented


def test_the_aci_target_reads_the_same_region(tmp_path, monkeypatch):
    from aci_widgets.targets.aci.settings import AciSettings

    monkeypatch.delenv("AZURE_LOCATION", raising=False)
    for name in ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "ACI_WIDGETS_REGISTRY"):
        monkeypatch.setenv(name, "x")
    bare = Workspace.create("aci-region", path=tmp_path / "bare")
    assert AciSettings.of(bare).location == bare.location == "eastus"
    monkeypatch.setenv("AZURE_LOCATION", "westeurope")
    assert AciSettings.of(bare).location == bare.location == "westeurope"
