"""Tagging the built image ``<registry>/<name>:<version>`` and pushing it, the push streamed into log lines.

The registry already holds the layers of an earlier version (the base and the environment): the engine sends only
the new ones ("Layer already exists" for the others), so a score.py-only change pushes one small layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...core.errors import ImageBuildError, OperationCancelled
from ..docker.client import docker_client

if TYPE_CHECKING:
    from ...core.operation import Reporter

_SHOWN = ("Pushed", "Layer already exists", "Mounted from")


def push_image(image_id: str, reference: str, credentials: tuple[str, str] | None, report: Reporter) -> str:
    """Tag ``image_id`` as ``reference`` (``registry/name:version``) and push it; return the pushed digest."""
    repository, _, tag = reference.rpartition(":")
    client = docker_client()
    client.images.get(image_id).tag(repository, tag)
    auth = {"username": credentials[0], "password": credentials[1]} if credentials else None
    report.log(f"Pushing {reference}", "build")
    stream = client.api.push(repository, tag, stream=True, decode=True, auth_config=auth)
    digest, sent, reused = "", 0, 0
    try:
        for chunk in stream:
            if report.cancelled:
                raise OperationCancelled(f"The push of {reference} was cancelled.")
            if chunk.get("error") or chunk.get("errorDetail"):
                raise _refused(reference, chunk, credentials is not None)
            status = chunk.get("status") or ""
            if status.startswith(_SHOWN):
                sent += status == "Pushed"
                reused += status != "Pushed"
                report.log(f"{chunk.get('id', '')}: {status}", "build")
            elif "digest:" in status:
                digest = status.split("digest:", 1)[1].split()[0]
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    report.log(f"Pushed {reference}: {sent} layer(s) sent, {reused} already in the registry", "build")
    return digest


def _refused(reference: str, chunk: dict[str, Any], had_credentials: bool) -> ImageBuildError:
    said = (chunk.get("errorDetail") or {}).get("message") or chunk.get("error") or "unknown error"
    registry = reference.split("/", 1)[0]
    how = ("check ACI_WIDGETS_REGISTRY_USERNAME / ACI_WIDGETS_REGISTRY_PASSWORD (for ACR: `az acr credential show "
           f"-n {registry.split('.')[0]}`)") if had_credentials else (
        f"set ACI_WIDGETS_REGISTRY_USERNAME and ACI_WIDGETS_REGISTRY_PASSWORD, or run `docker login {registry}`")
    return ImageBuildError(f"The registry {registry} refused the push of {reference}: {how}.",
                           detail=f"The registry said: {said}")
