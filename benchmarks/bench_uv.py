"""uv against pip, side by side in one run: model file to Healthy on the process target with a new requirement set
(empty package cache, then warm), and the Docker target's cold image build and score.py-only rebuild.

pip is the same code's fallback (``ACI_WIDGETS_INSTALLER=pip``). "Empty cache": a fresh ACI_WIDGETS_HOME (uv's
cache lives there) and a fresh PIP_CACHE_DIR; "warm": a fresh ACI_WIDGETS_HOME (no environment, no lock, no
bytecode to reuse) but the package cache of the previous run. "Cold image build": the install layers are built
(a build argument unique to the run, PIP_DEFAULT_TIMEOUT, changes them as a new requirement set would; the base
image and the venv layer stay cached); a unique requirement line makes the set new, so it is resolved.
Rounds interleave the two: each round measures both (uv first in odd rounds, pip first in even ones), each in new
folders; every figure is the rounds' median with the [min-max] range, and pip / uv is the median of the rounds'
ratios. The load at each deploy goes to stderr (other work on these 2 cores): compare uv with pip, not runs.

    python benchmarks/bench_uv.py [--rounds 5] [--no-docker]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import (
    BENCH,
    load_average,
    median_range,
    prepare_model,
    run_header,
    save_results,
    say,
    stop_prewarmed,
    tree_state,
    write_deploy_files,
)


def deploy_seconds(home: Path, assets_model: Path, folder: Path) -> float:
    """``Webservice.deploy`` from the model file until Healthy, in ``home`` (new: its environment is built)."""
    os.environ["ACI_WIDGETS_HOME"] = str(home)
    os.environ["ACI_WIDGETS_TARGET"] = "process"
    from common import deploy_process

    from aci_widgets.core import Workspace

    score, env = write_deploy_files(folder, _score_py())
    ws = Workspace.create("bench-uv", exist_ok=True)
    started = time.perf_counter()
    service = deploy_process(ws, f"uv-{uuid.uuid4().hex[:6]}", assets_model, score, env)
    took = time.perf_counter() - started
    say(f"  {took:.2f}s (load {load_average()})")
    service.delete()
    stop_prewarmed(home)
    return took


def _score_py() -> str:
    """The tutorial's score.py; where aci_widgets.core.model cannot be imported in the service's environment
    (a dependency of the core missing there), the model's path from AZUREML_MODEL_DIR instead, same imports else."""
    from aci_widgets.demo.assets import SCORE_PY

    if os.environ.get("BENCH_UV_STOCK_SCORE") == "1":
        return SCORE_PY
    return SCORE_PY.replace("from aci_widgets.core.model import Model\n", "import glob\nimport os\n").replace(
        "Model.get_model_path('sklearn_mnist_model.pkl')",
        "glob.glob(os.path.join(os.environ['AZUREML_MODEL_DIR'], '**', '*.pkl'), recursive=True)[0]")


def docker_seconds(root: Path) -> tuple[float, float]:
    """Cold image build (new requirement set, a new base layer chain) and a score.py-only rebuild, in seconds."""
    from aci_widgets.core.operation import Operation
    from aci_widgets.core.target import ImageSpec
    from aci_widgets.targets.docker import DockerTarget
    from aci_widgets.targets.docker.client import docker_client

    target = DockerTarget()
    ws = type("Ws", (), {"name": "bench-uv", "root": root})()
    context = root / "ctx"
    context.mkdir(parents=True, exist_ok=True)
    (context / "score.py").write_text("def init():\n    pass\n\ndef run(raw):\n    return raw\n")
    (context / "azureml-models").mkdir(exist_ok=True)
    name = f"bench-uv-{uuid.uuid4().hex[:6]}"
    reqs = ["scikit-learn", "numpy", "joblib", f"# {name}"]
    times, tags = [], []
    timeout = os.environ.get("PIP_DEFAULT_TIMEOUT")
    os.environ["PIP_DEFAULT_TIMEOUT"] = str(100_000 + uuid.uuid4().int % 100_000)  # install layers not cached
    for version in (1, 2):
        if version == 2:
            (context / "score.py").write_text("def init():\n    pass\n\ndef run(raw):\n    return [raw]\n")
        spec = ImageSpec(name=name, version=version, context_dir=context, execution_script="score.py",
                         requirements=reqs)
        started = time.perf_counter()
        record = Operation("build", lambda report, spec=spec: target.build_image(ws, spec, report)).start().result()
        times.append(time.perf_counter() - started)
        tags.append(record["tag"])
        say(f"  v{version}: {times[-1]:.2f}s (load {load_average()})")
    if timeout is None:
        os.environ.pop("PIP_DEFAULT_TIMEOUT")
    else:
        os.environ["PIP_DEFAULT_TIMEOUT"] = timeout
    for tag in reversed(tags):
        docker_client().images.remove(tag, force=True)
    return times[0], times[1]


