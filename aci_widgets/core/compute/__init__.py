"""``azureml.core.compute``: compute targets. A compute target of kind AKS is a Ray cluster, run by the target
registered as ``ray``: ``ComputeTarget.create(ws, name, AksCompute.provisioning_configuration())`` starts a local
one (stopped by ``delete()``), ``AksCompute.attach_configuration(address=...)`` names an existing one. The registry
keeps each (``compute_targets``), so ``ComputeTarget(ws, name)`` finds it again from any process.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..errors import TargetUnavailable, UserErrorException

if TYPE_CHECKING:
    from ..workspace import Workspace

KIND_TARGETS = {"AKS": "ray"}  # compute type -> the target that runs it


class ComputeTargetException(TargetUnavailable):
    """As azureml's: a compute target that does not exist, or could not be made."""


@dataclass
class AksProvisioningConfiguration:
    """azureml's AKS sizes do not apply to a local Ray head node: ``num_cpus`` (None: all) is what it offers."""

    num_cpus: int | None = None
    address: str | None = None


@dataclass
class AksAttachConfiguration(AksProvisioningConfiguration):
    """An existing Ray cluster: ``address`` is its dashboard (``http://host:8265``) or ``ray://host:10001``/``auto``;
    ``http_port`` its Serve proxy's port; ``token_path`` the file holding its auth token, when it has one."""

    http_port: int | None = None
    token_path: str | None = None


class ComputeTarget:
    """``ComputeTarget(workspace=ws, name=...)``: the compute target of that name, or ComputeTargetException."""

    def __init__(self, workspace: Workspace, name: str) -> None:
        row = workspace.registry.get("compute_targets", name=name)
        if row is None:
            raise ComputeTargetException(f"ComputeTargetNotFound: compute target {name!r} is not in workspace "
                                         f"{workspace.name!r}; create it with ComputeTarget.create(ws, {name!r}, "
                                         "AksCompute.provisioning_configuration()).")
        self.workspace, self.name, self._row = workspace, name, row

    @property
    def type(self) -> str:
        return self._row["kind"]

    @property
    def provisioning_state(self) -> str:
        return self._row["state"]

    @property
    def target_name(self) -> str:
        """The deployment target (``aci_widgets.targets``) that runs this compute target's services."""
        return KIND_TARGETS[self.type]

    @property
    def record(self) -> dict[str, Any]:
        return dict(self._row["record"] or {})

    @property
    def address(self) -> str:
        return self.record.get("address", "")

    @staticmethod
    def create(workspace: Workspace, name: str, provisioning_configuration: Any) -> ComputeTarget:
        """Start (or attach) the cluster now; ``wait_for_completion`` then reports how it went."""
        if not isinstance(provisioning_configuration, AksProvisioningConfiguration):
            raise UserErrorException("provisioning_configuration must come from AksCompute.provisioning_configuration"
                                     "(...) or AksCompute.attach_configuration(...).")
        if workspace.registry.get("compute_targets", name=name) is not None:
            raise ComputeTargetException(f"Compute target {name!r} already exists; use ComputeTarget(ws, {name!r}) "
                                         "or delete() it first.")
        from ..operation import Operation
        from ..target import target_class

        target = target_class(KIND_TARGETS["AKS"])()
        reason = target.unavailable_reason()
        if reason:
            raise ComputeTargetException(f"Compute target {name!r} cannot be created: {reason}.")
        now = time.time()
        workspace.registry.upsert("compute_targets", {"name": name, "kind": "AKS", "state": "Creating",
                                                      "record": None, "error": None, "created": now})

        def work(report: Any) -> None:
            try:
                record = target.create_compute(workspace, name, asdict(provisioning_configuration), report)
            except BaseException as exc:
                workspace.registry.update("compute_targets", {"name": name}, state="Failed", error=str(exc))
                raise
            workspace.registry.update("compute_targets", {"name": name}, state="Succeeded", record=record)

        compute = ComputeTarget.__new__(AksCompute)
        compute.workspace, compute.name = workspace, name
        compute._operation = Operation(f"compute {name}", work, final_state=lambda _: "Succeeded").start()
        compute._row = workspace.registry.get("compute_targets", name=name)
        return compute

    attach = create

    def wait_for_completion(self, show_output: bool = False, timeout_sec: float | None = None) -> None:
        operation = getattr(self, "_operation", None)
        if operation is not None:
            if show_output:
                from ..events import present

                present(operation)
            operation.wait(timeout_sec)
            self._row = self.workspace.registry.get("compute_targets", name=self.name) or self._row
            if self._row["state"] == "Failed":
                raise ComputeTargetException(f"Compute target {self.name!r} failed: {self._row['error']}")
            if show_output:
                print(f"{self._row['state']}: Ray cluster {self.address}")

    def get_status(self) -> str:
        from ..target import target_class

        if self._row["state"] != "Succeeded":
            return self._row["state"]
        return target_class(self.target_name)().compute_status(self.record)

    def delete(self) -> None:
        """Stop the cluster this workspace started (an attached one is only forgotten). Its services go with it."""
        from ..target import target_class

        target_class(self.target_name)().delete_compute(self.record)
        self.workspace.registry.delete("compute_targets", name=self.name)

    detach = delete

    @staticmethod
    def list(workspace: Workspace) -> list[ComputeTarget]:
        return [AksCompute(workspace, row["name"]) for row in workspace.registry.select("compute_targets")]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workspace={self.workspace.name!r}, name={self.name!r}, address={self.address!r})"


