"""Images, with the names of ``azureml.core.image``: a scoring script, its environment and its models, built
by the workspace's target into something that can run (a cached virtualenv, or a Docker image).

An image's inputs (script, conda file, extra files, model versions) are kept in the artifact store, so the same
image can be rebuilt on another target, exactly.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import events
from .conda import map_dependencies, requirements_from_conda
from .errors import AciWidgetsError, ImageBuildError, OperationCancelled, UserErrorException
from .model import Model
from .names import check_image_name
from .operation import Operation, Reporter, running
from .target import ImageSpec, Target, choose, settle

if TYPE_CHECKING:
    from .workspace import Workspace

RUNTIMES = ("python",)


@dataclass
class ContainerImageConfig:
    """What ``ContainerImage.image_configuration`` returns; validated when it is made."""

    execution_script: str
    runtime: str = "python"
    conda_file: str | None = None
    dependencies: list[str] = field(default_factory=list)
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    base_image: str | None = None
    docker_file: str | None = None
    enable_gpu: bool = False
    source_directory: str | None = None         # InferenceConfig: this whole folder goes into the image
    entry_script: str | None = None             # the script's path inside source_directory
    environment: dict[str, Any] | None = None   # InferenceConfig(environment=...): Environment._image_inputs()


class Image:
    """A built (or building) image. ``Image(ws, name)`` is its latest version."""

    def __init__(self, workspace: Workspace, name: str | None = None, id: str | None = None,
                 tags: Any = None, version: int | None = None, *, _row: dict[str, Any] | None = None) -> None:
        self.workspace = workspace
        if _row is None:
            name, version, _row = workspace.registry.find_version("images", name, id, version)
            if not name:
                raise UserErrorException("Image() needs a name or an id ('name:version').")
            if _row is None:
                names = sorted({r["name"] for r in workspace.registry.select("images")})
                known = f" Images: {', '.join(names)}." if names else " No image has been created yet."
                raise UserErrorException(f"Image {name!r} not found in workspace {workspace.name!r}.{known}")
        self._row = _row
        self._operation: Operation | None = running(_op_key(workspace, self.name, self.version))

    name = property(lambda self: self._row["name"])
    version = property(lambda self: self._row["version"])
    tags = property(lambda self: dict(self._row["tags"]))
    description = property(lambda self: self._row["description"])

    @property
    def id(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def created_time(self) -> datetime:
        return datetime.fromtimestamp(self._row["created"], tz=timezone.utc)

    @property
    def models(self) -> list[Model]:
        """The registered models it was built from (a model deleted since is left out; the image keeps a copy)."""
        from .errors import ModelNotFoundException

        found = []
        for name, version in self._row["models"]:
            try:
                found.append(Model(self.workspace, name, version=version))
            except ModelNotFoundException:
                continue
        return found

    @property
    def image_build_log_uri(self) -> str | None:
        """A file:// URI of the build log, written out of the registry when asked (None before a build ends)."""
        from .image_context import build_log_file

        return build_log_file(self)

    @property
    def generated_dockerfile_uri(self) -> str:
        """A file:// URI of a Dockerfile, in a build context that ``docker build`` accepts as it is."""
        from .image_context import dockerfile_file

        return dockerfile_file(self)

    @property
    def creation_state(self) -> str:
        """NotStarted, Running, Succeeded or Failed (a build whose process died reads Failed)."""
        self.update_creation_state()
        return self._row["state"]

    state = creation_state

    @property
    def error(self) -> str:
        return self._row.get("error") or ""

    @property
    def size(self) -> int | None:
        """Bytes, where the target knows (a Docker image's size)."""
        for target_record in (self._row.get("record") or {}).values():
            if target_record.get("size"):
                return int(target_record["size"])
        return None

    @property
    def environment_lock(self) -> str | None:
        """The environment's lock: every package's exact version and hashes, as the first build resolved them.
        Rebuilding this image, on any target, installs exactly this set. None before a build, or with
        user-managed dependencies."""
        return (self._row.get("spec") or {}).get("lock")

    @property
    def image_location(self) -> str | None:
        record = self._row.get("record") or {}
        for target_record in record.values():
            return target_record.get("tag") or target_record.get("image_dir")
        return None

    @property
    def operation(self) -> Operation | None:
        """The build in progress in this process, if any: subscribe to it for live events."""
        return self._operation

    def update_creation_state(self) -> None:
        row = self.workspace.registry.get("images", name=self.name, version=self.version)
        if row is None:
            raise UserErrorException(f"Image {self.id} was deleted.")
        owner = row.get("owner_pid")
        building = running(_op_key(self.workspace, self.name, self.version)) if owner == os.getpid() \
            else _alive(owner)
        if row["state"] == "Running" and not building:
            row["state"], row["error"] = "Failed", "The build was interrupted (its process ended). Create it again."
        self._row = row

    def wait_for_creation(self, show_output: bool = False, timeout: float | None = None) -> None:
        """Block until the build ends. ``show_output=True`` shows its progress live (the log streams as it comes).

        Raises ``ImageBuildError`` with the failing step and the tool's error lines if the build failed.
        """
        self._operation = self._operation or running(_op_key(self.workspace, self.name, self.version))
        if self._operation is not None:
            if show_output:
                events.present(self._operation)
            self._operation.wait(timeout)
        self.update_creation_state()
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._row["state"] == "Running":  # built by another process: follow it through the registry
            if deadline is not None and time.monotonic() > deadline:
                raise ImageBuildError(f"Image {self.id} is still building after {timeout} s.")
            time.sleep(0.25)
            self.update_creation_state()
        if self._row["state"] == "Failed":
            raise ImageBuildError(f"Image {self.id} failed to build: {self.error}", self._row.get("detail") or "")

    def built_on(self, target: str) -> bool:
        """Whether this image is built and ready on ``target`` (a deployment there then builds nothing)."""
        self.update_creation_state()
        return self._row["state"] == "Succeeded" and target in (self._row.get("record") or {})

    def get_logs(self) -> str:
        """The build log."""
        if self._operation is not None and not self._operation.done():
            return "\n".join(e.line for e in self._operation.events if isinstance(e, events.LogLine))
        self.update_creation_state()
        return self._row.get("log") or ""

    def delete(self) -> None:
        """Remove the image from every target that built it, then from the registry."""
        users = [r["name"] for r in self.workspace.registry.select("services")
                 if r["image_name"] == self.name and r["image_version"] == self.version]
        if users:
            raise UserErrorException(f"Image {self.id} is used by service(s) {', '.join(users)}; delete them first.")
        for target_name, record in (self._row.get("record") or {}).items():
            from .target import target_class

            target_class(target_name)().remove_image(self.workspace, record)
        self.workspace.registry.delete("images", name=self.name, version=self.version)

    def serialize(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "version": self.version, "state": self._row["state"],
                "models": [f"{n}:{v}" for n, v in self._row["models"]], "tags": self.tags,
                "description": self.description, "targets": sorted(self._row.get("record") or {}),
                "createdTime": self.created_time.isoformat(), "error": self.error, "size": self.size}

    def __repr__(self) -> str:
        return f"ContainerImage(workspace={self.workspace.name!r}, name={self.name!r}, version={self.version})"

    # --- creation ------------------------------------------------------------------------------------------

    @staticmethod
    def create(workspace: Workspace, name: str, models: list[Model], image_config: ContainerImageConfig) -> Image:
        """Start building the next version of image ``name``; returns at once (see ``wait_for_creation``)."""
        choice = choose(workspace.target)
        image = _register_image(workspace, name, models, image_config)

        def work(report: Reporter) -> Image:
            # auto gives way to the process target when Docker cannot get the base image (first notice says so).
            target = settle(choice, workspace, image_config.base_image, report)
            build_for_target(image, target, report)
            return image

        image._operation = Operation(f"image {image.id}", work,
                                     key=_op_key(workspace, image.name, image.version)).start()
        return image

    @staticmethod
    def list(workspace: Workspace, image_name: str | None = None, model_name: str | None = None,
             tags: list[Any] | None = None) -> list[Image]:
        rows = workspace.registry.select("images", **({"name": image_name} if image_name else {}))
        if model_name:
            rows = [r for r in rows if any(n == model_name for n, _ in r["models"])]
        from .model import _match

        return [Image(workspace, _row=r) for r in rows if _match(r["tags"], tags)]


