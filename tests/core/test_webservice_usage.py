"""``Webservice.usage()``: what a running service uses, measured by its target, or the size it requested where the
target cannot measure it (the aci target: its containers run in Azure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aci_widgets.core import AciWebservice, ContainerImage, Webservice, Workspace
from aci_widgets.core.usage import Usage
from aci_widgets.targets.process import ProcessTarget


def _deploy(ws: Workspace, cpu_cores: float, memory_gb: float) -> Webservice:
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python", conda_file="myenv.yml")
    service = Webservice.deploy(ws, "sized", ["weights.npy"], config,
                                AciWebservice.deploy_configuration(cpu_cores=cpu_cores, memory_gb=memory_gb))
    service.wait_for_deployment()
    return service


def test_measured_on_the_process_target_else_the_requested_size(ws: Workspace, numpy_model: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    service = _deploy(ws, cpu_cores=0.5, memory_gb=1.5)
    measured = service.usage()
    assert measured is not None and measured.measured and measured.memory_bytes > 10 * 2**20

    # A target that cannot see the service's processes answers None: the deployment's requested size, so labelled.
    monkeypatch.setattr(ProcessTarget, "usage", lambda self, ws, handle: None)
    assert service.usage() == Usage(cpu_cores=0.5, memory_bytes=int(1.5 * 2**30), measured=False)

    service.delete()
    assert Webservice.list(ws) == []
