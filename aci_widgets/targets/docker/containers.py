"""One container per service: naming, starting with the deployment's limits, finding, and describing it.

Everything we make carries ``aci_widgets.*`` labels, so that a new kernel can find its services again and a
test can remove exactly what it made.
"""

from __future__ import annotations

import io
import re
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docker.errors import APIError, NotFound

from ...core.errors import WebserviceException
from .client import docker_client
from .dockerfile import APP_DIR, PORT

if TYPE_CHECKING:
    from ...core.target import ServiceSpec

WORKSPACE_LABEL = "aci_widgets.workspace"
SERVICE_LABEL = "aci_widgets.service"
IMAGE_LABEL = "aci_widgets.image"
MEMORY_LABEL = "aci_widgets.memory_gb"
_PORT_KEY = f"{PORT}/tcp"


def container_name(ws_name: str, service: str) -> str:
    """``aci-widgets-<workspace>-<service>`` with anything Docker refuses in a name replaced by '-'."""
    return re.sub(r"[^a-zA-Z0-9_.-]", "-", f"aci-widgets-{ws_name}-{service}")


def create_and_start(ws_name: str, spec: ServiceSpec, on_created: Callable[[Any], None] | None = None) -> Any:
    """Create and start the service's container; on any refusal remove it and raise WebserviceException.
    ``on_created(container)`` runs between the two (the target records it there: nothing runs untracked); if it
    raises, the container is removed."""
    client = docker_client()
    name = container_name(ws_name, spec.name)
    _remove_leftover(client, name, ws_name)
    image_ref = spec.image.get("id") or spec.image["tag"]
    try:
        image = client.images.get(image_ref)
    except NotFound:
        raise WebserviceException(
            f"The image {spec.image.get('tag', image_ref)} of service {spec.name} is gone from the Docker "
            "engine; create the image again.") from None
    # Inside the container the Host a client sends is the published 127.0.0.1:<host port>: loopback names are
    # allowed on any port by the runtime, so only configured names are passed. Flags at their defaults are left
    # out, so that an image built by an older version (whose runtime does not know them) still starts.
    command = list(image.attrs["Config"]["Cmd"]) + ["--max-body-bytes", str(spec.max_body_bytes)]
    if spec.scoring_timeout_ms != 60000:
        command += ["--scoring-timeout-ms", str(spec.scoring_timeout_ms)]
    if spec.allowed_hosts:
        command += ["--allowed-hosts", ",".join(spec.allowed_hosts)]
    if spec.cors_origins:
        command += ["--cors-origins", ",".join(spec.cors_origins)]
    environment = dict(spec.environment)
    if spec.auth_keys:
        environment["ACI_WIDGETS_AUTH_KEYS"] = ",".join(spec.auth_keys)
    memory = f"{int(spec.memory_gb * 1024)}m"
    labels = {WORKSPACE_LABEL: ws_name, SERVICE_LABEL: spec.name,
              IMAGE_LABEL: spec.image.get("tag", image_ref), MEMORY_LABEL: f"{spec.memory_gb:g}"}
    try:
        container = client.containers.create(
            image.id, command=command, name=name, labels=labels, environment=environment, detach=True,
            nano_cpus=int(spec.cpu_cores * 1e9), mem_limit=memory, memswap_limit=memory, init=True,
            log_config={"type": "json-file", "config": {"max-size": "10m", "max-file": "3"}},  # as --log-file rotates
            ports={_PORT_KEY: ("127.0.0.1", spec.port)})
    except APIError as exc:
        raise WebserviceException(f"The Docker engine refused to create service {spec.name}: "
                                  f"{_explain(exc)}") from exc
    try:
        if on_created is not None:
            on_created(container)
    except BaseException:
        remove_quietly(container)
        raise
    try:
        container.start()
    except APIError as exc:
        remove_quietly(container)
        hint = ""
        if spec.port and ("allocated" in str(exc) or "address already in use" in str(exc)):
            hint = f" Port {spec.port} on 127.0.0.1 is taken: choose another port, or none for a free one."
        raise WebserviceException(f"The Docker engine could not start service {spec.name}: "
                                  f"{_explain(exc)}.{hint}") from exc
    return container


def published_port(container: Any) -> int | None:
    """The host port (on 127.0.0.1) the engine gave the container's port 5001; None once it has exited."""
    for _ in range(50):
        container.reload()
        port = port_of(container)
        if port is not None:
            return port
        if container.status in ("exited", "dead"):
            return None
        time.sleep(0.02)
    raise WebserviceException(f"Container {container.name} has no published port {PORT}.")


def port_of(container: Any) -> int | None:
    """The host port in the container's last inspection (none while it is not running)."""
    for binding in (container.ports or {}).get(_PORT_KEY) or []:
        if binding.get("HostPort"):
            return int(binding["HostPort"])
    return None


def make_handle(container: Any, port: int | None) -> dict[str, Any]:
    """The JSON-able record the core keeps for a running service."""
    base = f"http://127.0.0.1:{port}" if port else None
    return {"container_id": container.id, "container_name": container.name, "port": port,
            "scoring_uri": f"{base}/score" if base else None,
            "swagger_uri": f"{base}/swagger.json" if base else None}


def get_container(handle: dict[str, Any]) -> Any:
    """The handle's container (by id, else by name); raises docker's NotFound when it is gone."""
    client = docker_client()
    try:
        return client.containers.get(handle.get("container_id") or handle["container_name"])
    except NotFound:
        if handle.get("container_name") and handle.get("container_id"):
            return client.containers.get(handle["container_name"])
        raise


def remove_quietly(container: Any) -> None:
    """Remove a container (killing it first if needed); it being gone already is fine."""
    try:
        container.remove(force=True)
    except NotFound:
        pass
    except APIError as exc:
        if "already in progress" not in str(exc):
            raise


def put_files(container: Any, files: dict[str, Path]) -> None:
    """Copy host files into the container's app directory (keys are paths relative to it)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for rel, source in files.items():
            rel_path = Path(rel).as_posix().lstrip("/")
            if ".." in Path(rel_path).parts:
                raise WebserviceException(f"Cannot reload {rel!r}: the path leaves {APP_DIR}.")
            data = Path(source).read_bytes()
            info = tarfile.TarInfo(rel_path)
            info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    if not container.put_archive(APP_DIR, buffer.getvalue()):
        raise WebserviceException(f"The Docker engine refused the files for {container.name}.")


def find_services(ws_name: str) -> list[dict[str, Any]]:
    """Every service container of a workspace (running or not), as handles plus service name and state."""
    found = []
    selector = {"label": f"{WORKSPACE_LABEL}={ws_name}"}
    for container in docker_client().containers.list(all=True, filters=selector):
        record = make_handle(container, port_of(container))
        record.update(service=container.labels.get(SERVICE_LABEL), image=container.labels.get(IMAGE_LABEL),
                      state=container.status)
        found.append(record)
    return found


def _remove_leftover(client: Any, name: str, ws_name: str) -> None:
    """A container of ours with this name is a leftover of an old deployment: replace it. Refuse others."""
    try:
        old = client.containers.get(name)
    except NotFound:
        return
    if (old.labels or {}).get(WORKSPACE_LABEL) != ws_name:
        raise WebserviceException(f"A container named {name} exists that aci_widgets did not make; remove it "
                                  "or choose another service name.")
    remove_quietly(old)


def _explain(exc: APIError) -> str:
    return str(getattr(exc, "explanation", None) or exc)
