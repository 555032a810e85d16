"""How much a running service uses now (CPU, memory), or for a target that cannot measure it, what it asked for."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Usage:
    """A service's CPU and memory.

    ``measured`` True: what its processes (or container) use now, ``cpu_cores`` being cores busy (0.5 = half a core,
    as ``top``'s 50 %). ``measured`` False: the size the deployment requested (``cpu_cores``, ``memory_gb`` of its
    deployment configuration), for a target that cannot see the service's processes (aci).
    """

    cpu_cores: float
    memory_bytes: int
    measured: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
