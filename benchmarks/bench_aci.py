"""Model file to Healthy on the aci target, against the local stand-in of Resource Manager and a private registry
(``aci_widgets.testing.AciStandIn``), with the time spent in each step; printed beside the seed article's 6 to 8
minutes for option 1 on real Azure.

- cold: a new registry (the base image and the environment are pushed), a new workspace, a new service;
- warm: the same workspace and registry, only score.py changed, ``Webservice.deploy(..., overwrite=True)``: the
  build reuses every layer but the script's, and the push sends that one small layer.

The stand-in runs the container group on this machine's Docker engine, so "create group" and "health" measure the
local engine, not Azure's (ACI's own pull and start take tens of seconds to minutes). Everything happens in a
temporary ACI_WIDGETS_HOME; the stand-in, registry, services and images are removed at the end.

    python benchmarks/bench_aci.py
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from common import load_average, machine_line, save_results, say

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aci_widgets.core import events  # noqa: E402
from aci_widgets.core.image import ContainerImage, Image  # noqa: E402
from aci_widgets.core.webservice import AciWebservice, Webservice  # noqa: E402
from aci_widgets.core.workspace import Workspace  # noqa: E402
from aci_widgets.testing import AciStandIn  # noqa: E402

SEED_MINUTES = (6, 8)  # the seed article: option 1 "takes about 6-8 minutes" on Azure
SCORE = '''\
import json
import os

import numpy as np

VARIANT = "{variant}"


def init():
    global W
    W = np.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "w.npy"))


def run(raw_data):
    return (np.array(json.loads(raw_data)["data"], dtype=float) @ W).tolist()
'''
ENV = "name: bench\ndependencies:\n  - python=3.11\n  - numpy\n"


def deploy(ws: Workspace, folder: Path, variant: str, overwrite: bool) -> tuple[float, dict[str, float]]:
    (folder / "score.py").write_text(SCORE.format(variant=variant))
    config = ContainerImage.image_configuration(execution_script=str(folder / "score.py"), runtime="python",
                                                conda_file=str(folder / "myenv.yml"))
    started = time.perf_counter()
    service = Webservice.deploy(ws, "bench-aci", [str(folder / "w.npy")], config,
                                AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=1), overwrite=overwrite)
    service.wait_for_deployment()
    total = time.perf_counter() - started
    assert service.state == "Healthy", service.error
    assert service.run(json.dumps({"data": [[1, 1, 1]]})) == [6.0]
    steps: dict[str, float] = {}
    for event in service.operation.events:
        if isinstance(event, events.StepFinished):
            steps[event.step] = steps.get(event.step, 0.0) + event.seconds
    return total, steps


def main() -> int:
    reason = AciStandIn.missing()
    if reason:
        print(f"bench_aci: cannot run: {reason}", file=sys.stderr)
        return 2
    home = Path(tempfile.mkdtemp(prefix="bench-aci-"))
    os.environ["ACI_WIDGETS_HOME"] = str(home / "home")
    folder = home / "model"
    folder.mkdir()
    np.save(folder / "w.npy", np.array([1.0, 2.0, 3.0]))
    (folder / "myenv.yml").write_text(ENV)
    results: dict[str, object] = {}
    with AciStandIn(home / "standin") as standin:
        ws = Workspace.create(f"bench-{uuid.uuid4().hex[:6]}", subscription_id=standin.subscription,
                              resource_group=standin.resource_group, location=standin.location, target="aci")
        try:
            say("cold: build, push the base and the environment, create the group ...")
            results["cold"] = deploy(ws, folder, "cold", overwrite=False)
            say("warm: score.py changed, same name ...")
            results["warm"] = deploy(ws, folder, "warm", overwrite=True)
        finally:
            for service in Webservice.list(ws):
                service.delete()
            for image in Image.list(ws):
                image.delete()
    shutil.rmtree(home, ignore_errors=True)

    print(f"aci target on the local stand-in; {machine_line()}; load {load_average()}")
    print(f"seed article, option 1 on Azure: {SEED_MINUTES[0]} to {SEED_MINUTES[1]} minutes")
    names = sorted({step for _, steps in results.values() for step in steps})
    print(f"{'':<6} {'total':>8}  " + "  ".join(f"{n:>14}" for n in names))
    for label, (total, steps) in results.items():
        print(f"{label:<6} {total:>7.1f}s  " + "  ".join(f"{steps.get(n, 0.0):>13.1f}s" for n in names))
    save_results("aci", {"seed_minutes": SEED_MINUTES,
                         **{k: {"total": v[0], "steps": v[1]} for k, v in results.items()}})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
