"""What Resource Manager and ACI check synchronously on a PUT, before any operation starts (ARM error bodies).

The REST specification (Microsoft.ContainerInstance 2023-05-01) gives the required fields and the CloudError shape,
but no name pattern and no error codes. The rules and messages below come from Azure's public documentation and from
ARM's answers quoted in public issue threads; where a code was never seen quoted, it is marked as ours:

- container-group name: 1 to 63 lowercase letters, digits and '-', not starting or ending with '-', no '--'
  (learn.microsoft.com "Naming rules and restrictions for Azure resources", Microsoft.ContainerInstance; the ACI
  troubleshooting page's naming table). The code ``InvalidContainerGroupName`` is ours: no quoted answer was found.
- DNS name label: the message is ARM's as quoted in derekbekoe/vscode-spot#37 and #38 (5 to 63 characters, lowercase
  letters, digits and '-', a letter first, a letter or digit last). The code ``InvalidDnsNameLabel`` is ours.
- a size beyond the region's largest group: 409 ``ServiceUnavailable`` "The requested resource is not available in
  the location ... Resource requested: '4' CPU '16' GB memory 'Linux' OS" (virtual-kubelet/virtual-kubelet#592,
  MicrosoftDocs/azure-docs#24776, the ACI troubleshooting page); ACI sums the containers of a group.
"""

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
                       f"The container group name '{name}' is invalid. A container group name must be 1 to 63 "
                       "characters long, contain only lowercase letters, numbers and hyphens, start and end with a "
                       "letter or number and not contain consecutive hyphens.")
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
    sizes = [_check_container(container) for container in containers]
    cpu, memory = sum(s[0] for s in sizes), sum(s[1] for s in sizes)
    if cpu > max_cpu or memory > max_memory_gb:
        raise ArmError(409, "ServiceUnavailable",
                       f"The requested resource is not available in the location '{body['location']}' at this "
                       "moment. Please retry with a different resource request or in another location. Resource "
                       f"requested: '{cpu:g}' CPU '{memory:g}' GB memory '{props['osType']}' OS")
    ip = props.get("ipAddress")
    if ip:
        if not ip.get("ports") or ip.get("type") not in ("Public", "Private"):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'ipAddress.ports' and "
                                                         "'ipAddress.type' are required.")
        label = ip.get("dnsNameLabel")
        if label is not None and not (isinstance(label, str) and _DNS_LABEL.fullmatch(label)):
            raise ArmError(400, "InvalidDnsNameLabel",
                           f"The DNS name label '{label}' in container group '{name}' is invalid. It can contain "
                           "only lowercase letters, numbers and hyphens. The first character must be a letter. The "
                           "last character must be a letter or number. The value must be between 5 and 63 "
                           "characters long.")


def _check_container(container: Any) -> tuple[float, float]:
    """The container's (cpu, memoryInGB) once its required fields and its name are valid."""
    props = container.get("properties") if isinstance(container, dict) else None
    cname = container.get("name") if isinstance(container, dict) else None
    if not cname or not isinstance(props, dict) or not props.get("image"):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: each container needs "
                                                     "'name' and 'properties.image'.")
    if not _NAME.fullmatch(cname):
        raise ArmError(400, "InvalidContainerName", f"The container name '{cname}' is invalid.")
    requests = ((props.get("resources") or {}).get("requests")) or {}
    cpu, memory = requests.get("cpu"), requests.get("memoryInGB")
    if not isinstance(cpu, (int, float)) or not isinstance(memory, (int, float)) or cpu <= 0 or memory <= 0:
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'resources.requests.cpu' "
                                                     "and 'resources.requests.memoryInGB' are required and above 0.")
    return float(cpu), float(memory)
