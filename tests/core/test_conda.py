import sys

import pytest

from aci_widgets.core.conda import CondaDependencies, conda_spec_to_pip, requirements_from_conda
from aci_widgets.core.errors import UserErrorException


@pytest.mark.parametrize(("conda", "pip"), [
    ("scikit-learn", "scikit-learn"),
    ("scikit-learn=1.3", "scikit-learn==1.3.*"),
    ("numpy=1.26.4", "numpy==1.26.4"),
    ("numpy>=1.24", "numpy>=1.24"),
    ("pytorch", "torch"),
    ("conda-forge::py-xgboost=2.0", "xgboost==2.0.*"),
    ("pandas==2.1.0", "pandas==2.1.0"),
])
def test_conda_specs_map_to_pip(conda, pip):
    assert conda_spec_to_pip(conda) == pip


def test_python_and_pip_are_not_requirements():
    assert conda_spec_to_pip("python=3.11") is None
    assert conda_spec_to_pip("pip") is None


def test_conda_only_package_is_named_with_advice():
    with pytest.raises(UserErrorException) as info:
        conda_spec_to_pip("cudatoolkit=11.8")
    assert "'cudatoolkit'" in str(info.value)
    assert "'- pip:'" in str(info.value)


def test_environment_file_maps_pip_section_and_drops_azureml(tmp_path):
    env = tmp_path / "myenv.yml"
    env.write_text("""
name: project_environment
channels: [conda-forge]
dependencies:
  - python=3.6.2
  - scikit-learn
  - pip:
    - azureml-defaults
    - inference-schema[numpy-support]==1.8
""")
    mapped = requirements_from_conda(env)
    assert mapped.requirements == ["scikit-learn", "inference-schema[numpy-support]==1.8"]
    assert mapped.python_version == "3.6.2"
    assert any("azureml-defaults" in n for n in mapped.notices)
    assert any("Python 3.6.2" in n for n in mapped.notices)


def test_missing_or_broken_environment_file(tmp_path):
    with pytest.raises(UserErrorException, match="not found"):
        requirements_from_conda(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("dependencies: [unclosed")
    with pytest.raises(UserErrorException, match="not valid YAML"):
        requirements_from_conda(bad)


def test_conda_dependencies_round_trip(tmp_path):
    deps = CondaDependencies.create(conda_packages=["scikit-learn"], pip_packages=["joblib"])
    deps.add_conda_package("numpy")
    deps.add_pip_package("httpx")
    path = deps.save_to_file(str(tmp_path), "myenv.yml")
    again = CondaDependencies(path)
    assert again.conda_packages == ["scikit-learn", "numpy"]
    assert again.pip_packages == ["joblib", "httpx"]
    mapped = requirements_from_conda(path)
    assert mapped.requirements == ["scikit-learn", "numpy", "joblib", "httpx"]
    assert mapped.python_version == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert not mapped.notices


def test_conda_dependencies_refuses_conda_only_package_at_once():
    with pytest.raises(UserErrorException, match="'mkl'"):
        CondaDependencies.create(conda_packages=["mkl"])