class AksCompute(ComputeTarget):
    @staticmethod
    def provisioning_configuration(agent_count: int | None = None, vm_size: str | None = None, *,
                                   num_cpus: int | None = None, **_azure: Any) -> AksProvisioningConfiguration:
        """azureml's sizes (agent_count, vm_size, location, ...) describe Azure VMs: a local Ray head node takes
        ``num_cpus`` instead; more machines join with ``ray start --address`` (see docs/ray.md). Each Azure
        setting given is named in a warning saying so (azureml notebooks pass them: they do not fail here)."""
        import warnings

        azure = {"agent_count": agent_count, "vm_size": vm_size, **_azure}
        for name, value in azure.items():
            if value is not None:
                warnings.warn(f"AksCompute.provisioning_configuration: {name}={value!r} sizes Azure VMs and does "
                              "nothing on a local Ray cluster: it takes num_cpus= for the head node, and more "
                              "machines join with `ray start --address=<head>` (docs/ray.md).", UserWarning,
                              stacklevel=2)
        return AksProvisioningConfiguration(num_cpus=num_cpus)

    @staticmethod
    def attach_configuration(resource_group: str | None = None, cluster_name: str | None = None, *,
                             address: str | None = None, http_port: int | None = None,
                             token_path: str | None = None, **_: Any) -> AksAttachConfiguration:
        if not address:
            raise UserErrorException("attach_configuration needs address= the Ray cluster's dashboard "
                                     "(http://host:8265), ray://host:10001 or 'auto'; an AKS resource group and "
                                     "cluster name do not locate a Ray cluster.")
        return AksAttachConfiguration(address=address, http_port=http_port, token_path=token_path)


def resolve_target(workspace: Workspace, deployment_target: Any, config: Any) -> tuple[str | None, dict[str, Any]]:
    """``deployment_target`` as the core's ``_deploy`` takes it: a target name, plus the target's options (the
    compute target's record and the deployment configuration's own) for a ComputeTarget or an AKS configuration."""
    compute = deployment_target if isinstance(deployment_target, ComputeTarget) else None
    if deployment_target is not None and compute is None and not isinstance(deployment_target, str):
        raise UserErrorException("deployment_target must be ComputeTarget(ws, name) or a target name: 'auto', "
                                 "'process', 'docker', 'aci', 'ray'.")
    name = getattr(config, "compute_target_name", None)
    if compute is None and name and getattr(config, "compute_type", "") == "AKS":
        compute = ComputeTarget(workspace, name)
    if compute is None:
        if getattr(config, "compute_type", "") == "AKS":
            raise UserErrorException("An AksWebservice deployment needs deployment_target=ComputeTarget(ws, name) "
                                     "(a Ray cluster: ComputeTarget.create(ws, name, "
                                     "AksCompute.provisioning_configuration())).")
        return deployment_target, {}
    if compute.provisioning_state != "Succeeded":
        raise ComputeTargetException(f"Compute target {compute.name!r} is {compute.provisioning_state}; call "
                                     "wait_for_completion(show_output=True) on it first.")
    options = {"compute": compute.record, "compute_name": compute.name}
    if hasattr(config, "target_options"):
        config.compute_target_name = compute.name
        options["deployment"] = config.target_options()
    return compute.target_name, options


__all__ = ["AksCompute", "ComputeTarget", "ComputeTargetException", "resolve_target"]
