"""Stock score.py vs the fast path (inference-schema, and an ndarray annotation): requests/s at 1 and 100 samples.

    python benchmarks/bench_fastpath.py [--seconds 5] [--rounds 3] [--connections 8] [--client auto|wrk|python]

One runtime process per variant serving the same scikit-learn LogisticRegression (784 -> 10, MNIST-shaped input),
measured with wrk (-t1, keep-alive) when installed, else a keep-alive Python client. Variants are interleaved round
by round (rotating the order), so machine noise hits them alike; medians of the rounds are printed. On a busy machine
req/s swings with the load, so the server's own CPU time per request (from /proc) is printed too: it barely does.
Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import keepalive_rps

REPO = Path(__file__).resolve().parents[1]
FEATURES = 784
SIZES = (1, 100)

_LOAD = """\
import joblib
import numpy as np

from aci_widgets.runtime.model_dir import get_model_path


def init():
    global model
    model = joblib.load(get_model_path("model.pkl"))
"""
VARIANTS = {
    # The Azure ML score.py contract: run() parses the body itself.
    "stock": _LOAD + """
import json


def run(raw_data):
    return model.predict(np.array(json.loads(raw_data)["data"])).tolist()
""",
    "@input_schema": _LOAD + """
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.schema_decorators import input_schema, output_schema


@input_schema("data", NumpyParameterType(np.zeros((1, 784))))
@output_schema(NumpyParameterType(np.array([0])))
def run(data):
    return model.predict(data)
""",
    "annotated": _LOAD + """

def run(data: np.ndarray):
    return model.predict(data)
""",
}


def make_model(models: Path) -> None:
    """A LogisticRegression on MNIST-shaped random digits: predict() costs what the demo model's does."""
    import warnings

    import joblib
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = mnist_like(rng, 1000)
    y = rng.integers(0, 10, size=len(x))
    folder = models / "model.pkl" / "1"
    folder.mkdir(parents=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a fit on noise: only predict()'s cost matters
        joblib.dump(LogisticRegression(max_iter=20).fit(x, y), folder / "model.pkl")


def mnist_like(rng: np.random.Generator, n: int) -> np.ndarray:
    """Pixels as the demo sends them: ~80% zeros, the rest k/255 (long floats in JSON)."""
    pixels = rng.integers(1, 256, size=(n, FEATURES)) / 255.0
    return np.where(rng.random((n, FEATURES)) < 0.8, 0.0, pixels)


def start(workdir: Path, name: str, source: str, models: Path) -> tuple[subprocess.Popen[bytes], int]:
    app = workdir / name.strip("@")
    app.mkdir()
    (app / "score.py").write_text(source)
    ready = app / "ready.json"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("ACI_WIDGETS_AUTH_KEYS", None)
    with open(app / "log.txt", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aci_widgets.runtime", "--score", str(app / "score.py"), "--model-dir",
             str(models), "--ready-file", str(ready)],
            env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    while not ready.exists():
        if proc.poll() is not None:
            raise SystemExit(f"{name} did not start:\n{(app / 'log.txt').read_text()}")
        time.sleep(0.02)
    state = json.loads(ready.read_text())
    if state.get("status") != "ready":
        raise SystemExit(f"{name} failed: {state}")
    return proc, state["port"]


def post(port: int, body: bytes) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/score", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        answer = response.read()
        if response.status != 200:
            raise SystemExit(f"port {port}: {response.status} {answer[:300]!r}")
        return answer
    finally:
        conn.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (Linux /proc; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk_rps(port: int, body_file: Path, seconds: int, connections: int) -> float:
    script = body_file.with_suffix(".lua")
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f'local f = io.open("{body_file}", "rb")\nwrk.body = f:read("*a")\nf:close()\n'
    )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), f"http://127.0.0.1:{port}/score"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw errors:\n{out}")
    return float(next(line for line in out.splitlines() if line.startswith("Requests/sec:")).split()[1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    args = p.parse_args()
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk") is not None)
    try:
        import orjson
        import simdjson  # noqa: F401

        parser = f"pysimdjson (numeric arrays), else orjson {orjson.__version__}"
    except ImportError as exc:
        parser = f"a slower fallback ({exc.name} is not installed)"

    workdir = Path(tempfile.mkdtemp(prefix="bench-fastpath-"))
    procs: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        make_model(workdir / "models")
        rng = np.random.default_rng(1)
        bodies = {n: json.dumps({"data": mnist_like(rng, n).tolist()}).encode() for n in SIZES}
        for n, body in bodies.items():
            (workdir / f"body{n}.json").write_bytes(body)
        for name, source in VARIANTS.items():
            procs[name] = start(workdir, name, source, workdir / "models")
        for n, body in bodies.items():  # every variant must give the same answer before it is timed
            answers = {name: json.loads(post(port, body)) for name, (_, port) in procs.items()}
            if len({json.dumps(a) for a in answers.values()}) != 1:
                raise SystemExit(f"answers differ at {n} samples: {answers}")

        client = f"wrk -t1 -c{args.connections}" if use_wrk else f"python keep-alive x{args.connections}"
        print(f"fast path vs stock: {client}, {args.seconds:g} s x {args.rounds} rounds (median), fast path parser "
              f"{parser}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
        results: dict[tuple[str, int], list[float]] = {(name, n): [] for name in procs for n in SIZES}
        cpu: dict[tuple[str, int], list[float]] = {key: [] for key in results}
        names = list(procs)
        for round_ in range(args.rounds):
            for n in SIZES:
                for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                    proc, port = procs[name]
                    before = cpu_seconds(proc.pid)
                    if use_wrk:
                        rps = wrk_rps(port, workdir / f"body{n}.json", args.seconds, args.connections)
                    else:
                        rps = keepalive_rps(port, bodies[n], args.seconds, args.connections)
                    results[name, n].append(rps)
                    cpu[name, n].append((cpu_seconds(proc.pid) - before) / max(1.0, rps * args.seconds))
        for n in SIZES:
            stock, stock_cpu = statistics.median(results["stock", n]), statistics.median(cpu["stock", n])
            print(f"  {n:>3} sample(s), body {len(bodies[n]) / 1024:.1f} KiB:")
            for name in procs:
                rps, per_request = statistics.median(results[name, n]), statistics.median(cpu[name, n])
                speedup = stock_cpu / per_request if per_request else float("nan")
                spread = ", ".join(f"{r:.0f}" for r in results[name, n])
                print(f"    {name:<14} {rps:7.0f} req/s {rps / stock:5.2f}x | server CPU "
                      f"{per_request * 1e6:8.0f} us/req {speedup:5.2f}x | rounds: {spread} req/s")
    finally:
        for proc, _ in procs.values():
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