class ContainerImage(Image):
    @staticmethod
    def image_configuration(execution_script: str, runtime: str, conda_file: str | None = None,
                            docker_file: str | None = None, schema_file: str | None = None,
                            dependencies: list[str] | None = None, enable_gpu: bool | None = None,
                            tags: dict[str, str] | None = None, properties: dict[str, str] | None = None,
                            description: str | None = None, base_image: str | None = None,
                            base_image_registry: Any = None, **_azure: Any) -> ContainerImageConfig:
        """Describe an image. Files are checked now, so a typo fails here rather than minutes into a build."""
        if runtime not in RUNTIMES:
            raise UserErrorException(f"runtime must be one of {RUNTIMES}, got {runtime!r}.")
        if not Path(execution_script).is_file():
            raise UserErrorException(
                f"Execution script {execution_script!r} not found (relative to {Path.cwd()}). Write it first, "
                "e.g. with the %%score_script magic or %%writefile score.py.")
        if conda_file is not None:
            requirements_from_conda(conda_file)  # maps now: a conda-only package is named here
        for dep in dependencies or []:
            if not Path(dep).exists():
                raise UserErrorException(f"Dependency {dep!r} not found (relative to {Path.cwd()}).")
        if docker_file is not None:
            raise UserErrorException("docker_file steps are not supported yet; use base_image or the conda file.")
        return ContainerImageConfig(execution_script=execution_script, runtime=runtime, conda_file=conda_file,
                                    dependencies=list(dependencies or []), description=description,
                                    tags=dict(tags or {}), base_image=base_image, enable_gpu=bool(enable_gpu))


