"""Deploy-to-Healthy times through the core API on the process target, and start-up to first answer.

- cold: an empty ACI_WIDGETS_HOME per run, so the virtualenv is built each time (the installer's own download cache
  is left as the user has it, warm after the first run).
- warm: same requirements, a new service name (so a new image): the cached env is reused.
- score.py changed: edit score.py, ``Webservice.deploy(..., overwrite=True)`` under the same name.
- reload: edit score.py, ``service.reload()`` (restart with the new script, no image build).
- start-up to first answer: spawn ``python -m aci_widgets.runtime`` as the process target does (its env, its image
  copy of the runtime) on a port picked beforehand, connect as soon as it listens and POST a digit; the time from
  spawn until the correct answer has arrived. Connections queue in the backlog while init() runs.
- through the process target: its ``start service`` and ``wait for health`` steps plus the first POST (the part of a
  deploy that a pre-warmed fork shortens); and the whole of it, the ``Webservice.deploy`` call to the first answer.

Each deploy time runs from the ``Webservice.deploy`` call until ``wait_for_deployment()`` returns (Healthy), with
the operation's own step times. Everything happens in a temporary ACI_WIDGETS_HOME under .bench/, removed at the end.

    python benchmarks/bench_deploy.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common import (
    BENCH,
    ModelAssets,
    deploy_process,
    expected_predictions,
    free_port,
    load_average,
    machine_line,
    prepare_model,
    save_results,
    say,
    score_body,
    stop_prewarmed,
    tree_state,
    write_deploy_files,
)
from peers import predictions

STEP_NAMES = ("register model", "build image", "start service", "wait for health")


def steps_of(service: Any) -> dict[str, float]:
    """Seconds per step of the deployment, from its StepFinished events."""
    from aci_widgets.core.events import StepFinished

    op = service.operation
    return {e.step: e.seconds for e in (op.events if op else []) if isinstance(e, StepFinished)}


def start_path(service: Any) -> str:
    """How the process target started the server: forked from a pre-warmed process, or a fresh Python."""
    from aci_widgets.core.events import LogLine

    op = service.operation
    forked = any(isinstance(e, LogLine) and "Forked from the pre-warmed" in e.line for e in (op.events if op else []))
    return "fork" if forked else "fresh"


def timed_deploy(ws: Any, name: str, assets: ModelAssets, score: Path, env: Path, body: bytes,
                 want: list[int]) -> dict[str, Any]:
    """Deploy, time it to Healthy, then time and check the first answer."""
    t0 = time.perf_counter()
    service = deploy_process(ws, name, assets.pickle, score, env)
    seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    got = predictions(json.dumps(service.run(body)).encode())
    first_post = time.perf_counter() - t1
    if service.state != "Healthy" or got != want:
        raise RuntimeError(f"{name}: state {service.state}, answer {got}, expected {want}")
    return {"seconds": seconds, "steps": steps_of(service), "service": service, "first_post": first_post,
            "path": start_path(service)}


def edit(score: Path, n: int) -> None:
    """A real edit of score.py (a comment line changes), as a user's would be."""
    text = score.read_text().split("\n# bench edit", 1)[0]
    score.write_text(f"{text}\n# bench edit {n}\n")


# --- start-up to first answer ----------------------------------------------------------------------------


