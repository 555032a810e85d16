"""``Model.package``: the image of models and an InferenceConfig, built on the workspace's target, or, with
``generate_dockerfile=True``, only its Docker build context, which ``save(path)`` writes for ``docker build``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UserErrorException

if TYPE_CHECKING:
    from .image import Image
    from .inference_config import InferenceConfig
    from .model import Model
    from .workspace import Workspace


@dataclass
class ContainerRegistry:
    """Where a package's image is: on this machine, the local Docker engine (no address, no credentials)."""

    address: str | None = None
    username: str | None = None
    password: str | None = None


class ModelPackage:
    """What ``Model.package`` returns: ``wait_for_creation``, ``location``, ``save(path)``."""

    def __init__(self, image: Image, generate_dockerfile: bool) -> None:
        self.image = image
        self.workspace = image.workspace
        self.generate_dockerfile = generate_dockerfile

    id = property(lambda self: self.image.id)
    state = property(lambda self: "Succeeded" if self.generate_dockerfile else self.image.creation_state)

    @property
    def location(self) -> str | None:
        """The built image's tag (or folder, on the process target); None with generate_dockerfile=True."""
        return None if self.generate_dockerfile else self.image.image_location

    def wait_for_creation(self, show_output: bool = False) -> None:
        if not self.generate_dockerfile:
            self.image.wait_for_creation(show_output=show_output)

    def get_logs(self) -> str:
        return self.image.get_logs()

    def get_container_registry(self) -> ContainerRegistry:
        return ContainerRegistry()

    def save(self, output_directory: str | Path) -> str:
        """Write the Dockerfile and build context into ``output_directory``: ``docker build output_directory``."""
        from .image_context import write_context
        from .operation import Operation

        dest = Path(output_directory).resolve()
        if dest.exists() and any(dest.iterdir()):
            raise UserErrorException(f"{dest} is not empty; save the package into a new or empty folder.")
        Operation(f"package {self.id}", lambda report: write_context(self.image, dest, report)).start().result()
        return str(dest)

    def __repr__(self) -> str:
        return f"ModelPackage(workspace={self.workspace.name!r}, id={self.id!r})"


def package(workspace: Workspace, models: list[Model], inference_config: InferenceConfig | None,
            generate_dockerfile: bool, image_name: str | None, image_label: str | None) -> ModelPackage:
    from . import no_code
    from .image import Image, _register_image
    from .inference_config import InferenceConfig
    from .model import Model

    models = [models] if isinstance(models, Model) else list(models or [])
    bad = [m for m in models if not isinstance(m, Model)]
    if bad:
        raise UserErrorException(f"models must be registered Model objects, got {bad[0]!r}.")
    name = image_name or f"package-{uuid.uuid4().hex[:12]}"
    if inference_config is None:
        inference_config = no_code.inference_config(workspace, name, models)
    elif not isinstance(inference_config, InferenceConfig):
        raise UserErrorException(f"inference_config must be an InferenceConfig, got {inference_config!r}.")
    config = inference_config._image_config()
    if image_label:
        config.tags = {**config.tags, "label": image_label}
    if generate_dockerfile:
        image = _register_image(workspace, name, models, config)
        workspace.registry.update("images", {"name": image.name, "version": image.version}, state="NotStarted")
        return ModelPackage(Image(workspace, image.name, version=image.version), True)
    return ModelPackage(Image.create(workspace, name, models, config), False)
