"""Scoring throughput and latency, one worker each: aci_widgets' runtime vs azmlinfsrv vs mlflow, same model.

Method (as in shared/PERFORMANCE.md): ``wrk -t1 -c8 --latency`` on 127.0.0.1 with a Lua script that POSTs a fixed
body; requests/s and the p50/p99 of wrk's own latency histogram (read in its ``done`` hook, in microseconds). wrk is
closed-loop: p99 is the latency of 8 clients keeping one worker saturated, not latency at a fixed rate. For each body
size, after a warm-up, rounds are interleaved (every server once per round, the order rotating) so drift hits all
alike; the table shows medians over rounds and the median of the per-round ratios. Every server's answer is checked
before each run.

aci_widgets is deployed through the core API on the process target (``Webservice.deploy``, stock score.py, the
model's versions pinned in myenv.yml), in a workspace under .bench/aci_home, so its cached env is built once.

Beside req/s: each server's CPU time per request (user + system, all its processes, from /proc), which other work
on this 2-core machine distorts much less than req/s. Also printed: the in-process predict limit, ``run(raw)``
called in a loop in one Python process without HTTP (the ceiling of any server with this score.py) with where its
time goes, and each server's own cost per request (aci_widgets and azmlinfsrv with a run() that does nothing).

    python benchmarks/bench_scoring.py [--rounds 5] [--seconds 8] [--servers aci_widgets,azmlinfsrv,mlflow]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    BENCH,
    EMPTY_SCORE_PY,
    ModelAssets,
    Server,
    deploy_process,
    expected_predictions,
    load_average,
    machine_line,
    post,
    prepare_model,
    save_results,
    say,
    score_body,
    stop_prewarmed,
    tree_state,
    write_deploy_files,
)
from peers import AZMLINFSRV, MLFLOW, mlflow_body, predictions, start_azmlinfsrv, start_mlflow
from threadpoolctl import threadpool_limits

ACI = "aci_widgets"
SIZES = (1, 100)
BASELINE = AZMLINFSRV
LUA = """\
local f = assert(io.open("{body}", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d errors=%d bad_status=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass
class Run:
    """One wrk run of one server at one body size."""

    server: str
    samples: int
    round: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float  # server CPU (user + system, all its processes) per request
    sys_us: float  # of which system
    core_share: float  # server CPU seconds / wall seconds during the run (1.0 = it had a whole core)


# --- servers -------------------------------------------------------------------------------------------------


def start_aci(assets: ModelAssets, bodies: dict[int, bytes], score_text: str | None = None,
              label: str = ACI) -> Server:
    """Deploy with the core API on the process target (env cached in .bench/aci_home after the first run)."""
    os.environ["ACI_WIDGETS_HOME"] = str(BENCH / "aci_home")
    from aci_widgets.core import Workspace

    ws = Workspace.create("bench", exist_ok=True, target="process")
    score, env = write_deploy_files(BENCH / "work" / label, score_text)
    name = f"bench-{label.replace('_', '-')}"
    service = deploy_process(ws, name, assets.pickle, score, env)
    handle = ws.registry.get("services", name=name)["handle"]
    image = service.image

    def stop() -> None:
        service.delete()
        if image is not None:
            image.delete()

    # The process target starts the runtime in a session of its own: its pid is its process group.
    return Server(label, int(handle["port"]), "/score", bodies, stop_hook=stop, pgid=int(handle["pid"]))


def start_servers(names: list[str], assets: ModelAssets) -> list[Server]:
    """Start the named servers (all stopped again if one fails)."""
    score_bodies = {n: score_body(assets.X_test, n) for n in SIZES}
    starters: dict[str, Callable[[], Server]] = {
        ACI: lambda: start_aci(assets, score_bodies),
        AZMLINFSRV: lambda: start_azmlinfsrv(assets, score_bodies),
        MLFLOW: lambda: start_mlflow(assets, {n: mlflow_body(assets.X_test, n) for n in SIZES}),
    }
    servers: list[Server] = []
    try:
        for name in names:
            t0 = time.perf_counter()
            servers.append(starters[name]())
            say(f"[scoring] {name} up on 127.0.0.1:{servers[-1].port} ({time.perf_counter() - t0:.1f} s)")
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


# --- wrk ---------------------------------------------------------------------------------------------------


def lua_script(server: Server, samples: int) -> Path:
    """A wrk script POSTing the server's body for ``samples`` digits."""
    folder = BENCH / "work" / "wrk"
    folder.mkdir(parents=True, exist_ok=True)
    body = folder / f"{server.name}-{samples}.json"
    body.write_bytes(server.bodies[samples])
    script = folder / f"{server.name}-{samples}.lua"
    script.write_text(LUA.format(body=body))
    return script


def wrk(server: Server, samples: int, seconds: int, connections: int) -> dict[str, int]:
    """One ``wrk -t1 -cN -dS --latency`` run; the figures its ``done`` hook printed."""
    url = f"http://127.0.0.1:{server.port}{server.path}"
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency", "-s",
               str(lua_script(server, samples)), url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    match = re.search(r"^BENCH (.*)$", out, re.M)
    if not match:
        raise RuntimeError(f"wrk printed no figures for {url}:\n{out}")
    return {k: int(v) for k, v in (kv.split("=") for kv in match.group(1).split())}


def check_answer(server: Server, samples: int, want: list[int]) -> None:
    """Raise unless the server predicts ``want`` for its body."""
    status, answer = post(server.port, server.path, server.bodies[samples])
    got = predictions(answer) if status == 200 else []
    if got != want:
        raise RuntimeError(f"{server.name} answered {status} {answer[:200]!r} for {samples} digit(s); "
                           f"expected {want[:10]}")


def one_run(server: Server, samples: int, round_: int, seconds: int, connections: int) -> Run:
    """One wrk run, with the server's CPU time around it."""
    user0, sys0 = server.cpu_seconds()
    f = wrk(server, samples, seconds, connections)
    user1, sys1 = server.cpu_seconds()
    requests = max(f["requests"], 1)
    cpu = user1 - user0 + sys1 - sys0
    run = Run(server.name, samples, round_, f["requests"] * 1e6 / f["duration_us"], f["p50_us"] / 1000,
              f["p99_us"] / 1000, f["errors"] + f["bad_status"], cpu * 1e6 / requests,
              (sys1 - sys0) * 1e6 / requests, cpu * 1e6 / f["duration_us"])
    say(f"[scoring] round {round_ + 1} {server.name:<12} {samples:>3} sample(s): {run.rps:8.1f} req/s "
        f"p50 {run.p50_ms:6.2f} ms p99 {run.p99_ms:6.2f} ms, CPU {run.cpu_us:7.0f} µs/req "
        f"({run.core_share:.0%} of a core)" + (f" ERRORS {run.errors}" if run.errors else ""))
    return run


def measure(servers: list[Server], assets: ModelAssets, rounds: int, seconds: int, warmup: int,
            connections: int) -> list[Run]:
    """Per body size: warm every server up, then the rounds, servers interleaved (order rotating).

    Sizes are not mixed within a round: after 100-digit requests azmlinfsrv's 1-digit rate stayed lower for a
    while in some runs here, which would flatter the others at 1 digit."""
    wants = {n: expected_predictions(assets, n) for n in SIZES}
    runs: list[Run] = []
    for n in SIZES:
        for server in servers:
            check_answer(server, n, wants[n])
            if warmup > 0:
                wrk(server, n, warmup, connections)
        for r in range(rounds):
            for server in servers[r % len(servers):] + servers[:r % len(servers)]:
                check_answer(server, n, wants[n])
                runs.append(one_run(server, n, r, seconds, connections))
    return runs


def measure_overhead(assets: ModelAssets, rounds: int, seconds: int, connections: int) -> list[Run]:
    """aci_widgets and azmlinfsrv with a run() that does nothing, on the 1-digit body: each server's own cost."""
    body = {1: score_body(assets.X_test, 1)}
    servers: list[Server] = []
    try:
        servers.append(start_aci(assets, body, EMPTY_SCORE_PY, f"{ACI}-empty"))
        servers.append(start_azmlinfsrv(assets, body, EMPTY_SCORE_PY, f"{AZMLINFSRV}-empty"))
        runs: list[Run] = []
        for server in servers:
            status, answer = post(server.port, server.path, body[1])
            if (status, answer.strip()) != (200, b"[7]"):
                raise RuntimeError(f"{server.name} answered {status} {answer[:100]!r}")
            wrk(server, 1, 1, connections)
        for r in range(rounds):
            for server in servers[r % 2:] + servers[:r % 2]:
                runs.append(one_run(server, 1, r, seconds, connections))
        return runs
    finally:
        for server in servers:
            server.stop()


# --- in-process predict limit ----------------------------------------------------------------------------


def _rate(fn: Callable[[], Any], seconds: float) -> float:
    """Calls per CPU-second of ``fn`` (thread CPU time, so that other processes' load does not count): the best
    of 5 slices of ``seconds / 5`` wall time."""
    rates = []
    for _ in range(5):
        n, cpu0 = 0, time.thread_time()
        end = time.perf_counter() + seconds / 5
        while True:
            for _ in range(20):
                fn()
            n += 20
            if time.perf_counter() >= end:
                break
        rates.append(n / max(time.thread_time() - cpu0, 1e-9))
    return max(rates)


def predict_limit(assets: ModelAssets, seconds: float = 3.0) -> dict[int, dict[str, float]]:
    """``run(raw)`` of the stock score.py called directly, and the cost of each of its steps, in µs."""
    from aci_widgets.demo.assets import SCORE_PY
    from aci_widgets.runtime.handlers import ScoringApp

    folder = BENCH / "work" / "inproc"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "score.py").write_text(SCORE_PY)
    os.environ["AZUREML_MODEL_DIR"] = str(assets.models_dir)
    spec = importlib.util.spec_from_file_location("bench_score", folder / "score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.init()
    app = ScoringApp(module.run, swagger={})
    out: dict[int, dict[str, float]] = {}
    gc.collect()
    with threadpool_limits(1):  # one BLAS thread, like every server measured
        for n in SIZES:
            out[n] = _steps(module, app, assets, n, seconds)
    return out


def _steps(module: Any, app: Any, assets: ModelAssets, n: int, seconds: float) -> dict[str, float]:
    """CPU µs per call of run(), the runtime's handler, and each step of run(), for ``n`` digits."""
    model = module.model
    body = score_body(assets.X_test, n)
    raw = body.decode()
    parsed = json.loads(raw)
    data = np.array(parsed["data"])
    y_hat = model.predict(data)
    result = y_hat.tolist()
    steps: dict[str, Callable[[], Any]] = {
        "run": lambda: module.run(raw),
        "handler": lambda: app.score(body),
        "json.loads": lambda: json.loads(raw),
        "np.array": lambda: np.array(parsed["data"]),
        "predict": lambda: model.predict(data),
        "tolist": lambda: y_hat.tolist(),
        "json.dumps": lambda: json.dumps(result).encode(),
    }
    return {name: 1e6 / _rate(fn, seconds if name == "run" else seconds / 3) for name, fn in steps.items()}


# --- the table ---------------------------------------------------------------------------------------------


def summarize(runs: list[Run], names: list[str]) -> list[dict[str, Any]]:
    """Medians over rounds, and the median of the per-round ratios to the baseline."""
    rows = []
    for n in SIZES:
        base = {r.round: r for r in runs if r.server == BASELINE and r.samples == n}
        for name in names:
            mine = [r for r in runs if r.server == name and r.samples == n]
            if not mine:
                continue
            ratios = [r.rps / base[r.round].rps for r in mine if r.round in base]
            p99_ratios = [r.p99_ms / base[r.round].p99_ms for r in mine if r.round in base]
            cpu_ratios = [base[r.round].cpu_us / r.cpu_us for r in mine if r.round in base and r.cpu_us > 0]
            rows.append({
                "server": name, "samples": n,
                "rps": statistics.median(r.rps for r in mine),
                "rps_min": min(r.rps for r in mine), "rps_max": max(r.rps for r in mine),
                "p50_ms": statistics.median(r.p50_ms for r in mine),
                "p99_ms": statistics.median(r.p99_ms for r in mine),
                "ratio": statistics.median(ratios) if ratios else None,
                "p99_ratio": statistics.median(p99_ratios) if p99_ratios else None,
                "errors": sum(r.errors for r in mine),
                "cpu_us": statistics.median(r.cpu_us for r in mine),
                "sys_us": statistics.median(r.sys_us for r in mine),
                "core_share": statistics.median(r.core_share for r in mine),
                "cpu_ratio": statistics.median(cpu_ratios) if cpu_ratios else None,
            })
    return rows


def format_table(rows: list[dict[str, Any]], limit: dict[int, dict[str, float]] | None, rounds: int,
                 seconds: float, connections: int, load_before: str) -> str:
    """The markdown tables and the lines under them."""
    lines = [f"Scoring, one worker each, wrk -t1 -c{connections}, {rounds} interleaved rounds x {seconds:g} s "
             f"(medians; req/s range in brackets), {machine_line()}; 1-min load average {load_before} before, "
             f"{load_average()} after; aci_widgets {tree_state()}",
             "",
             "| server | samples/req | req/s | vs azmlinfsrv | p50 ms | p99 ms | p99 vs azmlinfsrv | "
             "server CPU µs/req (sys) | req per CPU-s vs azmlinfsrv | server's share of a core |",
             "|---|---|---|---|---|---|---|---|---|---|"]

    def x(value: float | None) -> str:
        """A ratio, or a dash."""
        return f"{value:.2f}x" if value is not None else "-"

    for row in rows:
        errors = f" ({row['errors']} errors)" if row["errors"] else ""
        lines.append(f"| {row['server']} | {row['samples']} | {row['rps']:,.0f} [{row['rps_min']:,.0f}-"
                     f"{row['rps_max']:,.0f}]{errors} | {x(row['ratio'])} | {row['p50_ms']:.2f} | "
                     f"{row['p99_ms']:.2f} | {x(row['p99_ratio'])} | {row['cpu_us']:,.0f} ({row['sys_us']:,.0f}) | "
                     f"{x(row['cpu_ratio'])} | {row['core_share']:.0%} |")
    if limit:
        lines.append("")
        lines.append("In-process predict limit (stock score.py, `run(raw)` in a loop, no HTTP; CPU µs per call, "
                     "best of 5) and its steps:")
        lines.append("")
        lines.append("| samples | run() calls per CPU-s | run | runtime handler (decode+run+dumps) | json.loads | "
                     "np.array | predict | tolist | json.dumps |")
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for n, t in limit.items():
            lines.append(f"| {n} | {1e6 / t['run']:,.0f} | {t['run']:.0f} | {t['handler']:.0f} | "
                         f"{t['json.loads']:.0f} | {t['np.array']:.0f} | {t['predict']:.0f} | {t['tolist']:.1f} | "
                         f"{t['json.dumps']:.1f} |")
        lines.append("")
        lines.append("(Measured in this benchmark's own process: compare it with the servers' CPU per request only "
                     "roughly.)")
    return "\n".join(lines)


def format_overhead(overhead: list[Run], rows: list[dict[str, Any]]) -> str:
    """The servers' own cost per request, and what it means for the 1-digit ratio."""
    cost = {name: statistics.median(r.cpu_us for r in overhead if r.server == name)
            for name in dict.fromkeys(r.server for r in overhead)}
    rps = {name: statistics.median(r.rps for r in overhead if r.server == name) for name in cost}
    out = ["Each server's own cost: a run() that returns [7] at once, 1-digit body, same wrk settings "
           "(median CPU µs per request, all the server's processes):", ""]
    out += [f"- {name}: {cost[name]:,.0f} µs CPU/request ({rps[name]:,.0f} req/s)" for name in cost]
    stock = {row["server"]: row for row in rows if row["samples"] == 1}
    mine = cost.get(f"{ACI}-empty")
    if mine is not None and ACI in stock:
        total = stock[ACI]["cpu_us"]
        out.append(f"- aci_widgets' own cost is {mine / total:.0%} of the {total:,.0f} µs CPU its server spends on a "
                   f"1-digit request (the rest is the stock run()): a free HTTP layer would make it at most "
                   f"{total / max(total - mine, 1):.2f}x faster.")
    theirs = cost.get(f"{AZMLINFSRV}-empty")
    if theirs is not None and AZMLINFSRV in stock:
        total = stock[AZMLINFSRV]["cpu_us"]
        out.append(f"- azmlinfsrv's own cost is {theirs / total:.0%} of its {total:,.0f} µs per 1-digit request.")
    return "\n".join(out)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=int, default=8, help="per wrk run (wrk takes whole seconds)")
    p.add_argument("--warmup", type=int, default=15,
                   help="seconds of load per server and size before round 1 (azmlinfsrv speeds up for ~15 s)")
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--servers", default=f"{ACI},{AZMLINFSRV},{MLFLOW}")
    p.add_argument("--no-limit", action="store_true", help="skip the in-process predict limit")
    p.add_argument("--no-overhead", action="store_true", help="skip the servers' own cost (a run() doing nothing)")
    return p.parse_args(argv)


def run(argv: list[str] | None = None) -> str:
    """Start the servers, measure, stop them; return the printed table."""
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    names = [s.strip() for s in args.servers.split(",") if s.strip()]
    assets = prepare_model()
    servers = start_servers(names, assets)
    load_before = load_average()
    try:
        runs = measure(servers, assets, args.rounds, args.seconds, args.warmup, args.connections)
    finally:
        for server in servers:
            server.stop()
        stop_prewarmed(BENCH / "aci_home")
    overhead: list[Run] = []
    if not args.no_overhead and ACI in names and AZMLINFSRV in names:
        try:
            overhead = measure_overhead(assets, args.rounds, min(args.seconds, 4), args.connections)
        finally:
            stop_prewarmed(BENCH / "aci_home")
    limit = None if args.no_limit else predict_limit(assets)
    rows = summarize(runs, names)
    table = format_table(rows, limit, args.rounds, args.seconds, args.connections, load_before)
    if overhead:
        table += "\n\n" + format_overhead(overhead, rows)
    save_results("scoring", {"rows": rows, "predict_limit": limit, "runs": [vars(r) for r in runs],
                             "overhead": [vars(r) for r in overhead], "table": table})
    return table


def main(argv: list[str] | None = None) -> int:
    """Print the tables."""
    print(run(argv), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
