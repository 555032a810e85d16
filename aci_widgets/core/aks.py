"""``azureml.core.webservice.AksWebservice``: the name imports; using it says the cluster target is not here yet."""

from __future__ import annotations

from typing import Any

from .compute import NOT_YET, not_yet

AKS_NOT_YET = NOT_YET.replace("AKS compute", "AKS web services")


class AksWebservice:
    """Every use (``deploy_configuration``, ``AksWebservice(ws, name)``) raises ComputeTargetException."""

    def __init__(self, *_: Any, **__: Any) -> None:
        _raise()

    @staticmethod
    def deploy_configuration(*_: Any, **__: Any) -> Any:
        _raise()


def _raise() -> None:
    from .compute import ComputeTargetException

    raise ComputeTargetException(AKS_NOT_YET)


__all__ = ["AksWebservice", "not_yet"]
