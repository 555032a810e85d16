"""A service as an ACI container group (the SDK's models), and what a group's instance view says about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...core.target import ServiceSpec
from ..docker.dockerfile import PORT
from .settings import AciSettings

WORKSPACE_TAG = "aci-widgets-workspace"
SERVICE_TAG = "aci-widgets-service"
TRANSITIONING = ("Pending", "Creating", "Updating", "Repairing", "Accepted", "Deleting")


def container_group(spec: ServiceSpec, ws_name: str, settings: AciSettings, location: str, tags: dict[str, str],
                    dns_name_label: str | None, credentials: tuple[str, str] | None) -> Any:
    """The ContainerGroup to PUT: the image's runtime command, port 5001, keys as secure variables, restart
    Always. The runtime answers any Host name here: the group is reached by its public FQDN or IP, and its keys,
    not its name, protect it (the loopback-only Host check guards services on a user's own machine)."""
    from azure.mgmt.containerinstance import models as m

    command = list(spec.image.get("cmd") or []) + ["--max-body-bytes", str(spec.max_body_bytes),
                                                  "--allowed-hosts", "*"]
    if spec.scoring_timeout_ms != 60000:  # flags at their defaults are left out, as the Docker target does
        command += ["--scoring-timeout-ms", str(spec.scoring_timeout_ms)]
    if spec.cors_origins:
        command += ["--cors-origins", ",".join(spec.cors_origins)]
    env = [m.EnvironmentVariable(name=k, value=v) for k, v in spec.environment.items()]
    if spec.auth_keys:
        env.append(m.EnvironmentVariable(name="ACI_WIDGETS_AUTH_KEYS", secure_value=",".join(spec.auth_keys)))
    container = m.Container(
        name=spec.name, image=spec.image["tag"], command=command, environment_variables=env,
        ports=[m.ContainerPort(port=PORT, protocol="TCP")],
        resources=m.ResourceRequirements(requests=m.ResourceRequests(cpu=spec.cpu_cores,
                                                                     memory_in_gb=spec.memory_gb)))
    registry_credentials = [m.ImageRegistryCredential(server=settings.registry, username=credentials[0],
                                                      password=credentials[1])] if credentials else None
    return m.ContainerGroup(
        location=location, tags={**tags, WORKSPACE_TAG: ws_name, SERVICE_TAG: spec.name}, os_type="Linux",
        restart_policy="Always", containers=[container], image_registry_credentials=registry_credentials,
        ip_address=m.IpAddress(type="Public", ports=[m.Port(port=PORT, protocol="TCP")],
                               dns_name_label=dns_name_label))


@dataclass
class GroupView:
    """What a GET of the group says: provisioning, the container's state, restarts and events."""

    provisioning: str
    group_state: str
    container_state: str
    detail_status: str
    exit_code: int | None
    restarts: int
    events: list[tuple[str, int, str]]        # (name, count, message)
    ip: str | None
    fqdn: str | None

    @classmethod
    def of(cls, group: Any) -> GroupView:
        container = (group.containers or [None])[0]
        view = getattr(container, "instance_view", None)
        current = getattr(view, "current_state", None)
        previous = getattr(view, "previous_state", None)
        exit_code = getattr(current, "exit_code", None)
        if exit_code is None:
            exit_code = getattr(previous, "exit_code", None)
        address = group.ip_address
        return cls(provisioning=group.provisioning_state or "",
                   group_state=getattr(group.instance_view, "state", None) or "",
                   container_state=getattr(current, "state", None) or "",
                   detail_status=getattr(current, "detail_status", None) or "",
                   exit_code=exit_code, restarts=getattr(view, "restart_count", None) or 0,
                   events=[(e.name or "", e.count or 1, e.message or "") for e in getattr(view, "events", None) or []],
                   ip=getattr(address, "ip", None), fqdn=getattr(address, "fqdn", None))

    @property
    def crashing(self) -> bool:
        """The container exited and restarts (CrashLoopBackOff), or it ended for good."""
        return (self.restarts > 0 and self.container_state != "Running") or self.container_state == "Terminated"

    def describe_crash(self) -> str:
        code = f"exit code {self.exit_code}, " if self.exit_code is not None else ""
        status = f"; {self.detail_status}" if self.detail_status else ""
        return f"its container keeps exiting ({code}restarted {self.restarts} time(s){status})"