def first_answer(launch: dict[str, Any], body: bytes, want: list[int], folder: Path) -> dict[str, float]:
    """Spawn the runtime as the process target does; seconds until POST /score has answered correctly."""
    app_dir = Path(launch["app_dir"])
    port = free_port()
    ready = folder / f"ready-{port}.json"
    command = [launch["python"], "-m", "aci_widgets.runtime", "--score", str(app_dir / launch["script"]),
               "--model-dir", str(app_dir / "azureml-models"), "--host", "127.0.0.1", "--port", str(port),
               "--ready-file", str(ready)]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(PYTHONPATH=str(app_dir / ".aci_widgets"), PYTHONNOUSERSITE="1", PYTHONUNBUFFERED="1")
    request = (f"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, cwd=app_dir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        listening = None
        while time.perf_counter() - t0 < 30:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            except ConnectionRefusedError:
                if proc.poll() is not None:
                    raise RuntimeError(f"the runtime exited with {proc.returncode}") from None
                time.sleep(0.002)
                continue
            listening = time.perf_counter() - t0
            with sock:
                sock.sendall(request)
                response = http.client.HTTPResponse(sock)
                response.begin()
                answer = response.read()
            took = time.perf_counter() - t0
            break
        else:
            raise TimeoutError("the runtime did not listen within 30 s")
        if response.status != 200 or predictions(answer) != want:
            raise RuntimeError(f"first answer {response.status} {answer[:100]!r}, expected {want}")
        info = json.loads(ready.read_text()) if ready.is_file() else {}
        return {"first_answer": took, "listening": listening or 0.0,
                "import": float(info.get("import_seconds", 0.0)), "init": float(info.get("init_seconds", 0.0))}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        ready.unlink(missing_ok=True)


def python_start(python: str, code: str, repeat: int = 5) -> float:
    """Best wall time of ``python -c code`` (interpreter start plus what ``code`` imports)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([python, "-c", code], check=True, env={**os.environ, "PYTHONNOUSERSITE": "1"})
        best = min(best, time.perf_counter() - t0)
    return best


# --- the whole thing -------------------------------------------------------------------------------------


def fmt_steps(steps: dict[str, float]) -> str:
    """Step times as one line."""
    return ", ".join(f"{name} {steps[name]:.2f}" for name in STEP_NAMES if name in steps)


def row(label: str, samples: list[dict[str, Any]]) -> str:
    """One table row: median, range, how the server started, the median run's steps."""
    times = [s["seconds"] for s in samples]
    med = statistics.median(times)
    closest = min(samples, key=lambda s: abs(s["seconds"] - med))
    spread = f" [{min(times):.2f}-{max(times):.2f}]" if len(times) > 1 else ""
    paths = "/".join(sorted({s.get("path", "?") for s in samples}))
    return f"| {label} | {len(times)} | {med:.2f}{spread} | {paths} | {fmt_steps(closest['steps'])} |"


def run(argv: list[str] | None = None) -> str:
    """All the deploy measurements in a temporary home; returns the printed table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5, help="cold / warm / changed / reload deploys, first-answer x2")
    p.add_argument("--keep", action="store_true", help="keep the temporary ACI_WIDGETS_HOME")
    args = p.parse_args(argv)
    assets = prepare_model()
    load_before = load_average()
    body = score_body(assets.X_test, 1)
    want = expected_predictions(assets, 1)
    (BENCH / "tmp").mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="deploy-home-", dir=BENCH / "tmp"))
    os.environ["ACI_WIDGETS_HOME"] = str(home)
    from aci_widgets.core import Webservice, Workspace

    ws = Workspace.create("deploybench", target="process")
    score, env = write_deploy_files(home / "work")
    results: dict[str, list[dict[str, Any]]] = {}
    starts: list[dict[str, float]] = []
    bare = runtime_import = sklearn_import = 0.0
    try:
        results["cold"] = []
        for i in range(args.repeat):  # each in an empty home of its own: the environment is built every time
            say(f"[deploy] cold {i + 1}/{args.repeat} (builds the environment)")
            cold_home = home / f"cold-{i}"
            with _env({"ACI_WIDGETS_HOME": str(cold_home)}):
                cold_ws = Workspace.create("deploybench", target="process")
                results["cold"].append(timed_deploy(cold_ws, "bench-cold", assets, score, env, body, want))
                results["cold"][-1]["service"].delete()
                stop_prewarmed(cold_home)
        results["warm"] = []
        for i in range(args.repeat):
            say(f"[deploy] warm {i + 1}/{args.repeat}")
            results["warm"].append(timed_deploy(ws, f"bench-warm-{i}", assets, score, env, body, want))
            if i < args.repeat - 1:
                results["warm"][-1]["service"].delete()
        name = f"bench-warm-{args.repeat - 1}"
        results["changed"] = []
        for i in range(args.repeat):
            say(f"[deploy] score.py changed, overwrite=True {i + 1}/{args.repeat}")
            edit(score, i)
            results["changed"].append(timed_deploy(ws, name, assets, score, env, body, want))
        service = results["changed"][-1]["service"]
        results["reload"] = []
        for i in range(args.repeat):
            say(f"[deploy] score.py changed, service.reload() {i + 1}/{args.repeat}")
            edit(score, 100 + i)
            t0 = time.perf_counter()
            service.reload()
            seconds = time.perf_counter() - t0
            if service.state != "Healthy" or predictions(json.dumps(service.run(body)).encode()) != want:
                raise RuntimeError("reload did not come back Healthy with the right answer")
            results["reload"].append({"seconds": seconds, "steps": steps_of(service), "path": start_path(service)})
        launch = ws.registry.get("services", name=name)["handle"]["launch"]
        for i in range(2 * args.repeat):
            say(f"[deploy] start-up to first answer {i + 1}/{2 * args.repeat}")
            starts.append(first_answer(launch, body, want, home))
        bare = python_start(launch["python"], "pass")
        runtime_env = {"PYTHONPATH": str(Path(launch["app_dir"]) / ".aci_widgets")}
        with _env(runtime_env):
            runtime_import = python_start(launch["python"], "import aci_widgets.runtime.__main__, "
                                          "aci_widgets.runtime.server, aci_widgets.core.model")
            sklearn_import = python_start(launch["python"], "import joblib, numpy, sklearn.linear_model")
    finally:
        for svc in Webservice.list(ws):
            with contextlib.suppress(Exception):
                svc.delete()
        stop_prewarmed(home)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)

    lines = [f"Deploy to Healthy through the core API, process target (seconds; median [min-max]), {machine_line()}; "
             f"1-min load average {load_before} before, {load_average()} after; aci_widgets {tree_state()}",
             "",
             "| deployment | n | seconds to Healthy | server start | steps (s, of the median run) |",
             "|---|---|---|---|---|",
             row("cold: empty ACI_WIDGETS_HOME, env built (installer's download cache warm)", results["cold"]),
             row("warm: same requirements, new image + service", results["warm"]),
             row("score.py changed, deploy(overwrite=True)", results["changed"]),
             row("score.py changed, service.reload()", results["reload"])]
    first = [s["first_answer"] for s in starts]
    med = statistics.median(first)
    via_target = [d["steps"].get("start service", 0) + d["steps"].get("wait for health", 0) + d["first_post"]
                  for d in results["warm"] + results["changed"]]
    paths = "/".join(sorted({d["path"] for d in results["warm"] + results["changed"]}))
    call_to_answer = [d["seconds"] + d["first_post"] for d in results["warm"] + results["changed"]]
    lines += ["",
              f"Start-up to first answer, cold (spawn `python -m aci_widgets.runtime` -> correct POST /score "
              f"answer), n={len(first)}: median {med:.3f} s [{min(first):.3f}-{max(first):.3f}]",
              f"Start-up to first answer through the process target ({paths}; its start + health steps + the "
              f"first POST, warm and changed deploys), n={len(via_target)}: median "
              f"{statistics.median(via_target):.3f} s [{min(via_target):.3f}-{max(via_target):.3f}]",
              f"The deploy call to the first correct answer (Webservice.deploy ... wait_for_deployment, then the "
              f"first POST; warm and changed deploys), n={len(call_to_answer)}: median "
              f"{statistics.median(call_to_answer):.3f} s [{min(call_to_answer):.3f}-{max(call_to_answer):.3f}]",
              f"- listening after {statistics.median(s['listening'] for s in starts):.3f} s; score.py import "
              f"{statistics.median(s['import'] for s in starts):.3f} s; init() "
              f"{statistics.median(s['init'] for s in starts):.3f} s (runtime's ready file)",
              f"- in that env, best of 5: bare `python -c pass` {bare:.3f} s; + runtime & aci_widgets.core.model "
              f"imports {runtime_import:.3f} s; + joblib, numpy, sklearn.linear_model {sklearn_import:.3f} s"]
    table = "\n".join(lines)
    figures = {k: [{key: v for key, v in s.items() if key != "service"} for s in v] for k, v in results.items()}
    save_results("deploy", {"deploys": figures, "first_answer": starts, "via_target": via_target,
                            "call_to_answer": call_to_answer,
                            "python_start": bare,
                            "runtime_import": runtime_import, "sklearn_import": sklearn_import, "table": table})
    return table


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def main(argv: list[str] | None = None) -> int:
    """Print the table."""
    print(run(argv), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
