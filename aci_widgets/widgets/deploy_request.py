"""What ``%deploy_aci`` and the deploy form both ask of the core: resolve the models, then start a deployment.

No UI here: it raises the core's ``UserErrorException`` for anything the user got wrong, *before* anything is
registered or built, and returns the operations to follow. The magic and the form draw them.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..core import (
    AciWebservice,
    ContainerImage,
    Image,
    Model,
    ModelNotFoundException,
    UserErrorException,
    Webservice,
)
from ..core.names import check_image_name, check_service_name
from ..core.operation import Operation
from ..core.target import choose_target

if TYPE_CHECKING:
    from ..core import Workspace


@dataclass
class DeployRequest:
    """A deployment as a user states it: files or registered names, sizes, a target."""

    name: str
    models: list[str] = field(default_factory=list)  # model files, or registered "name" / "name:version"
    script: str = "score.py"
    conda: str | None = None
    cpu: float = 1.0
    memory: float = 1.0
    tags: dict[str, str] = field(default_factory=dict)
    image: str | None = None                          # build an image of this name (or deploy it, no models)
    auth: bool = False
    target: str | None = None                         # None: $ACI_WIDGETS_TARGET or the workspace's setting
    overwrite: bool = False


@dataclass
class ResolvedModel:
    model: Model
    how: str  # "registered now", "already registered" (same files), "by name"

    def describe(self) -> str:
        return f"{self.model.id} ({self.how})"


@dataclass
class StartedDeployment:
    """The service (still deploying), the operations to follow in order, and what model registration did."""

    service: Webservice
    operations: list[Operation]
    models: list[ResolvedModel]
    register_seconds: float

    @property
    def register_message(self) -> str:
        return ", ".join(m.describe() for m in self.models)


def file_manifest(path: Path) -> dict[str, str]:
    """``{relative path: sha256}`` as the model registry stores it, computed without storing anything."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    manifest = {}
    for file in files:
        digest = hashlib.sha256()
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):  # noqa: B023 - consumed at once
                digest.update(chunk)
        manifest[file.name if path.is_file() else file.relative_to(path).as_posix()] = digest.hexdigest()
    return manifest


def find_registered(ws: Workspace, spec: str) -> Model:
    """A registered ``name`` (latest version) or ``name:version``; the error lists what is registered."""
    name, _, version = spec.partition(":")
    if version and not version.isdigit():
        raise UserErrorException(f"Model {spec!r}: the version after ':' must be a number.")
    try:
        return Model(ws, name, version=int(version) if version else None)
    except ModelNotFoundException:
        names = sorted({m.name for m in Model.list(ws)})
        known = f"Registered models: {', '.join(names)}." if names else "No model is registered yet."
        raise UserErrorException(f"{spec!r} is neither a file (relative to {Path.cwd()}) nor a registered "
                                 f"model. {known}") from None


def register_file(ws: Workspace, path: Path) -> ResolvedModel:
    """Register a model file (or folder) under its name, unless the same files already are."""
    manifest = file_manifest(path)
    for model in reversed(Model.list(ws, name=path.name)):
        if model.manifest == manifest:
            return ResolvedModel(model, "already registered")
    return ResolvedModel(Model.register(ws, path, path.name), "registered now")


def resolve_models(ws: Workspace, specs: list[str]) -> list[ResolvedModel]:
    """Files are registered (once per content), names looked up; names first, so a typo registers nothing."""
    by_name = {spec: ResolvedModel(find_registered(ws, spec), "by name")
               for spec in specs if not Path(spec).exists()}
    return [by_name[spec] if spec in by_name else register_file(ws, Path(spec)) for spec in specs]


def check_request(request: DeployRequest) -> None:
    """Everything that can be checked without touching the registry, so a typo registers nothing."""
    check_service_name(request.name)
    if not request.models and not request.image:
        raise UserErrorException("Give at least one --model (a file, or a registered name or name:version), "
                                 "or --image NAME of an image already built.")
    if request.image and not request.models:
        return
    if request.image:
        check_image_name(request.image)
    if not Path(request.script).is_file():
        raise UserErrorException(f"Score script {request.script!r} not found (relative to {Path.cwd()}); "
                                 "write it with %%score_script.")


def start_deployment(ws: Workspace, request: DeployRequest) -> StartedDeployment:
    """Validate, register what needs registering, start the deployment; return at once."""
    check_request(request)
    deployment_config = AciWebservice.deploy_configuration(cpu_cores=request.cpu, memory_gb=request.memory,
                                                           tags=request.tags, auth_enabled=request.auth)
    choose_target(ws.target, explicit=request.target)  # an unknown or unavailable target fails before registering
    image_config = None
    if request.models:
        image_config = ContainerImage.image_configuration(execution_script=request.script, runtime="python",
                                                          conda_file=request.conda, tags=request.tags)
    if request.image and not request.models:
        image = Image(ws, id=request.image)
        service = Webservice.deploy_from_image(ws, request.name, image, deployment_config,
                                               deployment_target=request.target, overwrite=request.overwrite)
        return StartedDeployment(service, [op for op in (service.operation,) if op], [], 0.0)

    started = time.perf_counter()
    resolved = resolve_models(ws, request.models)
    register_seconds = time.perf_counter() - started
    models = [r.model for r in resolved]
    assert image_config is not None
    if request.image:
        image = ContainerImage.create(ws, request.image, models, image_config)
        service = Webservice.deploy_from_image(ws, request.name, image, deployment_config,
                                               deployment_target=request.target, overwrite=request.overwrite)
        operations = [op for op in (image.operation, service.operation) if op]
    else:
        service = Webservice.deploy_from_model(ws, request.name, models, image_config, deployment_config,
                                               deployment_target=request.target, overwrite=request.overwrite)
        operations = [op for op in (service.operation,) if op]
    return StartedDeployment(service, operations, resolved, register_seconds)
