"""Pre-warmed starts and ``--workers`` on the process target. Prints figures; asserts nothing.

1. Deploy call -> first correct answer, through the core API, a fresh process (ACI_WIDGETS_PREWARM=0) against a
   fork of the environment's warm process, for a numpy model (784x10 weights, np.load in init()) and the sklearn
   MNIST model with the stock score.py (joblib.load in init()). Two calls, each after editing score.py:
   ``LocalWebservice.reload()`` (restart with the new script) and ``Webservice.deploy(..., overwrite=True)``
   (register, image, stop the old service, start). Timed from the call until a POST of one digit has returned
   the right prediction. An untimed first deployment of each kind builds the environment (pip, once, cached in
   .bench/prewarm-home) and, for the warm rows, starts the warm process.
2. /score req/s of the sklearn service with cpu_cores=1 and 2 (``--workers 1`` and ``2``), one-digit bodies, runs
   interleaved; ``wrk`` when installed, else a keep-alive Python client. Then how connections spread over two
   workers (``python -m aci_widgets.runtime --workers 2`` with a score.py that answers its pid).

    python benchmarks/bench_prewarm.py [--repeat 5] [--seconds 8] [--connections 8]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    BENCH,
    REPO,
    ModelAssets,
    expected_predictions,
    free_port,
    keepalive_rps,
    load_average,
    machine_line,
    prepare_model,
    say,
    score_body,
    setup_env,
    stop_prewarmed,
    write_deploy_files,
)

HOME = BENCH / "prewarm-home"
WORK = BENCH / "prewarm"
NUMPY_SCORE = """\
import json

import numpy as np

from aci_widgets.core.model import Model


def init():
    global weights
    weights = np.load(Model.get_model_path("weights.npy"))


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return (data @ weights).argmax(axis=1).tolist()
"""
PID_SCORE = "import os\n\n\ndef run(raw_data):\n    return os.getpid()\n"
COUNT_LUA = """\
wrk.method = "POST"
wrk.body = '{}'
wrk.headers["Content-Type"] = "application/json"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) keys = "" end
function response(status, headers, body)
  local name = "n" .. body
  if _G[name] == nil then _G[name] = 0; keys = keys .. body .. "," end
  _G[name] = _G[name] + 1
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    for k in string.gmatch(t:get("keys"), "([^,]+)") do io.write("pid ", k, " ", t:get("n" .. k), "\\n") end
  end
