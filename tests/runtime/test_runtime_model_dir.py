"""``get_model_path``: each resolution rule on a real directory tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from aci_widgets.runtime.model_dir import ModelPathNotFound, get_model_path


def _file(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    base = tmp_path / "azureml-models"
    _file(base / "mnist" / "1" / "model.pkl")
    _file(base / "mnist" / "2" / "model.pkl")
    _file(base / "mnist" / "10" / "model.pkl")  # numeric order: 10 is the latest, not 2
    (base / "mnist" / "latest").mkdir()  # not a version: ignored
    _file(base / "multi" / "3" / "a.bin")
    _file(base / "multi" / "3" / "b.bin")
    _file(base / "nested" / "1" / "export" / "weights.npy")
    _file(base / "older" / "1" / "only_in_v1.pkl")
    _file(base / "older" / "2" / "current.pkl")
    return base


def test_latest_version_single_file_is_returned(root: Path) -> None:
    assert get_model_path("mnist", root=str(root)) == str(root / "mnist" / "10" / "model.pkl")


def test_explicit_version(root: Path) -> None:
    assert get_model_path("mnist", version=2, root=str(root)) == str(root / "mnist" / "2" / "model.pkl")


def test_several_files_give_the_version_directory(root: Path) -> None:
    assert get_model_path("multi", root=str(root)) == str(root / "multi" / "3")


def test_one_file_in_a_subfolder_counts_as_one_file(root: Path) -> None:
    assert get_model_path("nested", root=str(root)) == str(root / "nested" / "1" / "export" / "weights.npy")


def test_a_file_name_is_searched_in_every_models_latest_version(root: Path) -> None:
    assert get_model_path("model.pkl", root=str(root)) == str(root / "mnist" / "10" / "model.pkl")
    assert get_model_path("weights.npy", root=str(root)) == str(root / "nested" / "1" / "export" / "weights.npy")
    assert get_model_path("current.pkl", root=str(root)) == str(root / "older" / "2" / "current.pkl")
    with pytest.raises(ModelPathNotFound):
        get_model_path("only_in_v1.pkl", root=str(root))  # not in the latest version
    assert get_model_path("only_in_v1.pkl", version=1, root=str(root)) == str(root / "older" / "1" / "only_in_v1.pkl")


def test_unknown_name_lists_what_is_there(root: Path) -> None:
    with pytest.raises(ModelPathNotFound) as err:
        get_model_path("resnet", root=str(root))
    assert isinstance(err.value, LookupError)
    message = str(err.value)
    assert "'resnet'" in message
    assert "mnist (versions 1, 2, 10)" in message
    assert "multi (version 3)" in message


def test_missing_version_lists_the_versions(root: Path) -> None:
    with pytest.raises(ModelPathNotFound, match=r"no version 7.*mnist \(versions 1, 2, 10\)"):
        get_model_path("mnist", version=7, root=str(root))


def test_root_comes_from_the_environment(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other"
    _file(other / "mnist" / "5" / "m.pkl")
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(other))
    monkeypatch.delenv("ACI_WIDGETS_MODEL_DIR", raising=False)
    assert get_model_path("mnist") == str(other / "mnist" / "5" / "m.pkl")
    monkeypatch.setenv("ACI_WIDGETS_MODEL_DIR", str(root))  # ours wins over azureml's
    assert get_model_path("mnist") == str(root / "mnist" / "10" / "model.pkl")


def test_no_root_at_all_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZUREML_MODEL_DIR", raising=False)
    monkeypatch.delenv("ACI_WIDGETS_MODEL_DIR", raising=False)
    with pytest.raises(ModelPathNotFound, match="ACI_WIDGETS_MODEL_DIR"):
        get_model_path("mnist")


def test_root_that_is_itself_a_version_directory(tmp_path: Path) -> None:
    model_file = _file(tmp_path / "v1" / "model.pkl")
    assert get_model_path("model.pkl", root=str(tmp_path / "v1")) == str(model_file)
