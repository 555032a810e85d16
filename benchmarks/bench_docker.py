"""Docker target figures: cold build, score.py-only rebuild, deploy to Healthy, and /score throughput of the
container against the same runtime started directly as a process. Prints figures; asserts nothing.

    python benchmarks/bench_docker.py [--rounds 5] [--seconds 10] [--connections 8]

Each round builds cold (a new requirement set), rebuilds after a score.py-only change, starts the container, then
measures the container and the directly started process back to back (their order alternating by round); every
figure is the rounds' median with the [min-max] range.

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
from common import keepalive_rps, load_average, median_range, run_header, save_results, say, tree_state

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


CONTAINER, DIRECT = "container (1 CPU, via docker-proxy)", "direct process"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="cold build, rebuild, deploy and both throughputs each")
    parser.add_argument("--seconds", type=int, default=10, help="per throughput run")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    reason = DockerTarget.unavailable_reason()
    if reason:
        raise SystemExit(reason)
    load_before = load_average()
    target = DockerTarget()
    tmp = Path(tempfile.mkdtemp(prefix="bench-docker-"))
    os.environ["ACI_WIDGETS_HOME"] = str(tmp / "home")  # locks and caches here, not in the user's ~/.aci_widgets
    ws = types.SimpleNamespace(name=f"bench{uuid.uuid4().hex[:8]}", root=tmp / "ws")
    tool, measure = ("wrk", wrk_rps) if shutil.which("wrk") else ("python keep-alive client", python_rps)
    fig: dict[str, list[float]] = {k: [] for k in ("cold", "rebuild", "deploy", "size_mb", CONTAINER, DIRECT,
                                                   "ratio")}
    steps: dict[str, list[float]] = {}
    venv_cached: list[bool] = []
    proc = None
    try:
        proc, direct_port = start_direct(make_context(tmp / "direct", "direct"), tmp)
        direct_url = f"http://127.0.0.1:{direct_port}/score"
        for r in range(args.rounds):
            say(f"round {r + 1}/{args.rounds} (load {load_average()})")
            marker = uuid.uuid4().hex[:8]
            # A requirement comment unique to the round makes the requirements and pip layers new: a cold install.
            context = make_context(tmp / f"r{r}-1", f"1{marker}")
            spec = ImageSpec(name=f"{ws.name}-img{r}", version=1, context_dir=context, execution_script="score.py",
                             requirements=["numpy", f"# bench run {marker}"])
            image, cold, op = run_op(lambda rep, spec=spec: target.build_image(ws, spec, rep))
            lines = [e.line for e in op.events if getattr(e, "source", "") == "build"]
            venv_cached.append(any("RUN " in a and " venv " in a and b.strip() == "---> Using cache"
                                   for a, b in zip(lines, lines[1:], strict=False)))
            fig["cold"].append(cold)
            fig["size_mb"].append(image["size"] / 1e6)
            spec2 = ImageSpec(name=spec.name, version=2, context_dir=make_context(tmp / f"r{r}-2", f"2{marker}"),
                              execution_script="score.py", requirements=spec.requirements)
            image2, rebuild, _ = run_op(lambda rep, spec2=spec2: target.build_image(ws, spec2, rep))
            fig["rebuild"].append(rebuild)
            service = ServiceSpec(name=f"bench{r}", image=image2)
            handle, deploy, op = run_op(lambda rep, service=service: target.start_service(ws, service, rep))
            fig["deploy"].append(deploy)
            for e in op.events:
                if isinstance(e, StepFinished):
                    steps.setdefault(e.step, []).append(e.seconds)
            pair = [(CONTAINER, handle["scoring_uri"]), (DIRECT, direct_url)]
            for name, url in pair if r % 2 == 0 else pair[::-1]:  # the order alternates round by round
                fig[name].append(measure(url, args.seconds, args.connections))
            fig["ratio"].append(fig[CONTAINER][-1] / fig[DIRECT][-1])
            target.stop_service(ws, handle)
            say(f"  cold {cold:.2f} s, rebuild {rebuild:.2f} s, deploy {deploy:.2f} s, "
                f"container {fig[CONTAINER][-1]:.0f} req/s, direct {fig[DIRECT][-1]:.0f} req/s")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        cleanup(f"aci_widgets.workspace={ws.name}")
        shutil.rmtree(tmp, ignore_errors=True)

    print(run_header("Docker target (bench_docker.py)", args.rounds, load_before))
    print(f"- cold build (numpy; pip layer new, venv layer cached in {sum(venv_cached)} of {len(venv_cached)} "
          f"rounds): {median_range(fig['cold'])} s; image {median_range(fig['size_mb'], 0)} MB")
    print(f"- rebuild after a score.py-only change: {median_range(fig['rebuild'])} s")
    print(f"- start_service to Healthy: {median_range(fig['deploy'])} s; steps: "
          + ", ".join(f"{k} {median_range(v)} s" for k, v in steps.items()))
    print(f"- throughput, 1-sample POST /score, {tool}, {args.connections} connections, {args.seconds} s per run, "
          "container and direct process interleaved (order alternating by round):")
    for name in (CONTAINER, DIRECT):
        print(f"  - {name}: {median_range(fig[name], 0)} req/s")
    print(f"  - container / direct: {median_range(fig['ratio'])}x (the rounds' ratios)")
    save_results("docker", {"rounds": args.rounds, "seconds": args.seconds, "connections": args.connections,
                            "tool": tool, "commit": tree_state(), "load_before": load_before,
                            "load_after": load_average(), "venv_cached": venv_cached, "steps": steps, **fig})


if __name__ == "__main__":
    main()