# --- shared by ContainerImage.create and the Webservice.deploy* family -------------------------------------

def _register_image(workspace: Workspace, name: str, models: list[Model],
                    config: ContainerImageConfig) -> Image:
    """Store the image's inputs, then insert its row (state Running). Everything a rebuild needs is kept."""
    check_image_name(name)
    if not isinstance(config, ContainerImageConfig):
        raise UserErrorException("image_config must come from ContainerImage.image_configuration(...).")
    bad = [m for m in models if not isinstance(m, Model)]
    if bad:
        raise UserErrorException(f"models must be registered Model objects, got {bad[0]!r}; use Model.register().")
    store = workspace.artifacts
    if not Path(config.execution_script).is_file():
        raise UserErrorException(f"Execution script {config.execution_script!r} not found (relative to {Path.cwd()}).")
    with store.storing():  # files, then the row naming them: no collection between (a model's delete runs one)
        spec: dict[str, Any] = {
            "execution_script": Path(config.execution_script).name,
            "script": store.put_file(config.execution_script)[0],
            "script_path": str(Path(config.execution_script).resolve()),  # for LocalWebservice.reload()
            "conda": store.put_file(config.conda_file)[0] if config.conda_file else None,
            "dependencies": {Path(d).name: store.put_tree(d)[0] for d in config.dependencies},
            "base_image": config.base_image,
        }
        if config.source_directory or config.environment:
            from .inference_config import stored_inputs

            spec.update(stored_inputs(store, config))
        row = {"state": "Running", "spec": spec, "record": {}, "models": [[m.name, m.version] for m in models],
               "tags": config.tags, "description": config.description, "owner_pid": os.getpid(),
               "created": time.time(), "updated": time.time()}
        version = workspace.registry.insert_versioned("images", name, row)
    return Image(workspace, name, version=version)


