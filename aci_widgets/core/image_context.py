"""An image's files a user can open or build by hand: its build log, and a Docker build context (Dockerfile,
requirements, the scoring runtime, the app and its models) written by the Docker target through the Target
interface, so ``docker build`` of the folder makes the image Azure would have run. Kept under the workspace's
``images/<name>/<version>/`` folder."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UserErrorException

if TYPE_CHECKING:
    from .image import Image
    from .operation import Reporter

CONTEXT_TARGET = "docker"  # the target whose build context is a Dockerfile


def files_dir(image: Image) -> Path:
    folder = image.workspace.root / "images" / image.name / str(image.version)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def build_log_file(image: Image) -> str | None:
    """The build log as a file (None while no build has ended: there is no log yet)."""
    image.update_creation_state()
    if image._row["state"] in ("NotStarted", "Running") and not image._row.get("log"):
        return None
    path = files_dir(image) / "build.log"
    path.write_text(image._row.get("log") or "")
    return path.as_uri()


def dockerfile_file(image: Image) -> str:
    """A fresh build context next to the image's files; the URI of its Dockerfile."""
    from .operation import Operation

    dest = files_dir(image) / "context"
    Operation(f"build context of image {image.id}", lambda report: write_context(image, dest, report)).start().result()
    return (dest / "Dockerfile").as_uri()


def write_context(image: Image, dest: Path, report: Reporter) -> Path:
    """Write the build context of ``image`` into ``dest`` (replacing what was there); return ``dest``."""
    from .image import _prepare_context, _tmp_root
    from .target import target_class

    row = image.workspace.registry.get("images", name=image.name, version=image.version)
    if row is None:
        raise UserErrorException(f"Image {image.id} was deleted.")
    root = _tmp_root(image.workspace)
    with tempfile.TemporaryDirectory(prefix="aci-inputs-", dir=root) as tmp, \
            tempfile.TemporaryDirectory(prefix="aci-context-", dir=root) as out:
        spec = _prepare_context(image, row, Path(tmp), report)
        staged = Path(out) / "context"
        if target_class(CONTEXT_TARGET)().write_build_context(image.workspace, spec, staged) is None:
            raise UserErrorException(f"The {CONTEXT_TARGET} target cannot write a build context.")
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staged), dest)
    return dest
