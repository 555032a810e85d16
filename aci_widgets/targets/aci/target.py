"""``AciTarget``: the image built by the Docker target's builder and pushed to a registry; a container group per
service, created, watched and deleted through the Azure SDK's long-running-operation pollers."""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import re
import socket
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ...core.errors import OperationCancelled, UserErrorException, WebserviceException
from ...core.events import HEALTH, START
from ...core.target import ImageSpec, Running, ServiceSpec, ServiceStatus, Target
from ..docker import DockerTarget
from ..docker import client as engine
from ..docker.dockerfile import PORT
from .client import aci_client
from .errors import explain
from .group import SERVICE_TAG, WORKSPACE_TAG, GroupView, container_group
from .prices import cost_notice
from .push import push_image
from .settings import AciSettings, registry_credentials

if TYPE_CHECKING:
    from ...core.operation import Reporter
    from ...core.workspace import Workspace

PUSH = "push image"
LOG_LINES = 30          # container log lines shown when init() crash-loops
DELETE_TIMEOUT = 900.0  # seconds a delete may take before we stop waiting and say so (Azure's take about a minute)


class AciTarget(Target):
    """Steps reported: ``BUILD`` (the Docker builder) and ``push image`` in build_image; ``START`` (the create
    operation) then ``HEALTH`` in start_service."""

    name = "aci"

    def __init__(self, health_timeout: float = 900.0) -> None:
        self.health_timeout = health_timeout

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            import azure.mgmt.containerinstance  # noqa: F401
        except ImportError:
            return "azure-mgmt-containerinstance is not installed (pip install azure-mgmt-containerinstance)"
        reason = engine.unavailable_reason()
        return f"it builds images with Docker, and {reason}" if reason else None

    # --- images ---

    def build_image(self, ws: Workspace, spec: ImageSpec, report: Reporter) -> dict[str, Any]:
        """Build with the Docker target, then push ``<registry>/<workspace>/<name>:<version>``: the workspace in
        the path keeps two workspaces that share a registry from overwriting each other's versions."""
        settings = AciSettings.of(ws)  # before building: a missing setting is said at once
        local = DockerTarget().build_image(ws, spec, report)
        reference = f"{settings.registry}/{repository_path(ws.name)}/{spec.name}:{spec.version}"
        with report.step(PUSH, reference):
            digest = push_image(local["id"], reference, registry_credentials(settings.registry), report)
        cmd = engine.docker_client().images.get(local["id"]).attrs["Config"]["Cmd"]
        return {"tag": reference, "digest": digest, "local_tag": local["tag"], "id": local["id"],
                "size": local.get("size"), "cmd": list(cmd or [])}

    def remove_image(self, ws: Workspace, image: dict[str, Any]) -> None:
        """Remove the local copies (the registry keeps its own until deleted there)."""
        from docker.errors import APIError

        client = engine.docker_client()
        for ref in (image.get("tag"), image.get("local_tag")):
            with contextlib.suppress(APIError):
                client.images.remove(ref)

    # --- services ---

    def start_service(self, ws: Workspace, spec: ServiceSpec, report: Reporter) -> dict[str, Any]:
        settings = AciSettings.of(ws)
        row = ws.registry.get("services", name=spec.name) or {}
        config = row.get("config") or {}
        location = config.get("location") or settings.location
        settings = dataclasses.replace(settings, location=location)  # errors name the service's own location
        size = f"{spec.cpu_cores:g} vCPU, {spec.memory_gb:g} GB"
        group = container_group(spec, ws.name, settings, location, dict(row.get("tags") or {}),
                                config.get("dns_name_label"), registry_credentials(settings.registry))
        handle: dict[str, Any] = {"group": spec.name, "subscription_id": settings.subscription_id,
                                  "resource_group": settings.resource_group, "location": location,
                                  "container": spec.name}
        client = aci_client(settings)
        created = False
        seen: dict[tuple[str, str], int] = {}  # instance-view events shown so far: each once
        report.notice(cost_notice(spec.cpu_cores, spec.memory_gb))
        try:
            with report.step(START, f"container group {spec.name} in {location} ({size})"):
                try:
                    poller = client.container_groups.begin_create_or_update(settings.resource_group, spec.name,
                                                                            group)
                except Exception as exc:
                    raise self._explained(exc, settings, spec.name, size) from exc
                created = True
                report.started(handle)
                self._follow(poller, client, handle, report, settings, size, seen)
            with report.step(HEALTH, "container group " + spec.name):
                handle.update(self._wait_healthy(client, handle, report, seen))
            return handle
        except BaseException:
            if created:
                self._delete(client, handle, report)
            raise

    def _follow(self, poller: Any, client: Any, handle: dict[str, Any], report: Reporter, settings: AciSettings,
                size: str, seen: dict[tuple[str, str], int]) -> None:
        """Wait on the SDK's poller, showing its status and the group's instance-view events as they come."""
        status = ""
        while not poller.done():
            if report.cancelled:
                raise OperationCancelled(f"The deployment of {handle['group']} was cancelled; its container "
                                         "group was deleted.")
            if poller.status() != status:
                status = poller.status()
                report.log(f"Azure: create operation {status}", "azure")
            self._show_events(client, handle, report, seen)
            poller.wait(0.5)
        try:
            poller.result()
        except Exception as exc:
            raise self._explained(exc, settings, handle["group"], size) from exc
        report.log("Azure: create operation Succeeded", "azure")
        self._show_events(client, handle, report, seen)

    @staticmethod
    def _show_events(client: Any, handle: dict[str, Any], report: Reporter, seen: dict[tuple[str, str], int]
                     ) -> GroupView | None:
        try:
            view = GroupView.of(client.container_groups.get(handle["resource_group"], handle["group"]))
        except Exception:  # noqa: BLE001 - events are a courtesy; the poller decides success
            return None
        for name, count, message in view.events:
            if seen.get((name, message), 0) < count:
                seen[(name, message)] = count
                report.log(f"{name}: {message}" + (f" (x{count})" if count > 1 else ""), "azure")
        return view

    def _wait_healthy(self, client: Any, handle: dict[str, Any], report: Reporter,
                      seen: dict[tuple[str, str], int]) -> dict[str, Any]:
        """Until the scoring server answers ``GET /``; a crash-looping container fails with its last log lines."""
        deadline = time.monotonic() + self.health_timeout
        while time.monotonic() < deadline:
            report.check_cancelled()
            view = self._show_events(client, handle, report, seen)
            if view is not None:
                if view.provisioning == "Failed":
                    raise WebserviceException(f"Service {handle['group']!r} failed in Azure (provisioning state "
                                              "Failed).", self._log_tail(client, handle))
                if view.crashing:
                    raise WebserviceException(
                        f"Service {handle['group']!r} failed: {view.describe_crash()}. init() in score.py most "
                        "likely raised: its last log lines are below; fix it and deploy again.",
                        self._log_tail(client, handle))
                uri = scoring_base(view)
                if uri and view.container_state == "Running" and _answers(uri):
                    return {"scoring_uri": f"{uri}/score", "swagger_uri": f"{uri}/swagger.json",
                            "ip": view.ip, "fqdn": view.fqdn}
            time.sleep(0.5)
        raise WebserviceException(f"Service {handle['group']!r} did not answer within {self.health_timeout:g} s.",
                                  self._log_tail(client, handle))

    def status(self, ws: Workspace, handle: dict[str, Any]) -> ServiceStatus:
        settings = self._settings_of(ws, handle)
        try:
            group = aci_client(settings).container_groups.get(handle["resource_group"], handle["group"])
        except Exception as exc:  # noqa: BLE001 - the reason becomes the state's error
            if getattr(exc, "status_code", None) == 404:
                return ServiceStatus("Failed", f"The container group {handle['group']} was not found in Azure "
                                               "(deleted outside aci_widgets); deploy the service again.")
            return ServiceStatus("Unhealthy", str(self._explained(exc, settings, handle["group"])))
        view = GroupView.of(group)
        if view.provisioning == "Failed":
            return ServiceStatus("Failed", f"The container group {handle['group']} failed in Azure.")
        if view.provisioning in ("Pending", "Creating", "Updating", "Repairing", "Accepted"):
            return ServiceStatus("Transitioning")
        if view.group_state == "Stopped":
            return ServiceStatus("Unhealthy", f"The container group {handle['group']} is stopped; start it with "
                                              f"`az container start -g {handle['resource_group']} -n "
                                              f"{handle['group']}`.")
        if view.crashing:
            client = aci_client(settings)
            return ServiceStatus("Failed", f"Service {handle['group']!r}: {view.describe_crash()}.",
                                 self._log_tail(client, handle))
        if view.container_state == "Running":
            return ServiceStatus("Healthy")
        return ServiceStatus("Transitioning")

    def logs(self, ws: Workspace, handle: dict[str, Any], tail: int | None = None) -> str:
        settings = self._settings_of(ws, handle)
        try:
            logs = aci_client(settings).containers.list_logs(handle["resource_group"], handle["group"],
                                                             handle.get("container") or handle["group"], tail=tail)
        except Exception as exc:
            row = ws.registry.get("services", name=handle["group"]) or {}
            if getattr(exc, "status_code", None) == 404 and row.get("state") == "Failed":
                # A failed deployment deletes its group: its error keeps the container's last lines.
                return "\n".join(filter(None, [row.get("error"), row.get("detail")]))
            raise self._explained(exc, settings, handle["group"]) from exc
        return logs.content or ""

    def stop_service(self, ws: Workspace, handle: dict[str, Any]) -> None:
        """Delete the container group and wait until Azure no longer has it."""
        settings = self._settings_of(ws, handle)
        client = aci_client(settings)
        deadline = time.monotonic() + DELETE_TIMEOUT
        try:
            poller = client.container_groups.begin_delete(handle["resource_group"], handle["group"])
            poller.wait(DELETE_TIMEOUT)
            if poller.done():
                poller.result()  # raises what the operation failed with
            while time.monotonic() < deadline:
                client.container_groups.get(handle["resource_group"], handle["group"])
                time.sleep(0.5)
        except Exception as exc:
            if getattr(exc, "status_code", None) == 404:
                return
            raise self._explained(exc, settings, handle["group"]) from exc
        raise WebserviceException(
            f"Azure has not finished deleting the container group {handle['group']!r} after {DELETE_TIMEOUT:g} s; "
            "it may still be billed. Check it in the portal or with `az container show`, then delete it again.")

    def running(self, ws: Workspace, services: dict[str, dict[str, Any]]) -> list[Running]:
        """The workspace's container groups in its resource group (tagged with the workspace's name); nothing for
        a workspace that was never set up for ACI and has no service there."""
        try:
            settings = AciSettings.of(ws)
        except UserErrorException:
            if services:
                raise
            return []
        try:
            groups = list(aci_client(settings).container_groups.list_by_resource_group(settings.resource_group))
        except Exception as exc:
            raise self._explained(exc, settings) from exc
        found = []
        for group in groups:
            tags = group.tags or {}
            if tags.get(WORKSPACE_TAG) != ws.name:
                continue
            view = GroupView.of(group)
            name = tags.get(SERVICE_TAG) or group.name
            found.append(Running("container group", self.name, name, view.group_state or view.provisioning,
                                 None, PORT, f"{group.name} in {group.location}"
                                 + ("" if name in services else " (no service row names it)")))
        return found

    # --- helpers ---

    def _delete(self, client: Any, handle: dict[str, Any], report: Reporter) -> None:
        """Remove a half-made group (failure or cancel), saying so; never hide the original error."""
        with contextlib.suppress(Exception):
            report.log(f"Azure: deleting the container group {handle['group']}", "azure")
            client.container_groups.begin_delete(handle["resource_group"], handle["group"]).wait(DELETE_TIMEOUT)

    @staticmethod
    def _log_tail(client: Any, handle: dict[str, Any]) -> str:
        try:
            return client.containers.list_logs(handle["resource_group"], handle["group"],
                                               handle.get("container") or handle["group"],
                                               tail=LOG_LINES).content or ""
        except Exception as exc:  # noqa: BLE001 - the logs are extra detail
            return f"(no logs: {exc})"

    @staticmethod
    def _settings_of(ws: Workspace, handle: dict[str, Any]) -> AciSettings:
        return AciSettings.for_handle(handle) if handle.get("subscription_id") else AciSettings.of(ws)

    @staticmethod
    def _explained(exc: BaseException, settings: AciSettings, name: str = "", size: str = "") -> Exception:
        if isinstance(exc, (OperationCancelled, WebserviceException)):
            return exc
        return explain(exc, settings, name, size)


def repository_path(workspace: str) -> str:
    """The workspace's name as a registry path component (lowercase letters and digits joined by '-')."""
    return re.sub(r"[^a-z0-9]+", "-", workspace.lower()).strip("-") or "workspace"


def scoring_base(view: GroupView) -> str | None:
    """``http://<fqdn>:5001`` when the FQDN resolves, else ``http://<ip>:5001`` (None before an address exists)."""
    if view.fqdn:
        with contextlib.suppress(OSError):
            socket.getaddrinfo(view.fqdn, PORT, type=socket.SOCK_STREAM)
            return f"http://{view.fqdn}:{PORT}"
    return f"http://{view.ip}:{PORT}" if view.ip else None


def _answers(base: str) -> bool:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=2)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