def build_for_target(image: Image, target: Target, report: Reporter) -> dict[str, Any]:
    """Build ``image`` on ``target`` (unless it already was); record the result; return the target's record."""
    ws = image.workspace
    row = ws.registry.get("images", name=image.name, version=image.version)
    if row is None:
        raise UserErrorException(f"Image {image.id} was deleted.")
    existing = (row.get("record") or {}).get(target.name)
    if existing and row["state"] == "Succeeded":
        report.notice(f"Image {image.id} is already built on the {target.name} target; reusing it.")
        return existing
    first_event = len(report.operation.events)

    def build_log() -> str:
        return "\n".join(e.line for e in report.operation.events[first_event:]
                         if isinstance(e, events.LogLine) and e.source == "build")

    key = {"name": image.name, "version": image.version}
    try:
        # The target reports the BUILD step itself (the Target contract): it knows what building means there.
        with tempfile.TemporaryDirectory(prefix="aci-build-", dir=_tmp_root(ws)) as tmp:
            spec = _prepare_context(image, row, Path(tmp), report)
            record = target.build_image(ws, spec, report)
    except OperationCancelled:
        if not row.get("record"):  # a cancelled first build leaves no half-written entry
            ws.registry.delete("images", **key)
        else:
            ws.registry.update("images", key, state="Succeeded")
        raise
    except BaseException as exc:
        error = str(exc) if isinstance(exc, AciWidgetsError) else f"{type(exc).__name__}: {exc}"
        ws.registry.update("images", key, state="Failed", error=error, detail=getattr(exc, "detail", ""),
                           log=build_log())
        raise
    lock = record.pop("lock", None)
    spec_update = {"spec": {**row["spec"], "lock": lock}} if lock and not row["spec"].get("lock") else {}
    records = {**(row.get("record") or {}), target.name: record}
    ws.registry.update("images", key, state="Succeeded", record=records, error=None, detail=None,
                       log=build_log() or row.get("log"), **spec_update)
    image.update_creation_state()
    return record


def _prepare_context(image: Image, row: dict[str, Any], folder: Path, report: Reporter) -> ImageSpec:
    """Lay the image's inputs out in ``folder``: the script, extra files, ``azureml-models/<name>/<version>``."""
    ws = image.workspace
    spec = row["spec"]
    store = ws.artifacts
    if spec.get("source"):  # InferenceConfig's source_directory (its entry script comes next, on its own)
        store.materialize(spec["source"], folder)
    script = folder / spec["execution_script"]
    script.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(store.path(spec["script"]), script)
    for name, manifest in spec["dependencies"].items():
        store.materialize(manifest, folder if len(manifest) == 1 and name in manifest else folder / name)
    copies = spec.get("model_copies") or {}  # models deleted since the image was made (see Model.delete)
    for name, version in row["models"]:
        manifest = copies.get(f"{name}:{version}") or Model(ws, name, version=version).manifest
        store.materialize(manifest, folder / "azureml-models" / name / str(version))
    if spec["conda"]:
        conda_copy = folder / ".conda.yml"
        shutil.copyfile(store.path(spec["conda"]), conda_copy)
        mapped = requirements_from_conda(conda_copy)
        conda_copy.unlink()
    else:
        mapped = map_dependencies([])
    for notice in mapped.notices:
        report.notice(notice, "warning")
    return ImageSpec(name=image.name, version=image.version, context_dir=folder,
                     execution_script=spec["execution_script"], requirements=mapped.requirements,
                     python_version=mapped.python_version, base_image=spec["base_image"],
                     models=[(n, v) for n, v in row["models"]], tags=dict(row["tags"]),
                     python=(spec.get("environment") or {}).get("python"), lock=spec.get("lock"),
                     interpreter=(spec.get("environment") or {}).get("interpreter_path"),
                     environment_variables=dict((spec.get("environment") or {}).get("environment_variables") or {}),
                     base_dockerfile=(spec.get("environment") or {}).get("base_dockerfile"))


def _op_key(workspace: Workspace, name: str, version: int) -> str:
    return f"{workspace.root}::image::{name}:{version}"


def _tmp_root(ws: Workspace) -> Path:
    path = ws.root / "tmp"
    path.mkdir(exist_ok=True)
    return path


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
