"""``ResourceConfiguration``, as ``azureml.core.resource_configuration``: what a model needs to run (kept with it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class ResourceConfiguration:
    cpu: float | None = None
    memory_in_gb: float | None = None
    gpu: int | None = None

    def serialize(self) -> dict[str, Any]:
        return {"cpu": self.cpu, "memoryInGB": self.memory_in_gb, "gpu": self.gpu}

    @staticmethod
    def deserialize(payload: dict[str, Any]) -> ResourceConfiguration:
        return ResourceConfiguration(payload.get("cpu"), payload.get("memoryInGB"), payload.get("gpu"))

    def _to_dict(self) -> dict[str, Any]:
        return asdict(self)
