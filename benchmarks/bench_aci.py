"""Model file to Healthy on the aci target, against the local stand-in of Resource Manager and a private registry
(``aci_widgets.testing.AciStandIn``), with the time spent in each step; printed beside the seed article's 6 to 8
minutes for option 1 on real Azure.

- cold: a new registry (the base image and the environment are pushed), a new workspace, a new service;
- warm: the same workspace and registry, only score.py changed, ``Webservice.deploy(..., overwrite=True)``: the
  build reuses every layer but the script's, and the push sends that one small layer.

The stand-in runs the container group on this machine's Docker engine, so "create group" and "health" measure the
local engine, not Azure's (ACI's own pull and start take tens of seconds to minutes). Everything happens in a
temporary ACI_WIDGETS_HOME; the stand-in, registry, services and images are removed at the end of each round.

Each round is a cold and a warm deploy, in a home, stand-in and registry of its own; every figure is the rounds'
median with the [min-max] range (a step's figure is its own median, so the steps need not add up to the total).

    python benchmarks/bench_aci.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from common import load_average, median_range, run_header, save_results, say, tree_state

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
    with contextlib.redirect_stdout(sys.stderr):  # the deploy's progress, not figures
        service.wait_for_deployment()
    total = time.perf_counter() - started
    assert service.state == "Healthy", service.error
    assert service.run(json.dumps({"data": [[1, 1, 1]]})) == [6.0]
    steps: dict[str, float] = {}
    for event in service.operation.events:
        if isinstance(event, events.StepFinished):
            steps[event.step] = steps.get(event.step, 0.0) + event.seconds
    return total, steps


def one_round() -> dict[str, tuple[float, dict[str, float]]]:
    """A cold then a warm deploy in a new home, with a new stand-in and registry; everything removed after."""
    home = Path(tempfile.mkdtemp(prefix="bench-aci-"))
    os.environ["ACI_WIDGETS_HOME"] = str(home / "home")
    folder = home / "model"
    folder.mkdir()
    np.save(folder / "w.npy", np.array([1.0, 2.0, 3.0]))
    (folder / "myenv.yml").write_text(ENV)
    results: dict[str, tuple[float, dict[str, float]]] = {}
    try:
        with AciStandIn(home / "standin") as standin:
            ws = Workspace.create(f"bench-{uuid.uuid4().hex[:6]}", subscription_id=standin.subscription,
                                  resource_group=standin.resource_group, location=standin.location, target="aci")
            try:
                say("  cold: build, push the base and the environment, create the group ...")
                results["cold"] = deploy(ws, folder, "cold", overwrite=False)
                say("  warm: score.py changed, same name ...")
                results["warm"] = deploy(ws, folder, "warm", overwrite=True)
            finally:
                for service in Webservice.list(ws):
                    service.delete()
                for image in Image.list(ws):
                    image.delete()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="a cold and a warm deploy each")
    args = parser.parse_args()
    reason = AciStandIn.missing()
    if reason:
        print(f"bench_aci: cannot run: {reason}", file=sys.stderr)
        return 2
    load_before = load_average()
    totals: dict[str, list[float]] = {"cold": [], "warm": []}
    steps: dict[str, dict[str, list[float]]] = {"cold": {}, "warm": {}}
    for r in range(args.rounds):
        say(f"round {r + 1}/{args.rounds} (load {load_average()})")
        for label, (total, by_step) in one_round().items():
            totals[label].append(total)
            for step, seconds in by_step.items():
                steps[label].setdefault(step, []).append(seconds)
            say(f"  {label}: {total:.1f} s")
    print(run_header("aci target on the local stand-in (bench_aci.py)", args.rounds, load_before))
    print(f"seed article, option 1 on Azure: {SEED_MINUTES[0]} to {SEED_MINUTES[1]} minutes")
    print("\n| deploy | model file to Healthy, s | " + " | ".join(f"{n}, s" for n in steps["cold"]) + " |")
    print("|---|---|" + "---|" * len(steps["cold"]))
    for label, total in totals.items():
        print(f"| {label} | {median_range(total, 1)} | "
              + " | ".join(median_range(steps[label].get(n, [0.0] * len(total)), 1) for n in steps["cold"]) + " |")
    save_results("aci", {"seed_minutes": SEED_MINUTES, "rounds": args.rounds, "commit": tree_state(),
                         "load_before": load_before, "load_after": load_average(),
                         **{k: {"total": totals[k], "steps": steps[k]} for k in totals}})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
