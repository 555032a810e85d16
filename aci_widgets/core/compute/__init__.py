"""``azureml.core.compute``: AKS names import; using them says in one line that the cluster target is not here yet.

Notebooks probe for a cluster with ``ComputeTarget(ws, name)`` inside ``try/except ComputeTargetException`` and then
provision one with ``AksCompute.provisioning_configuration``: both raise ComputeTargetException with the same line,
so the except branch ends there too instead of failing later with something less clear.
"""

from __future__ import annotations

from typing import Any, NoReturn

from ..errors import TargetUnavailable

NOT_YET = ("AKS compute is not available here yet: the cluster (Ray) target is still to come; deploy with "
           "LocalWebservice.deploy_configuration() or AciWebservice.deploy_configuration() meanwhile.")


class ComputeTargetException(TargetUnavailable):
    """As azureml's: raised by every use of a compute target here."""


def not_yet(*_: Any, **__: Any) -> NoReturn:
    raise ComputeTargetException(NOT_YET)


class ComputeTarget:
    """``ComputeTarget(workspace=ws, name=...)``: no compute target exists here yet."""

    def __init__(self, workspace: Any = None, name: str | None = None, **_: Any) -> None:
        not_yet()

    create = staticmethod(not_yet)
    attach = staticmethod(not_yet)
    list = staticmethod(not_yet)


class AksCompute(ComputeTarget):
    provisioning_configuration = staticmethod(not_yet)
    attach_configuration = staticmethod(not_yet)


__all__ = ["AksCompute", "ComputeTarget", "ComputeTargetException"]
