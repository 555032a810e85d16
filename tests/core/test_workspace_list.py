"""``Workspace.list()`` as in azureml: every workspace under the home folder, by name (what the sidebar offers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aci_widgets.core import Workspace


def test_lists_the_home_s_workspaces_and_skips_what_is_not_one(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACI_WIDGETS_HOME", str(tmp_path))
    assert Workspace.list() == {}
    Workspace.create("alpha", subscription_id="sub-1")
    Workspace.create("beta")
    (tmp_path / "workspaces" / "half-made").mkdir()  # no workspace.json
    broken = tmp_path / "workspaces" / "broken"
    broken.mkdir()
    (broken / "workspace.json").write_text("{not json")
    Workspace.create("elsewhere", path=tmp_path / "other")  # not under the home's workspaces folder

    found = Workspace.list()
    assert sorted(found) == ["alpha", "beta"]
    assert found["alpha"] == [Workspace("alpha")]
    assert list(Workspace.list(subscription_id="sub-1")) == ["alpha"]
