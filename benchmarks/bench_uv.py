"""uv against pip, side by side in one run: model file to Healthy on the process target with a new requirement set
(empty package cache, then warm), and the Docker target's cold image build and score.py-only rebuild.

pip is the same code's fallback (``ACI_WIDGETS_INSTALLER=pip``). "Empty cache": a fresh ACI_WIDGETS_HOME (uv's
cache lives there) and a fresh PIP_CACHE_DIR; "warm": a fresh ACI_WIDGETS_HOME (no environment, no lock, no
bytecode to reuse) but the package cache of the previous run. "Cold image build": the install layers are built
(a build argument unique to the run, PIP_DEFAULT_TIMEOUT, changes them as a new requirement set would; the base
image and the venv layer stay cached); a unique requirement line makes the set new, so it is resolved.
Machine load (other work on these 2 cores) is printed with each figure: compare uv with pip, not runs.

    python benchmarks/bench_uv.py [--no-docker]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import BENCH, load_average, machine_line, prepare_model, say, stop_prewarmed, write_deploy_files


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()
    assets = prepare_model()
    BENCH.mkdir(exist_ok=True)
    rows: list[tuple[str, str, float]] = []
    with tempfile.TemporaryDirectory(dir=BENCH, prefix="uv-") as tmp:
        root = Path(tmp)
        for installer in ("uv", "pip"):
            os.environ["ACI_WIDGETS_INSTALLER"] = installer
            os.environ["PIP_CACHE_DIR"] = str(root / f"pip-cache-{installer}")
            os.environ.pop("UV_CACHE_DIR", None)
            cold_home = root / f"{installer}-cold"
            say(f"{installer}: process target, empty package cache")
            cold = deploy_seconds(cold_home, assets.pickle, root / f"{installer}-files")
            os.environ["UV_CACHE_DIR"] = str(cold_home / "cache" / "uv")  # the cold run's cache, now warm
            say(f"{installer}: process target, warm package cache")
            warm = deploy_seconds(root / f"{installer}-warm", assets.pickle, root / f"{installer}-files")
            os.environ.pop("UV_CACHE_DIR", None)
            rows += [(installer, "process: model file to Healthy, empty cache", cold),
                     (installer, "process: model file to Healthy, warm cache", warm)]
            if not args.no_docker:
                say(f"{installer}: Docker cold build and score.py-only rebuild")
                build, rebuild = docker_seconds(root / f"docker-{installer}")
                rows += [(installer, "docker: cold image build", build),
                         (installer, "docker: score.py-only rebuild", rebuild)]
        for home in root.iterdir():
            stop_prewarmed(home)
    print(f"# bench_uv: {machine_line()}; 1-min load at the end {load_average()}")
    by = {(i, what): s for i, what, s in rows}
    print(f"{'':48} {'uv':>8} {'pip':>8}")
    for what in dict.fromkeys(w for _, w, _ in rows):
        print(f"{what:48} {by.get(('uv', what), float('nan')):7.2f}s {by.get(('pip', what), float('nan')):7.2f}s")


if __name__ == "__main__":
    sys.exit(main())
