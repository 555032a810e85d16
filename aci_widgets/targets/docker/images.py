"""Removing what we built: one image on request, or all that carries a label (tests, workspace deletion)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from docker.errors import APIError, NotFound
from docker.utils import parse_repository_tag

from ...core.errors import BaseImageUnavailable, WebserviceException
from .client import docker_client
from .containers import SERVICE_LABEL, WORKSPACE_LABEL, remove_quietly


def ensure_base_image(base: str, pulling: Callable[[], None] | None = None) -> None:
    """Make sure the engine has ``base`` (pulling it if needed), before a build would fail on its FROM line with
    an engine message that says nothing of what to do. Raises ``BaseImageUnavailable``."""
    client = docker_client()
    try:
        client.images.get(base)
        return
    except NotFound:
        pass
    except APIError as exc:
        raise _unavailable(base, exc) from exc
    if pulling is not None:
        pulling()
    repository, tag = parse_repository_tag(base)
    try:
        client.images.pull(repository, tag=tag or "latest")
    except APIError as exc:
        raise _unavailable(base, exc) from exc


def _unavailable(base: str, exc: APIError) -> BaseImageUnavailable:
    reason = str(getattr(exc, "explanation", None) or exc).strip()
    fix = (f"run `docker pull {base}` (or load it with `docker load`), or name another base image with base_image= "
           "in ContainerImage.image_configuration(...)")
    return BaseImageUnavailable(
        f"The Docker engine cannot get base image {base}: {reason}. Either {fix}; or use the process target: "
        "`--target process` (aci-widgets, %deploy_aci), deployment_target=\"process\", or ws.target = \"process\".",
        image=base, reason=reason, fix=fix)


def remove_image(ws_name: str, record: dict[str, Any]) -> None:
    """Remove an image we built; refuse, naming the services, while any container (even stopped) uses it."""
    client = docker_client()
    tag = record.get("tag") or record.get("id")
    try:
        image = client.images.get(record.get("id") or record["tag"])
    except NotFound:
        return
    users = client.containers.list(all=True, filters={"ancestor": image.id})
    if users:
        raise WebserviceException(f"Image {tag} is used by {_describe(users)}: delete that service first.")
    ours = (image.labels or {}).get(WORKSPACE_LABEL) == ws_name
    try:
        # force only our own image: it may carry more than one tag (a rebuild of the same name:version).
        client.images.remove(image.id, force=ours)
    except NotFound:
        return
    except APIError as exc:
        if exc.status_code == 409:
            users = client.containers.list(all=True, filters={"ancestor": image.id})
            who = _describe(users) if users else "another image or container"
            raise WebserviceException(f"Image {tag} cannot be removed: it is used by {who} "
                                      f"({exc.explanation}).") from exc
        raise


def cleanup(label_selector: str | list[str]) -> dict[str, int]:
    """Remove every container, then every image, matching a label filter such as
    ``"aci_widgets.workspace=test-1a2b"``; return how many of each went."""
    client = docker_client()
    selector = [label_selector] if isinstance(label_selector, str) else list(label_selector)
    containers = client.containers.list(all=True, filters={"label": selector})
    for container in containers:
        remove_quietly(container)
    removed_images = 0
    for image in client.images.list(filters={"label": selector}):
        try:
            client.images.remove(image.id, force=True)
            removed_images += 1
        except NotFound:
            pass
    return {"containers": len(containers), "images": removed_images}


def _describe(containers: list[Any]) -> str:
    names = []
    for container in containers:
        service = (container.labels or {}).get(SERVICE_LABEL)
        names.append(f"service {service!r} (container {container.name})" if service
                     else f"container {container.name}")
    return ", ".join(names)
