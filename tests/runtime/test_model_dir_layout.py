"""AZUREML_MODEL_DIR as Azure sets it, and get_model_path agreeing with it in both layouts."""

from pathlib import Path

from aci_widgets.runtime.model_dir import azureml_model_dir, get_model_path


def _model(root: Path, name: str, version: int, *files: str) -> None:
    folder = root / name / str(version)
    folder.mkdir(parents=True)
    for f in files:
        (folder / f).write_text(f)


def test_one_model_is_its_own_folder(tmp_path):
    _model(tmp_path, "mnist", 3, "model.pkl")
    model_dir = azureml_model_dir(str(tmp_path))
    assert model_dir == str(tmp_path / "mnist" / "3")
    assert get_model_path("mnist", root=model_dir) == str(tmp_path / "mnist" / "3" / "model.pkl")
    assert get_model_path("model.pkl", root=model_dir) == str(tmp_path / "mnist" / "3" / "model.pkl")
    assert get_model_path("mnist", root=str(tmp_path)) == str(tmp_path / "mnist" / "3" / "model.pkl")


def test_several_models_are_the_models_folder(tmp_path):
    _model(tmp_path, "a", 1, "a.pkl")
    _model(tmp_path, "b", 2, "x.bin", "y.bin")
    assert azureml_model_dir(str(tmp_path)) == str(tmp_path)
    assert get_model_path("a", root=str(tmp_path)) == str(tmp_path / "a" / "1" / "a.pkl")
    assert get_model_path("b", root=str(tmp_path)) == str(tmp_path / "b" / "2")
    assert azureml_model_dir(str(tmp_path / "empty")) == str(tmp_path / "empty")
