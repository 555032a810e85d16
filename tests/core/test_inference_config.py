"""InferenceConfig's validation, as azureml's: found at construction, with a message saying what to do."""

import pytest

from aci_widgets.core import Environment, UserErrorException, WebserviceException
from aci_widgets.core.model import InferenceConfig


@pytest.fixture
def script(workdir):
    (workdir / "score.py").write_text("def init():\n    pass\n\ndef run(raw_data):\n    return raw_data\n")
    (workdir / "env.yml").write_text("dependencies:\n  - numpy\n")
    return workdir


def test_an_environment_goes_with_entry_script_source_directory_and_description_only(script):
    env = Environment("e")
    InferenceConfig(entry_script="score.py", environment=env, description="fine", source_directory=".")
    for extra in ({"runtime": "python"}, {"conda_file": "env.yml"}, {"base_image": "python:3.11"},
                  {"enable_gpu": True}, {"cuda_version": "11.0"}):
        with pytest.raises(WebserviceException, match=f"both environment and {next(iter(extra))}"):
            InferenceConfig("score.py", environment=env, **extra)


def test_entry_script_is_required_and_must_exist(script):
    with pytest.raises(WebserviceException, match="needs entry_script"):
        InferenceConfig(entry_script="")
    with pytest.raises(WebserviceException, match="'nope.py' not found"):
        InferenceConfig("nope.py", runtime="python")
    (script / "src").mkdir()
    with pytest.raises(WebserviceException, match="in source_directory 'src'"):
        InferenceConfig("score.py", runtime="python", source_directory="src")
    with pytest.raises(WebserviceException, match="not a folder"):
        InferenceConfig("score.py", runtime="python", source_directory="missing")


def test_runtime_and_the_files_it_names_are_checked(script):
    InferenceConfig("score.py", runtime="python", conda_file="env.yml")
    with pytest.raises(WebserviceException, match="runtime must be one of"):
        InferenceConfig("score.py", runtime="java")
    with pytest.raises(UserErrorException, match="Conda file"):
        InferenceConfig("score.py", runtime="python", conda_file="missing.yml")
    (script / "steps").write_text("RUN apt-get install -y libgomp1\n")
    with pytest.raises(WebserviceException, match="extra_docker_file_steps is not supported"):
        InferenceConfig("score.py", runtime="python", extra_docker_file_steps="steps")


def test_the_entry_script_is_relative_to_the_source_directory(script):
    (script / "app" / "sub").mkdir(parents=True)
    (script / "app" / "sub" / "entry.py").write_text((script / "score.py").read_text())
    (script / "app" / "__pycache__").mkdir()
    (script / "app" / "__pycache__" / "x.pyc").write_bytes(b"")
    config = InferenceConfig("sub/entry.py", source_directory="app", environment=Environment("e"))
    image_config = config._image_config()
    assert image_config.entry_script == "sub/entry.py"
    from aci_widgets.core.inference_config import source_files

    assert [p.name for p in source_files("app")] == ["entry.py"]
