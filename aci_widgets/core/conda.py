"""Conda environment files (``myenv.yml``) and their mapping to pip requirements.

Images here are virtualenvs built with pip, so every conda package becomes a pip requirement. Most share their
name; a few are renamed; packages that exist only in conda (compilers, CUDA, system libraries) cannot be mapped
and are reported by name, with what to do instead. ``azureml-*`` packages are dropped: the scoring runtime takes
their place.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UserErrorException

# conda name -> pip name, where they differ.
CONDA_TO_PIP = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "py-xgboost": "xgboost",
    "py-xgboost-cpu": "xgboost",
    "tensorflow-mkl": "tensorflow",
    "python-graphviz": "graphviz",
    "pillow-simd": "pillow",
    "msgpack-python": "msgpack",
    "pyqt": "PyQt5",
    "matplotlib-base": "matplotlib",
    "lightgbm-cpu": "lightgbm",
}
# Packages of conda's own world that pip cannot install, with advice.
CONDA_ONLY = {
    "cudatoolkit": "CUDA comes with the GPU build of the framework's pip wheel (e.g. torch)",
    "cudnn": "cuDNN comes with the GPU build of the framework's pip wheel",
    "nccl": "NCCL comes with the framework's pip wheel",
    "mkl": "numpy's pip wheels bring their own BLAS",
    "mkl-service": "numpy's pip wheels bring their own BLAS",
    "blas": "numpy's pip wheels bring their own BLAS",
    "openblas": "numpy's pip wheels bring their own BLAS",
    "libopenblas": "numpy's pip wheels bring their own BLAS",
    "libgcc-ng": "a system library; use a base_image that has it",
    "libstdcxx-ng": "a system library; use a base_image that has it",
    "libgfortran-ng": "a system library; use a base_image that has it",
    "gcc": "a compiler; use a base_image that has it",
    "gxx": "a compiler; use a base_image that has it",
    "r-base": "R is not a Python package",
    "ffmpeg": "a system program; use a base_image that has it",
    "graphviz": "the Graphviz program is not a pip package (the Python binding is 'graphviz' under '- pip:')",
}
DROPPED = ("azureml-", "azureml_")
_SPEC = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:(==|>=|<=|!=|~=|>|<|=)\s*([^\s=]+)(?:=\S+)?)?\s*$")


@dataclass
class PipRequirements:
    """What a conda file maps to: pip requirement lines, the Python it asked for, and what was dropped."""

    requirements: list[str]
    python_version: str | None = None
    notices: list[str] = field(default_factory=list)


def conda_spec_to_pip(spec: str) -> str | None:
    """``scikit-learn=1.3`` -> ``scikit-learn==1.3.*``; None for ``python`` and ``pip`` themselves."""
    spec = spec.split("::")[-1].strip()  # channel::package
    match = _SPEC.match(spec)
    if not match:
        raise UserErrorException(f"Cannot read the conda dependency {spec!r}; write it as name, name=1.2 or name>=1.2.")
    name, op, version = match.groups()
    lower = name.lower()
    if lower in ("python", "pip"):
        return None
    if lower in CONDA_ONLY:
        raise UserErrorException(
            f"The conda package {name!r} has no pip equivalent ({CONDA_ONLY[lower]}). Remove it from the conda "
            "file, or list the pip package you need under '- pip:'.")
    pip_name = CONDA_TO_PIP.get(lower, name)
    if not op:
        return pip_name
    if op == "=":  # conda's 1.2 means 1.2.*
        return f"{pip_name}=={version}" if version.count(".") >= 2 or "*" in version else f"{pip_name}=={version}.*"
    return f"{pip_name}{op}{version}"


def requirements_from_conda(path: str | Path) -> PipRequirements:
    """Read a conda environment file and map it to pip requirements."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise UserErrorException(f"Conda file {str(path)!r} not found (relative to {Path.cwd()}).")
    try:
        env = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UserErrorException(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(env, dict):
        raise UserErrorException(f"{path} must be a conda environment (a mapping with 'dependencies').")
    return map_dependencies(env.get("dependencies") or [], source=str(path))


def map_dependencies(dependencies: list[Any], source: str = "conda file") -> PipRequirements:
    out = PipRequirements(requirements=[])
    for dep in dependencies:
        if isinstance(dep, dict) and "pip" in dep:
            for line in dep["pip"] or []:
                line = str(line).strip()
                if line.lower().startswith(DROPPED):
                    out.notices.append(f"{line!r} is not needed: the aci_widgets scoring runtime replaces it.")
                elif line:
                    out.requirements.append(line)
            continue
        if not isinstance(dep, str):
            raise UserErrorException(f"Unexpected entry {dep!r} in the dependencies of {source}.")
        name = dep.split("::")[-1].split("=")[0].split(">")[0].split("<")[0].strip().lower()
        if name == "python":
            version = dep.split("=", 1)[1].lstrip("=") if "=" in dep else None
            out.python_version = version
            running = f"{sys.version_info.major}.{sys.version_info.minor}"
            if version and not running.startswith(".".join(version.split(".")[:2])):
                out.notices.append(f"{source} asks for Python {version}; the process target uses this "
                                   f"machine's Python {running}.")
            continue
        if name.startswith(DROPPED):
            out.notices.append(f"{dep!r} is not needed: the aci_widgets scoring runtime replaces it.")
            continue
        requirement = conda_spec_to_pip(dep)
        if requirement:
            out.requirements.append(requirement)
    return out


class CondaDependencies:
    """Build a conda environment file in code, as ``azureml.core.conda_dependencies.CondaDependencies``."""

    def __init__(self, conda_dependencies_file_path: str | None = None) -> None:
        self._env: dict[str, Any] = {"name": "project_environment", "dependencies": []}
        if conda_dependencies_file_path:
            import yaml

            self._env = yaml.safe_load(Path(conda_dependencies_file_path).read_text()) or self._env
            self._env.setdefault("dependencies", [])

    @staticmethod
    def create(pip_packages: list[str] | None = None, conda_packages: list[str] | None = None,
               python_version: str | None = None, pin_sdk_version: bool = True) -> CondaDependencies:
        deps = CondaDependencies()
        version = python_version or f"{sys.version_info.major}.{sys.version_info.minor}"
        deps._env["dependencies"].append(f"python={version}")
        for package in conda_packages or []:
            deps.add_conda_package(package)
        for package in pip_packages or []:
            deps.add_pip_package(package)
        return deps

    def _pip_list(self) -> list[str]:
        for dep in self._env["dependencies"]:
            if isinstance(dep, dict) and "pip" in dep:
                return dep["pip"]
        entry: dict[str, list[str]] = {"pip": []}
        self._env["dependencies"].append(entry)
        return entry["pip"]

    def add_conda_package(self, conda_package: str) -> None:
        conda_spec_to_pip(conda_package)  # fail now, not at build time, on a package pip cannot install
        if conda_package not in self._env["dependencies"]:
            pip_at = next((i for i, d in enumerate(self._env["dependencies"]) if isinstance(d, dict)), None)
            if pip_at is None:
                self._env["dependencies"].append(conda_package)
            else:
                self._env["dependencies"].insert(pip_at, conda_package)

    def add_pip_package(self, pip_package: str) -> None:
        packages = self._pip_list()
        if pip_package not in packages:
            packages.append(pip_package)

    @property
    def conda_packages(self) -> list[str]:
        return [d for d in self._env["dependencies"] if isinstance(d, str) and not d.startswith("python")]

    @property
    def pip_packages(self) -> list[str]:
        return [p for d in self._env["dependencies"] if isinstance(d, dict) for p in d.get("pip", [])]

    def serialize_to_string(self) -> str:
        import yaml

        return yaml.safe_dump(self._env, sort_keys=False)

    def save_to_file(self, base_directory: str, conda_file_path: str | None = None) -> str:
        """Write the file; with one argument, that argument is the file's path (as azureml allows)."""
        path = Path(base_directory) / conda_file_path if conda_file_path else Path(base_directory)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.serialize_to_string())
        return str(path)

    def to_pip(self) -> PipRequirements:
        return map_dependencies(self._env["dependencies"])
