"""Environments, with the names of ``azureml.core.Environment``: what a service's Python needs.

An environment has a python section (a :class:`CondaDependencies`, or ``user_managed_dependencies=True``), a docker
section (``base_image``) and ``environment_variables``. ``register(ws)`` keeps a versioned copy in the workspace
registry; ``Environment.get(ws, name)`` finds it again, or a curated ``AzureML-...`` name (see
:mod:`.curated_environments` for what each resolves to).

``user_managed_dependencies=True`` means "install nothing, use the Python that is there": on the process target
that is the Python running this notebook (``sys.executable``, or ``python.interpreter_path`` when set), with the
packages it has; on the Docker target, the base image's own Python (``interpreter_path``, by default ``python``,
else ``python3``), no venv and no install step for the environment. The scoring runtime needs httptools (and orjson,
pysimdjson for its fast path): the process target says so if that Python lacks httptools; the Docker target installs
what the base image lacks into ``/opt/aci_widgets/deps``, apart from the image's own packages, and says so.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .conda_dependencies import CondaDependencies
from .curated_environments import is_curated_name, known_names, lookup
from .errors import UserErrorException

if TYPE_CHECKING:
    from .workspace import Workspace

DEFAULT_CPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04"
DEFAULT_GPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.1-cudnn8-ubuntu20.04"
_AZURE_DEFAULT_IMAGES = (DEFAULT_CPU_IMAGE, DEFAULT_GPU_IMAGE, "mcr.microsoft.com/azureml/")


class PythonSection:
    """``env.python``: the conda dependencies, or a Python whose packages are managed by the user."""

    def __init__(self) -> None:
        self.conda_dependencies: CondaDependencies = CondaDependencies.create()
        self.user_managed_dependencies = False
        self.interpreter_path = "python"
        self.conda_dependencies_file: str | None = None
        self.base_conda_environment: str | None = None

    def _to_dict(self) -> dict[str, Any]:
        return {"user_managed_dependencies": self.user_managed_dependencies, "interpreter_path": self.interpreter_path,
                "conda_dependencies": self.conda_dependencies.serialize_to_string()}


class DockerSection:
    """``env.docker``: the base image (used by the Docker target) and azureml's other docker fields."""

    def __init__(self) -> None:
        self.enabled = False
        self.base_image: str | None = DEFAULT_CPU_IMAGE
        self.base_dockerfile: str | None = None
        self.base_image_registry: Any = None
        self.shared_volumes = True
        self.shm_size: str | None = None
        self.arguments: list[str] = []
        self.platform: Any = None

    def _to_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "base_image": self.base_image, "base_dockerfile": self.base_dockerfile}