end
"""


# --- deploy call -> first correct answer -----------------------------------------------------------------


def first_answer(uri: str, body: bytes, expected: list[int], timeout: float = 120.0) -> None:
    """POST until the answer is ``expected`` (a reload keeps the port: an old answer is possible only before)."""
    host_port = uri.split("//", 1)[1].split("/", 1)[0]
    give_up = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection(host_port, timeout=30)
            try:
                conn.request("POST", "/score", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                if response.status == 200 and json.loads(response.read()) == expected:
                    return
            finally:
                conn.close()
        if time.monotonic() > give_up:
            raise TimeoutError(f"no correct answer from {uri}")
        time.sleep(0.002)


def timed_starts(ws: Any, name: str, folder: Path, model: Path, body: bytes, expected: list[int],
                 prewarm: bool, repeat: int) -> dict[str, list[float]]:
    """Seconds from the call to the first correct answer, for reload() and deploy(overwrite=True)."""
    from aci_widgets.core import ContainerImage, LocalWebservice, Webservice

    os.environ["ACI_WIDGETS_PREWARM"] = "1" if prewarm else "0"
    score = folder / "score.py"
    config = ContainerImage.image_configuration(execution_script=str(score), runtime="python",
                                                conda_file=str(folder / "myenv.yml"))

    def deploy() -> Webservice:
        service = Webservice.deploy(ws, name, [str(model)], config, LocalWebservice.deploy_configuration(),
                                    deployment_target="process", overwrite=True)
        service.wait_for_deployment(show_output=False)
        return service

    service = deploy()  # untimed: builds the environment once, starts the warm process
    first_answer(service.scoring_uri, body, expected)
    times: dict[str, list[float]] = {"reload()": [], "deploy(overwrite)": []}
    original = score.read_text()
    for i in range(repeat):
        score.write_text(f"{original}\n# edit {i} reload\n")
        start = time.perf_counter()
        service.reload()
        first_answer(service.scoring_uri, body, expected)
        times["reload()"].append(time.perf_counter() - start)
        score.write_text(f"{original}\n# edit {i} deploy\n")
        start = time.perf_counter()
        service = deploy()
        first_answer(service.scoring_uri, body, expected)
        times["deploy(overwrite)"].append(time.perf_counter() - start)
    score.write_text(original)
    service.delete()
    return times


def cell(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.0f} ms ({min(values) * 1000:.0f}-{max(values) * 1000:.0f})"


# --- req/s with --workers 1 and 2 ---------------------------------------------------------------------------


def rps(port: int, body: bytes, connections: int, seconds: float, lua: Path) -> float:
    if shutil.which("wrk"):
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(lua),
                              f"http://127.0.0.1:{port}/score"], capture_output=True, text=True, check=True).stdout
        if "Non-2xx" in out:
            raise RuntimeError(f"the service answered errors under load:\n{out}")
        return float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")))
    return keepalive_rps(port, body, seconds, connections)


def throughput(ws: Any, folder: Path, model: Path, body: bytes, expected: list[int], args: argparse.Namespace
               ) -> dict[int, list[float]]:
    from aci_widgets.core import AciWebservice, ContainerImage, Webservice

    os.environ["ACI_WIDGETS_PREWARM"] = "1"
    config = ContainerImage.image_configuration(execution_script=str(folder / "score.py"), runtime="python",
                                                conda_file=str(folder / "myenv.yml"))
    lua = WORK / "post.lua"
    lua.write_text(COUNT_LUA.replace("'{}'", "[==[" + body.decode() + "]==]"))  # the JSON holds "]]"
    services = {}
    for workers in (1, 2):
        service = Webservice.deploy(ws, f"rps-{workers}", [str(model)], config,
                                    AciWebservice.deploy_configuration(cpu_cores=workers), overwrite=True)
        service.wait_for_deployment(show_output=False)
        first_answer(service.scoring_uri, body, expected)
        services[workers] = service
    results: dict[int, list[float]] = {1: [], 2: []}
    try:
        for _ in range(args.repeat):
            for workers, service in services.items():
                port = int(service.scoring_uri.rsplit(":", 1)[1].split("/")[0])
                results[workers].append(rps(port, body, args.connections, args.seconds, lua))
                say(f"  --workers {workers}: {results[workers][-1]:.0f} req/s")
    finally:
        for service in services.values():
            service.delete()
    return results


def spread(connections: list[int], seconds: float) -> list[str]:
    """How connections spread over two workers: requests answered by each pid, per wrk run."""
    if not shutil.which("wrk"):
        return ["(wrk not installed: spread not measured)"]
    score = WORK / "pid_score.py"
    score.write_text(PID_SCORE)
    lua = WORK / "pid.lua"
    lua.write_text(COUNT_LUA)
    ready = WORK / "pid-ready.json"
    ready.unlink(missing_ok=True)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "aci_widgets.runtime", "--score", str(score), "--port", str(port),
                             "--workers", "2", "--ready-file", str(ready)], env=env, stderr=subprocess.DEVNULL)
    lines = []
    try:
        while not ready.exists():
            time.sleep(0.02)
        for c in connections:
            for _ in range(3):
                out = subprocess.run(["wrk", "-t1", f"-c{c}", f"-d{seconds:g}s", "-s", str(lua),
                                      f"http://127.0.0.1:{port}/score"], capture_output=True, text=True).stdout
                per_pid = Counter({int(p): int(n) for _, p, n in (ln.split() for ln in out.splitlines()
                                                                   if ln.startswith("pid "))})
                total = sum(per_pid.values()) or 1
                shares = sorted((100 * n / total for n in per_pid.values()), reverse=True) + [0.0, 0.0]
                lines.append(f"  wrk -c{c}: {shares[0]:3.0f}% / {shares[1]:3.0f}% of {total} requests")
    finally:
        proc.terminate()
        proc.wait(30)
    return lines


# --- main ------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8.0, help="per throughput run")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    setup_env()
    os.environ["ACI_WIDGETS_HOME"] = str(HOME)
    from aci_widgets.core import Workspace

    assets: ModelAssets = prepare_model()
    body = score_body(assets.X_test, 1)
    numpy_dir = WORK / "numpy"
    write_deploy_files(numpy_dir, NUMPY_SCORE)
    weights = numpy_dir / "weights.npy"
    rng = np.random.default_rng(0)
    np.save(weights, rng.standard_normal((784, 10)))
    numpy_expected = [int(v) for v in (np.array(assets.X_test[:1].tolist()) @ np.load(weights)).argmax(axis=1)]
    sklearn_dir = WORK / "sklearn"
    write_deploy_files(sklearn_dir)
    sklearn_expected = expected_predictions(assets, 1)
    ws = Workspace.create("bench-prewarm", exist_ok=True, target="process", path=WORK / "ws")
    models = {"numpy": (numpy_dir, weights, numpy_expected), "sklearn": (sklearn_dir, assets.pickle, sklearn_expected)}
    starts: dict[tuple[str, str], dict[str, list[float]]] = {}
    try:
        for kind, (folder, model, expected) in models.items():
            for mode in ("cold", "warm"):
                say(f"{kind}, {mode}: deploying (load {load_average()})")
                starts[kind, mode] = timed_starts(ws, f"pw-{kind}", folder, model, body, expected,
                                                  mode == "warm", args.repeat)
        say("throughput: sklearn with --workers 1 and 2")
        rates = throughput(ws, sklearn_dir, assets.pickle, body, sklearn_expected, args)
        spread_lines = spread([2, args.connections], min(args.seconds, 4.0))
    finally:
        stop_prewarmed(HOME)
    print(f"# bench_prewarm: {machine_line()}; load {load_average()}")
    print(f"Deploy call -> first correct answer (median of {args.repeat}, min-max), process target:")
    print(f"  {'model':8} {'call':18} {'fresh process':>24} {'pre-warmed fork':>24}  speed-up")
    for kind in models:
        for call in ("reload()", "deploy(overwrite)"):
            cold, warm = starts[kind, "cold"][call], starts[kind, "warm"][call]
            ratio = statistics.median(cold) / statistics.median(warm)
            print(f"  {kind:8} {call:18} {cell(cold):>24} {cell(warm):>24}  {ratio:5.1f}x")
    client = "wrk -t1" if shutil.which("wrk") else "keep-alive Python client"
    print(f"/score req/s, sklearn model, 1 digit, {client} -c{args.connections}, {args.seconds:g} s runs x "
          f"{args.repeat} (median, min-max), {os.cpu_count()} cores:")
    for workers, values in rates.items():
        print(f"  --workers {workers}: {statistics.median(values):7.0f} ({min(values):.0f}-{max(values):.0f})")
    print(f"  --workers 2 / --workers 1: {statistics.median(rates[2]) / statistics.median(rates[1]):.2f}x")
    print("Spread over 2 workers (one SO_REUSEPORT socket each), busiest / other worker, per run:")
    print("\n".join(spread_lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
