"""Environment and CondaDependencies: definitions, registered versions, curated names (no builds here)."""

import pytest

from aci_widgets.core import Environment, UserErrorException
from aci_widgets.core.conda_dependencies import CondaDependencies
from aci_widgets.core.curated_environments import CURATED


def test_conda_dependencies_create_edit_save_and_read_back(workdir):
    deps = CondaDependencies.create(pip_packages=["joblib"], conda_packages=["scikit-learn=1.5"],
                                    python_version="3.11")
    deps.add_pip_package("numpy")
    deps.add_conda_package("pandas")
    deps.add_channel("conda-forge")
    assert deps.get_python_version() == "3.11"
    assert deps.conda_packages == ["scikit-learn=1.5", "pandas"]
    assert deps.pip_packages == ["joblib", "numpy"]
    path = deps.save("env/myenv.yml")
    again = CondaDependencies(path)
    assert again.serialize_to_string() == deps.serialize_to_string()
    assert again.to_pip().requirements == ["scikit-learn==1.5.*", "pandas", "joblib", "numpy"]
    deps.remove_pip_package("numpy")
    assert deps.pip_packages == ["joblib"]
    with pytest.raises(UserErrorException, match="cudatoolkit"):
        deps.add_conda_package("cudatoolkit")


def test_register_versions_get_and_list(ws, workdir):
    (workdir / "requirements.txt").write_text("numpy\n# a comment\njoblib==1.*\n")
    env = Environment.from_pip_requirements("reqs", "requirements.txt")
    assert env.python.conda_dependencies.pip_packages == ["numpy", "joblib==1.*"]
    assert env.register(ws).version == "1"
    assert env.register(ws).version == "1"  # the same definition again keeps its version
    env.environment_variables["MODE"] = "fast"
    assert env.register(ws).version == "2"
    assert Environment.get(ws, "reqs").environment_variables == {"MODE": "fast"}
    assert Environment.get(ws, "reqs", version="1").environment_variables == {}
    assert Environment.get(ws, "reqs", version=1).python.conda_dependencies.pip_packages == ["numpy", "joblib==1.*"]
    listed = Environment.list(ws)
    assert listed["reqs"].version == "2"
    assert "AzureML-Minimal" in listed
    assert ws.environments["reqs"] == listed["reqs"]
    with pytest.raises(UserErrorException, match=r"version 7 not found.*Registered environments: reqs"):
        Environment.get(ws, "reqs", version="7")


def test_from_conda_specification_checks_the_file(workdir):
    (workdir / "env.yml").write_text("dependencies:\n  - python=3.11\n  - numpy\n  - pip:\n    - joblib\n")
    env = Environment.from_conda_specification("from-yml", "env.yml")
    assert env._requirements() == ["numpy", "joblib"]
    with pytest.raises(UserErrorException, match="not found"):
        Environment.from_conda_specification("x", "missing.yml")
    (workdir / "bad.yml").write_text("dependencies:\n  - cudatoolkit=11\n")
    with pytest.raises(UserErrorException, match="cudatoolkit"):
        Environment.from_conda_specification("x", "bad.yml")


def test_curated_names_resolve_to_their_documented_requirements(ws):
    env = Environment.get(ws, "AzureML-sklearn-1.5")
    assert "scikit-learn==1.5.*" in env._requirements()
    assert Environment.get(ws, name="azureml-sklearn-1.5").name == "AzureML-sklearn-1.5"  # any case
    assert Environment.get(ws, "AzureML-Minimal")._requirements() == []
    assert "matplotlib" in Environment.get(ws, "AzureML-Tutorial")._requirements()
    for name, (requirements, description) in CURATED.items():
        assert Environment.get(ws, name)._requirements() == requirements and description


def test_unknown_curated_name_lists_the_known_ones(ws):
    with pytest.raises(UserErrorException, match=r"Unknown curated environment 'AzureML-nope'.*AzureML-Minimal"):
        Environment.get(ws, "AzureML-nope")
    with pytest.raises(UserErrorException, match="No environment is registered yet"):
        Environment.get(ws, "mine")
    with pytest.raises(UserErrorException, match="reserved"):
        Environment("AzureML-mine").register(ws)


def test_docker_section_and_what_an_image_gets(workdir):
    env = Environment("docker-env")
    assert env._image_inputs()["base_image"] is None  # azureml's own default image is not pulled here
    env.docker.base_image = "python:3.11-slim"
    env.inferencing_stack_version = "latest"
    inputs = env._image_inputs()
    assert inputs["base_image"] == "python:3.11-slim" and inputs["python"] is None
    env.python.user_managed_dependencies = True
    assert env._image_inputs()["python"] and env._image_inputs()["conda"] is None
    env.docker.base_dockerfile = "FROM ubuntu\nRUN echo hi\n"
    inputs = env._image_inputs()
    assert inputs["base_dockerfile"] == "FROM ubuntu\nRUN echo hi\n" and inputs["base_image"] is None
    (workdir / "Dockerfile.base").write_text("FROM python:3.11-slim\n")
    env.docker.base_dockerfile = "Dockerfile.base"  # azureml also takes a path
    assert env._image_inputs()["base_dockerfile"] == "FROM python:3.11-slim\n"
    env.docker.base_dockerfile = "RUN echo no base\n"
    with pytest.raises(UserErrorException, match="base_dockerfile has no FROM line"):
        env._image_inputs()


def test_save_and_load_a_directory_and_clone(workdir):
    env = Environment("saved")
    env.python.conda_dependencies.add_pip_package("numpy")
    env.environment_variables = {"A": "1"}
    env.save_to_directory("saved_env")
    loaded = Environment.load_from_directory("saved_env")
    assert loaded._to_dict() == env._to_dict()
    assert env.clone("copy").name == "copy"
