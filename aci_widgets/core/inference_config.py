"""``InferenceConfig``, as ``azureml.core.model.InferenceConfig``: the scoring script, its folder and its environment.

Either an ``environment`` or the older loose arguments (``runtime``, ``conda_file``, ``base_image``...), never
both, as azureml checks: only ``entry_script``, ``source_directory`` and ``description`` go with an environment.
With ``source_directory`` the whole folder goes into the image under its own name (the service's working directory
holds it, as on Azure) and ``entry_script`` is relative to it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import WebserviceException

if TYPE_CHECKING:
    from .environment import Environment
    from .image import ContainerImageConfig

RUNTIMES = ("python", "spark-py")
# Folders never copied from a source_directory: they are caches, or the layout the image builds itself.
SKIPPED_DIRS = ("__pycache__", ".ipynb_checkpoints", ".git", "azureml-models")


class InferenceConfig:
    """Validated when it is made, so a typo fails here rather than in the middle of a deployment."""

    def __init__(self, entry_script: str, runtime: str | None = None, conda_file: str | None = None,
                 extra_docker_file_steps: str | None = None, source_directory: str | None = None,
                 enable_gpu: bool | None = None, description: str | None = None, base_image: str | None = None,
                 base_image_registry: Any = None, cuda_version: str | None = None,
                 environment: Environment | None = None) -> None:
        self.entry_script = entry_script
        self.runtime = runtime
        self.conda_file = conda_file
        self.extra_docker_file_steps = extra_docker_file_steps
        self.source_directory = source_directory
        self.enable_gpu = enable_gpu
        self.description = description
        self.base_image = base_image
        self.base_image_registry = base_image_registry
        self.cuda_version = cuda_version
        self.environment = environment
        self.validate_configuration()

    def validate_configuration(self) -> None:
        """azureml's checks: an entry script that exists, and an environment or the loose arguments, not both."""
        from .environment import Environment

        if not self.entry_script:
            raise WebserviceException("InferenceConfig needs entry_script, the scoring script (e.g. 'score.py').")
        if self.environment is not None:
            if not isinstance(self.environment, Environment):
                raise WebserviceException(f"environment must be an Environment, got {self.environment!r}.")
            loose = [name for name in ("runtime", "conda_file", "extra_docker_file_steps", "enable_gpu",
                                       "base_image", "base_image_registry", "cuda_version")
                     if getattr(self, name) not in (None, False)]
            if loose:
                raise WebserviceException(
                    f"InferenceConfig got both environment and {', '.join(loose)}: set them on the Environment "
                    "(env.python.conda_dependencies, env.docker.base_image) or drop the environment.")
        elif self.runtime is not None and self.runtime.lower() not in RUNTIMES:
            raise WebserviceException(f"runtime must be one of {', '.join(RUNTIMES)}, got {self.runtime!r}.")
        if self.runtime and self.runtime.lower() == "spark-py":
            raise WebserviceException("runtime 'spark-py' is not available here; use runtime='python'.")
        if self.extra_docker_file_steps:
            raise WebserviceException("extra_docker_file_steps is not supported yet: use base_image (or "
                                      "env.docker.base_image) with an image that already has what the steps add.")
        if self.source_directory is not None and not Path(self.source_directory).is_dir():
            raise WebserviceException(f"source_directory {self.source_directory!r} is not a folder "
                                      f"(relative to {Path.cwd()}).")
        script = self._script_path()
        if not script.is_file():
            where = f"in source_directory {self.source_directory!r}" if self.source_directory \
                else f"relative to {Path.cwd()}"
            raise WebserviceException(f"entry_script {self.entry_script!r} not found ({where}).")
        if self.source_directory and Path(self.entry_script).is_absolute():
            raise WebserviceException("With source_directory, entry_script is a path relative to it, "
                                      f"got the absolute path {self.entry_script!r}.")
        if self.conda_file is not None:
            from .conda import requirements_from_conda

            conda = Path(self.source_directory or ".") / self.conda_file
            requirements_from_conda(conda if conda.is_file() else self.conda_file)

    def _script_path(self) -> Path:
        return Path(self.source_directory or ".") / self.entry_script

    def _conda_path(self) -> str | None:
        if self.conda_file is None:
            return None
        inside = Path(self.source_directory or ".") / self.conda_file
        return str(inside if inside.is_file() else self.conda_file)

    def _image_config(self, environment: Environment | None = None) -> ContainerImageConfig:
        """The core's image description: what every target builds from (via ImageSpec)."""
        from .image import ContainerImageConfig

        self.validate_configuration()  # files may have changed since the config was made
        env = environment or self.environment
        inputs = env._image_inputs() if env is not None else None
        return ContainerImageConfig(
            execution_script=str(self._script_path()), runtime="python",
            conda_file=None if inputs else self._conda_path(), description=self.description,
            base_image=inputs["base_image"] if inputs else self.base_image, enable_gpu=bool(self.enable_gpu),
            source_directory=self.source_directory, entry_script=Path(self.entry_script).as_posix()
            if self.source_directory else None, environment=inputs)

    def serialize(self) -> dict[str, Any]:
        return {"entryScript": self.entry_script, "runtime": self.runtime, "condaFile": self.conda_file,
                "sourceDirectory": self.source_directory, "enableGpu": self.enable_gpu,
                "description": self.description, "baseImage": self.base_image, "cudaVersion": self.cuda_version,
                "environment": self.environment._to_dict() if self.environment is not None else None}

    def __repr__(self) -> str:
        return f"InferenceConfig(entry_script={self.entry_script!r}, source_directory={self.source_directory!r})"


def source_files(source_directory: str | os.PathLike[str]) -> list[Path]:
    """The files of a source_directory that go into an image (caches and ``azureml-models`` left out)."""
    root = Path(source_directory)
    return sorted(p for p in root.rglob("*") if p.is_file()
                  and not any(part in SKIPPED_DIRS for part in p.relative_to(root).parts))


def stored_inputs(store: Any, config: ContainerImageConfig) -> dict[str, Any]:
    """The image spec entries an InferenceConfig adds: the source folder's files and the environment, stored.

    The entry script is left out of ``source``: it is stored on its own (``spec["script"]``), as for every image.
    As on Azure, the folder keeps its name inside the app directory, which is the service's working directory:
    ``source_directory="src"`` puts ``src/x/y/score.py`` there, so a script reads ``open("src/data.json")`` (the
    v1 samples do) and imports its siblings (its own folder is first on ``sys.path``).
    """
    out: dict[str, Any] = {}
    if config.source_directory:
        root = Path(config.source_directory)
        script = (root / (config.entry_script or "")).resolve()
        folder = root.resolve().name or "source"
        out["execution_script"] = f"{folder}/{config.entry_script}"
        out["source"] = {f"{folder}/{p.relative_to(root).as_posix()}": store.put_file(p)[0]
                         for p in source_files(root) if p.resolve() != script}
    env = config.environment
    if env:
        out["conda"] = store.put_bytes(env["conda"].encode("utf-8")) if env.get("conda") else None
        out["environment"] = {k: v for k, v in env.items() if k != "conda"}
    return out
