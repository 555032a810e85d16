"""What Resource Manager and ACI check synchronously on a PUT, before any operation starts (400s with ARM codes)."""

from __future__ import annotations

import re
from typing import Any

from .errors import ArmError

_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_DNS_LABEL = re.compile(r"[a-z][a-z0-9-]{3,61}[a-z0-9]")
MAX_CPU, MAX_MEMORY_GB = 4.0, 16.0


def check_group(name: str, body: Any, max_cpu: float = MAX_CPU, max_memory_gb: float = MAX_MEMORY_GB) -> None:
    """Raise ArmError for a body the spec (required fields) or ACI (names, sizes, DNS label rule) refuses; the
    largest size differs by region, hence ``max_cpu`` and ``max_memory_gb``."""
    if not _NAME.fullmatch(name) or "--" in name:
        raise ArmError(400, "InvalidContainerGroupName",
                       f"The container group name '{name}' is invalid. The container group name must contain no "
                       "more than 63 characters and must match the regex '[a-z0-9]([-a-z0-9]*[a-z0-9])?' (e.g. "
                       "'my-name').")
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'properties' is required.")
    if not body.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    props = body["properties"]
    containers = props.get("containers")
    if not isinstance(containers, list) or not containers:
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'containers' is required.")
    if props.get("osType") not in ("Linux", "Windows"):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'osType' is required "
                                                     "(Linux or Windows).")
    for container in containers:
        _check_container(container, body["location"], max_cpu, max_memory_gb)
    ip = props.get("ipAddress")
    if ip:
        if not ip.get("ports") or ip.get("type") not in ("Public", "Private"):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'ipAddress.ports' and "
                                                         "'ipAddress.type' are required.")
        label = ip.get("dnsNameLabel")
        if label and not _DNS_LABEL.fullmatch(label):
            raise ArmError(400, "InvalidDnsNameLabel",
                           f"The DNS name label '{label}' in container group '{name}' is invalid. It can contain "
                           "only lowercase letters, numbers and hyphens. The first character must be a letter. The "
                           "last character must be a letter or number. The value must be between 5 and 63 "
                           "characters long.")


def _check_container(container: Any, location: str, max_cpu: float, max_memory_gb: float) -> None:
    props = container.get("properties") if isinstance(container, dict) else None
    cname = container.get("name") if isinstance(container, dict) else None
    if not cname or not isinstance(props, dict) or not props.get("image"):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: each container needs "
                                                     "'name' and 'properties.image'.")
    if not _NAME.fullmatch(cname):
        raise ArmError(400, "InvalidContainerName", f"The container name '{cname}' is invalid.")
    requests = ((props.get("resources") or {}).get("requests")) or {}
    cpu, memory = requests.get("cpu"), requests.get("memoryInGB")
    if not isinstance(cpu, (int, float)) or not isinstance(memory, (int, float)):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'resources.requests.cpu' "
                                                     "and 'resources.requests.memoryInGB' are required.")
    if not (0 < cpu <= max_cpu and 0 < memory <= max_memory_gb):
        raise ArmError(400, "ResourceRequestsNotSupported",
                       f"The requested resource with 'CPU: {cpu:g}, memoryInGB: {memory:g}' is not supported in "
                       f"location '{location}' for OS type 'Linux'. The maximum is 'CPU: {max_cpu:g}, memoryInGB: "
                       f"{max_memory_gb:g}'.")
