"""Model.package: built on the workspace's target, or a Dockerfile and build context saved for docker build."""

from pathlib import Path

import pytest

from aci_widgets.core import Environment, UserErrorException
from aci_widgets.core.model import InferenceConfig, Model


@pytest.fixture
def config(numpy_model):
    env = Environment("numpy-here")
    env.python.user_managed_dependencies = True
    return InferenceConfig(entry_script="score.py", environment=env)


def test_package_builds_on_the_workspace_target(ws, config):
    package = Model.package(ws, [Model.register(ws, "weights.npy", "weights.npy")], config)
    package.wait_for_creation(show_output=False)
    assert package.state == "Succeeded" and package.location
    assert package.get_container_registry().address is None


def test_package_with_generate_dockerfile_saves_a_build_context(ws, config, tmp_path):
    package = Model.package(ws, [Model.register(ws, "weights.npy", "weights.npy")], config,
                            generate_dockerfile=True)
    package.wait_for_creation(show_output=True)
    out = Path(package.save(tmp_path / "pkg"))
    dockerfile = (out / "Dockerfile").read_text()
    assert dockerfile.startswith("FROM ") and "COPY azureml-models" in dockerfile
    assert (out / "azureml-models" / "weights.npy" / "1" / "weights.npy").is_file()
    assert (out / "script" / "score.py").is_file() and (out / "aci_widgets" / "runtime" / "__main__.py").is_file()
    with pytest.raises(UserErrorException, match="not empty"):
        package.save(out)