class Environment:
    """``Environment(name)``: a new, unregistered environment (Python from this machine's version, no packages)."""

    def __init__(self, name: str) -> None:
        if not name or not isinstance(name, str):
            raise UserErrorException("Environment() needs a name, e.g. Environment('myenv').")
        self.name = name
        self.version: str | None = None
        self.python = PythonSection()
        self.docker = DockerSection()
        self.environment_variables: dict[str, str] = {}
        self.inferencing_stack_version: str | None = None
        self.description: str | None = None
        self.tags: dict[str, str] = {}
        self.spark: Any = None
        self.r: Any = None
        self.databricks: Any = None

    # --- constructors --------------------------------------------------------------------------------------

    @staticmethod
    def from_conda_specification(name: str, file_path: str | os.PathLike[str]) -> Environment:
        """An environment from a conda file; its conda packages are checked against the pip mapping now."""
        path = Path(file_path)
        if not path.is_file():
            raise UserErrorException(f"Conda file {str(file_path)!r} not found (relative to {Path.cwd()}).")
        from .conda import requirements_from_conda

        requirements_from_conda(path)  # a conda-only package is named here, not at build time
        env = Environment(name)
        env.python.conda_dependencies = CondaDependencies(str(path))
        return env

    @staticmethod
    def from_pip_requirements(name: str, file_path: str | os.PathLike[str],
                              pip_version: str | None = None) -> Environment:
        """An environment from a pip requirements file."""
        path = Path(file_path)
        if not path.is_file():
            raise UserErrorException(f"Requirements file {str(file_path)!r} not found (relative to {Path.cwd()}).")
        env = Environment(name)
        env.python.conda_dependencies._merge_requirements(path.read_text().splitlines())
        return env

    @staticmethod
    def get(workspace: Workspace, name: str, version: str | int | None = None,
            label: str | None = None) -> Environment:
        """A registered environment (latest version by default), or a curated ``AzureML-...`` one."""
        row = _find(workspace, name, version)
        if row is not None:
            return _from_row(row)
        curated = lookup(name)
        if curated is not None:
            return _curated(*curated)
        if is_curated_name(name):
            raise UserErrorException(
                f"Unknown curated environment {name!r}. Curated environments known here: {', '.join(known_names())}. "
                "Or build your own: Environment.from_conda_specification(name, 'myenv.yml').")
        names = sorted({r["name"] for r in workspace.registry.select("environments")})
        what = f"{name!r} version {version}" if version is not None else repr(name)
        known = f" Registered environments: {', '.join(names)}." if names else " No environment is registered yet."
        raise UserErrorException(f"Environment {what} not found in workspace {workspace.name!r}.{known}")

    @staticmethod
    def list(workspace: Workspace) -> dict[str, Environment]:
        """The latest version of every registered environment, and the curated ones, by name (as in azureml)."""
        out = {canonical: _curated(*lookup(canonical)) for canonical in known_names()}  # type: ignore[misc]
        for row in workspace.registry.select("environments"):
            out[row["name"]] = _from_row(row)  # rows come by version: the latest wins
        return out

    # --- operations ----------------------------------------------------------------------------------------

    def register(self, workspace: Workspace) -> Environment:
        """Store a copy as the next version of this name (the same definition again keeps its version)."""
        if is_curated_name(self.name):
            raise UserErrorException(f"Environment names starting with 'AzureML' are reserved for curated "
                                     f"environments; register {self.name!r} under another name.")
        definition = self._to_dict()
        latest = _find(workspace, self.name, None)
        if latest is not None and latest["definition"] == definition:
            self.version = str(latest["version"])
            return self
        version = workspace.registry.insert_versioned("environments", self.name,
                                                      {"definition": definition, "created": time.time()})
        self.version = str(version)
        return self

    def clone(self, new_name: str) -> Environment:
        env = Environment._from_dict({**self._to_dict(), "name": new_name})
        env.version = None
        return env

    def get_image_details(self, workspace: Workspace) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "requirements": self._requirements(),
                "baseImage": self._base_image()}

    def save_to_directory(self, path: str | os.PathLike[str], overwrite: bool = False) -> None:
        """Write ``azureml_environment.json`` and ``conda_dependencies.yml`` into ``path``."""
        import json

        folder = Path(path)
        if folder.exists() and any(folder.iterdir()) and not overwrite:
            raise UserErrorException(f"{folder} is not empty; pass overwrite=True.")
        folder.mkdir(parents=True, exist_ok=True)
        definition = self._to_dict()
        (folder / "conda_dependencies.yml").write_text(definition["python"].pop("conda_dependencies"))
        (folder / "azureml_environment.json").write_text(json.dumps(definition, indent=2) + "\n")

    @staticmethod
    def load_from_directory(path: str | os.PathLike[str]) -> Environment:
        import json

        folder = Path(path)
        definition = json.loads((folder / "azureml_environment.json").read_text())
        definition["python"]["conda_dependencies"] = (folder / "conda_dependencies.yml").read_text()
        return Environment._from_dict(definition)

    # --- what a build needs --------------------------------------------------------------------------------

    def _requirements(self) -> list[str]:
        return [] if self.python.user_managed_dependencies else self.python.conda_dependencies.to_pip().requirements

    def _base_image(self) -> str | None:
        """The base image the user chose, None for azureml's own defaults (which are not Docker Hub images)."""
        image = self.docker.base_image
        if not image or image.startswith(_AZURE_DEFAULT_IMAGES):
            return None
        return image

    def _image_inputs(self) -> dict[str, Any]:
        """What an image needs from this environment: conda file text, user-managed Python, variables, base."""
        dockerfile = self.docker.base_dockerfile
        # azureml takes the Dockerfile's text or its path
        if dockerfile and "\n" not in dockerfile and len(dockerfile) < 1024 and Path(dockerfile).is_file():
            dockerfile = Path(dockerfile).read_text()
        if dockerfile and not any(line.strip().upper().startswith("FROM ") for line in dockerfile.splitlines()):
            raise UserErrorException(f"Environment {self.name!r}: docker.base_dockerfile has no FROM line; give "
                                     "the Dockerfile's text (or its path), e.g. 'FROM python:3.11-slim\\nRUN ...'.")
        if not isinstance(self.environment_variables, dict):
            raise UserErrorException("environment_variables must be a dict of strings.")
        interpreter = self.python.interpreter_path
        return {"name": self.name, "version": self.version,
                "conda": None if self.python.user_managed_dependencies
                else self.python.conda_dependencies.serialize_to_string(),
                "user_managed": bool(self.python.user_managed_dependencies),
                "python": ((interpreter if interpreter and interpreter != "python" else sys.executable)
                           if self.python.user_managed_dependencies else None),
                "interpreter_path": interpreter if self.python.user_managed_dependencies else None,
                "environment_variables": {str(k): str(v) for k, v in self.environment_variables.items()},
                "base_image": None if dockerfile else self._base_image(),
                **({"base_dockerfile": dockerfile} if dockerfile else {})}

    def _to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "python": self.python._to_dict(), "docker": self.docker._to_dict(),
                "environment_variables": dict(self.environment_variables),
                "inferencing_stack_version": self.inferencing_stack_version, "description": self.description,
                "tags": dict(self.tags)}

    @staticmethod
    def _from_dict(definition: dict[str, Any]) -> Environment:
        import tempfile

        env = Environment(definition["name"])
        python = definition.get("python") or {}
        env.python.user_managed_dependencies = bool(python.get("user_managed_dependencies"))
        env.python.interpreter_path = python.get("interpreter_path") or "python"
        if python.get("conda_dependencies"):
            with tempfile.TemporaryDirectory() as tmp:
                conda_file = Path(tmp) / "conda.yml"
                conda_file.write_text(python["conda_dependencies"])
                env.python.conda_dependencies = CondaDependencies(str(conda_file))
        docker = definition.get("docker") or {}
        env.docker.enabled = bool(docker.get("enabled"))
        env.docker.base_image = docker.get("base_image")
        env.docker.base_dockerfile = docker.get("base_dockerfile")
        env.environment_variables = dict(definition.get("environment_variables") or {})
        env.inferencing_stack_version = definition.get("inferencing_stack_version")
        env.description = definition.get("description")
        env.tags = dict(definition.get("tags") or {})
        return env

    def __repr__(self) -> str:
        return f"Environment(name={self.name!r}, version={self.version!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Environment) and other._to_dict() == self._to_dict() and other.version == self.version

    __hash__ = None  # type: ignore[assignment]  # mutable


def _find(workspace: Workspace, name: str, version: str | int | None) -> dict[str, Any] | None:
    if version is not None:
        try:
            version = int(version)
        except (TypeError, ValueError):
            raise UserErrorException(f"Environment versions are numbers ('1', '2', ...), got {version!r}.") from None
    return workspace.registry.find_version("environments", name, None, version)[2]


def _from_row(row: dict[str, Any]) -> Environment:
    env = Environment._from_dict({**row["definition"], "name": row["name"]})
    env.version = str(row["version"])
    return env


def _curated(name: str, requirements: list[str], description: str) -> Environment:
    env = Environment(name)
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=requirements)
    env.inferencing_stack_version = "latest"
    env.description = description
    env.version = "1"
    return env