def one_installer(installer: str, root: Path, model: Path, docker: bool) -> dict[str, float]:
    """One round's figures for one installer, every folder (homes, caches, images) new under ``root``."""
    os.environ["ACI_WIDGETS_INSTALLER"] = installer
    os.environ["PIP_CACHE_DIR"] = str(root / f"pip-cache-{installer}")
    os.environ.pop("UV_CACHE_DIR", None)
    cold_home = root / f"{installer}-cold"
    figures: dict[str, float] = {}
    try:
        say(f"{installer}: process target, empty package cache")
        figures[COLD] = deploy_seconds(cold_home, model, root / f"{installer}-files")
        os.environ["UV_CACHE_DIR"] = str(cold_home / "cache" / "uv")  # the cold run's cache, now warm
        say(f"{installer}: process target, warm package cache")
        figures[WARM] = deploy_seconds(root / f"{installer}-warm", model, root / f"{installer}-files")
    finally:
        os.environ.pop("UV_CACHE_DIR", None)
    if docker:
        say(f"{installer}: Docker cold build and score.py-only rebuild")
        figures[BUILD], figures[REBUILD] = docker_seconds(root / f"docker-{installer}")
    return figures


COLD, WARM = "process: model file to Healthy, empty cache", "process: model file to Healthy, warm cache"
BUILD, REBUILD = "docker: cold image build", "docker: score.py-only rebuild"
INSTALLERS = ("uv", "pip")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of uv and pip, their order alternating")
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()
    assets = prepare_model()
    BENCH.mkdir(exist_ok=True)
    load_before = load_average()
    figures: dict[str, dict[str, list[float]]] = {i: {} for i in INSTALLERS}
    with tempfile.TemporaryDirectory(dir=BENCH, prefix="uv-") as tmp:
        for r in range(args.rounds):
            order = INSTALLERS if r % 2 == 0 else INSTALLERS[::-1]
            say(f"round {r + 1}/{args.rounds}: {' then '.join(order)}")
            round_root = Path(tmp) / f"round{r}"
            try:
                for installer in order:
                    for what, seconds in one_installer(installer, round_root, assets.pickle,
                                                       not args.no_docker).items():
                        figures[installer].setdefault(what, []).append(seconds)
            finally:
                for home in round_root.iterdir() if round_root.is_dir() else ():
                    stop_prewarmed(home)
                shutil.rmtree(round_root, ignore_errors=True)  # the round's envs and caches: gigabytes over 5 rounds
    print(run_header("uv against pip (bench_uv.py), interleaved: their order alternates by round", args.rounds,
                     load_before))
    print("\n| seconds | uv | pip | pip / uv (the rounds' ratios) |\n|---|---|---|---|")
    for what in figures["uv"]:
        uv, pip = figures["uv"][what], figures["pip"][what]
        ratios = [b / a for a, b in zip(uv, pip, strict=True)]
        print(f"| {what} | {median_range(uv)} | {median_range(pip)} | {median_range(ratios)}x |")
    save_results("uv", {"rounds": args.rounds, "commit": tree_state(), "load_before": load_before,
                        "load_after": load_average(), "figures": figures})


if __name__ == "__main__":
    sys.exit(main())
