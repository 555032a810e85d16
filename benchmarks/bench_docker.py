"""Docker target figures: cold build, score.py-only rebuild, deploy to Healthy, and /score throughput of the
container against the same runtime started directly as a process. Prints figures; asserts nothing.

    python benchmarks/bench_docker.py [--seconds 10] [--connections 8]

Throughput uses ``wrk`` when it is installed (``apt-get install -y wrk``), else a keep-alive Python client
(one connection per thread, http.client); the output says which. The request is one 784-float sample, the
MNIST-shaped body of the Azure ML score.py contract, against a numpy 784x10 linear model.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from common import keepalive_rps

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aci_widgets.core.events import StepFinished  # noqa: E402
from aci_widgets.core.operation import Operation  # noqa: E402
from aci_widgets.core.target import ImageSpec, ServiceSpec  # noqa: E402
from aci_widgets.targets.docker import DockerTarget, cleanup  # noqa: E402

SCORE = '''\
import json
import os

import numpy as np

VARIANT = "{variant}"


def init():
    global W
    W = np.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "w.npy"))  # one model: its own folder


def run(raw_data):
    x = np.array(json.loads(raw_data)["data"], dtype=float)
    return (x @ W).argmax(axis=1).tolist()
'''
BODY = json.dumps({"data": [np.random.default_rng(0).random(784).round(4).tolist()]})


def run_op(work: Any) -> tuple[Any, float, Operation]:
    op = Operation("bench", work)
    started = time.perf_counter()
    op.start()
    result = op.result()
    return result, time.perf_counter() - started, op


def make_context(folder: Path, variant: str) -> Path:
    (folder / "azureml-models" / "linear" / "1").mkdir(parents=True, exist_ok=True)
    np.save(folder / "azureml-models" / "linear" / "1" / "w.npy", np.random.default_rng(1).random((784, 10)))
    (folder / "score.py").write_text(SCORE.format(variant=variant))
    return folder


def wrk_rps(url: str, seconds: int, connections: int) -> float:
    script = Path(tempfile.mkdtemp()) / "post.lua"
    script.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(BODY)}\n'
                      'wrk.headers["Content-Type"] = "application/json"\n')
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    shutil.rmtree(script.parent)
    line = next(line for line in out.splitlines() if line.startswith("Requests/sec:"))
    return float(line.split()[1])


def python_rps(url: str, seconds: int, connections: int) -> float:
    port = int(url.removeprefix("http://").partition(":")[2].split("/")[0])
    return keepalive_rps(port, BODY, seconds, connections)


def start_direct(context: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    ready = workdir / "ready.json"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "aci_widgets.runtime", "--score", str(context / "score.py"),
                             "--model-dir", str(context / "azureml-models"), "--port", "0",
                             "--ready-file", str(ready)], env=env, stderr=subprocess.DEVNULL)
    while not ready.exists():
        if proc.poll() is not None:
            raise SystemExit("the directly started runtime did not start")
        time.sleep(0.02)
    return proc, json.loads(ready.read_text())["port"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    reason = DockerTarget.unavailable_reason()
    if reason:
        raise SystemExit(reason)
    target = DockerTarget()
    tmp = Path(tempfile.mkdtemp(prefix="bench-docker-"))
    ws = types.SimpleNamespace(name=f"bench{uuid.uuid4().hex[:8]}", root=tmp / "ws")
    marker = uuid.uuid4().hex[:8]
    proc = None
    try:
        context = make_context(tmp / "ctx1", "v1")
        # A requirement comment unique to this run makes the requirements and pip layers new: a cold pip install.
        spec = ImageSpec(name=f"{ws.name}-img", version=1, context_dir=context, execution_script="score.py",
                         requirements=["numpy", f"# bench run {marker}"])
        image, cold, op = run_op(lambda r: target.build_image(ws, spec, r))
        lines = [e.line for e in op.events if getattr(e, "source", "") == "build"]
        venv_cached = any("RUN python3 -m venv" in a and b.strip() == "---> Using cache"
                          for a, b in zip(lines, lines[1:], strict=False))
        print(f"cold build (numpy; pip layer new, venv layer {'cached' if venv_cached else 'new'}): "
              f"{cold:6.2f} s   image {image['size'] / 1e6:.0f} MB")

        context2 = make_context(tmp / "ctx2", "v2")
        spec2 = ImageSpec(name=spec.name, version=2, context_dir=context2, execution_script="score.py",
                          requirements=spec.requirements)
        image2, rebuild, _ = run_op(lambda r: target.build_image(ws, spec2, r))
        print(f"rebuild after a score.py-only change:           {rebuild:6.2f} s")

        handle, deploy, op = run_op(lambda r: target.start_service(ws, ServiceSpec(name="bench", image=image2), r))
        steps = {e.step: e.seconds for e in op.events if isinstance(e, StepFinished)}
        print(f"start_service to Healthy:                       {deploy:6.2f} s   "
              + "  ".join(f"{k} {v:.2f} s" for k, v in steps.items()))

        proc, direct_port = start_direct(context2, tmp)
        tool, measure = ("wrk", wrk_rps) if shutil.which("wrk") else ("python keep-alive client", python_rps)
        print(f"throughput, 1-sample POST /score, {tool}, {args.connections} connections, {args.seconds} s each "
              "(interleaved, two rounds):")
        container_url, direct_url = handle["scoring_uri"], f"http://127.0.0.1:{direct_port}/score"
        results: dict[str, list[float]] = {"container (1 CPU, via docker-proxy)": [], "direct process": []}
        for _ in range(2):
            results["container (1 CPU, via docker-proxy)"].append(
                measure(container_url, args.seconds, args.connections))
            results["direct process"].append(measure(direct_url, args.seconds, args.connections))
        for name, values in results.items():
            print(f"  {name:38s} {max(values):8.0f} req/s  (rounds: {', '.join(f'{v:.0f}' for v in values)})")
        ratio = max(results["container (1 CPU, via docker-proxy)"]) / max(results["direct process"])
        print(f"  container / direct: {ratio:.2f}x")
        target.stop_service(ws, handle)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        cleanup(f"aci_widgets.workspace={ws.name}")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
