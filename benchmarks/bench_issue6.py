"""Issue 6: the fast path and ``--workers``, in the same interleaved wrk run as bench_scoring.py.

Five servers, same model, same wrk settings, rounds interleaved (order rotating) per body size:

- aci_widgets, stock score.py, one worker (bench_scoring's deployment);
- aci_widgets fast path: run() decorated with inference-schema (``NumpyParameterType``), so the runtime parses the
  body itself into a float64 array (pysimdjson, which the runtime brings with orjson); its conda file adds
  ``inference-schema`` under ``pip:``. Same model, same body bytes as the stock one;
- aci_widgets stock, 2 workers: ``AciWebservice.deploy_configuration(cpu_cores=2)`` (the process target runs
  ``--workers 2``); its CPU per request counts the supervisor and both workers (one process group);
- azmlinfsrv and mlflow, one worker each, as in bench_scoring.py.

wrk itself runs on the same 2 cores (``-t1``: up to one core), so two workers never get two whole cores.

    python benchmarks/bench_issue6.py [--rounds 5] [--seconds 8] [--warmup 15]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
from typing import Any

from bench_scoring import ACI, SIZES, Run, format_table, measure, summarize
from common import (
    BENCH,
    ModelAssets,
    Server,
    load_average,
    prepare_model,
    save_results,
    say,
    score_body,
    stop_prewarmed,
    write_deploy_files,
)
from peers import AZMLINFSRV, MLFLOW, mlflow_body, start_azmlinfsrv, start_mlflow

FAST = f"{ACI} fast path"
TWO = f"{ACI} stock, 2 workers"
NAMES = [ACI, FAST, TWO, AZMLINFSRV, MLFLOW]

FAST_SCORE_PY = """\
import joblib
import numpy as np
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.schema_decorators import input_schema, output_schema

from aci_widgets.core.model import Model


def init():
    global model
    model_path = Model.get_model_path('sklearn_mnist_model.pkl')
    model = joblib.load(model_path)


@input_schema('data', NumpyParameterType(np.zeros((1, 784))))
@output_schema(NumpyParameterType(np.array([0])))
def run(data):
    return model.predict(data)
"""


def start_variant(assets: ModelAssets, bodies: dict[int, bytes], label: str, score_text: str | None = None,
                  pip: tuple[str, ...] = (), cpu_cores: float = 1.0) -> Server:
    """Like bench_scoring.start_aci, with extra pip packages in the conda file and a cpu_cores setting."""
    os.environ["ACI_WIDGETS_HOME"] = str(BENCH / "aci_home")
    from aci_widgets.core import AciWebservice, ContainerImage, Webservice, Workspace

    ws = Workspace.create("bench", exist_ok=True, target="process")
    slug = re.sub("-+", "-", "".join(c if c.isalnum() else "-" for c in label.replace("_", "-"))).strip("-")
    score, env = write_deploy_files(BENCH / "work" / slug, score_text)
    if pip:
        env.write_text(env.read_text() + "  - pip:\n" + "".join(f"    - {p}\n" for p in pip))
    name = f"bench-{slug}"[:32].rstrip("-")
    config = ContainerImage.image_configuration(execution_script=str(score), runtime="python", conda_file=str(env))
    service = Webservice.deploy(ws, name, [str(assets.pickle)], config,
                                AciWebservice.deploy_configuration(cpu_cores=cpu_cores),
                                deployment_target="process", overwrite=True)
    service.wait_for_deployment(show_output=False)
    handle = ws.registry.get("services", name=name)["handle"]
    image = service.image

    def stop() -> None:
        service.delete()
        if image is not None:
            image.delete()

    return Server(label, int(handle["port"]), "/score", bodies, stop_hook=stop, pgid=int(handle["pid"]))


def start_all(assets: ModelAssets) -> list[Server]:
    """The five servers (all stopped again if one fails)."""
    bodies = {n: score_body(assets.X_test, n) for n in SIZES}
    starters = [
        lambda: start_variant(assets, bodies, ACI),
        lambda: start_variant(assets, bodies, FAST, FAST_SCORE_PY, ("inference-schema",)),
        lambda: start_variant(assets, bodies, TWO, cpu_cores=2),
        lambda: start_azmlinfsrv(assets, bodies),
        lambda: start_mlflow(assets, {n: mlflow_body(assets.X_test, n) for n in SIZES}),
    ]
    servers: list[Server] = []
    try:
        for start in starters:
            servers.append(start())
            say(f"[issue6] {servers[-1].name} up on 127.0.0.1:{servers[-1].port}")
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


def scaling(runs: list[Run]) -> list[str]:
    """1 -> 2 workers: the median of the per-round ratios of the stock deployments."""
    out = []
    for n in SIZES:
        one = {r.round: r for r in runs if r.server == ACI and r.samples == n}
        two = {r.round: r for r in runs if r.server == TWO and r.samples == n}
        ratios = [two[k].rps / one[k].rps for k in one if k in two]
        cpu = [two[k].core_share for k in two]
        if ratios:
            out.append(f"- {n} digit(s)/request: 2 workers / 1 worker = {statistics.median(ratios):.2f}x req/s "
                       f"(rounds {min(ratios):.2f}x-{max(ratios):.2f}x); the 2-worker server used "
                       f"{statistics.median(cpu):.0%} of a core")
    return out


def goals(rows: list[dict[str, Any]]) -> list[str]:
    """Issue 6's goals against this run."""
    row = {(r["server"], r["samples"]): r for r in rows}

    def check(name: str, n: int, want: float) -> str:
        r = row.get((name, n))
        if r is None or r["ratio"] is None:
            return f"- {name}, {n} digit(s): not measured"
        ok = r["ratio"] >= want
        return (f"- {name} >= {want:g}x azmlinfsrv at {n} digit(s): {r['ratio']:.2f}x "
                f"({'holds' if ok else 'MISSED'})")

    out = ["Goals (issue 6):", check(ACI, 1, 2.8)]
    r = row.get((ACI, 1))
    if r is not None and r["p99_ratio"] is not None:
        out.append(f"- stock p99 no worse than azmlinfsrv at 1 digit: {r['p99_ms']:.2f} ms, {r['p99_ratio']:.2f}x "
                   f"({'holds' if r['p99_ratio'] <= 1 else 'MISSED'})")
    out += [check(FAST, 1, 4.5), check(FAST, 100, 5)]
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=int, default=8, help="per wrk run (wrk takes whole seconds)")
    p.add_argument("--warmup", type=int, default=15, help="seconds of load per server and size before round 1")
    p.add_argument("--connections", type=int, default=8)
    return p.parse_args(argv)


def run(argv: list[str] | None = None) -> str:
    """Start the five servers, measure, stop them; return the printed table."""
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    assets = prepare_model()
    servers = start_all(assets)
    load_before = load_average()
    try:
        runs = measure(servers, assets, args.rounds, args.seconds, args.warmup, args.connections)
    finally:
        for server in servers:
            server.stop()
        stop_prewarmed(BENCH / "aci_home")
    rows = summarize(runs, NAMES)
    table = format_table(rows, None, args.rounds, args.seconds, args.connections, load_before)
    table = table.replace("Scoring, one worker each,", "Scoring, one worker each unless named,", 1)
    table += "\n\nThroughput from 1 to 2 workers (stock score.py; wrk -t1 shares the same 2 cores, so the 2 workers " \
             "never have two whole cores):\n\n" + "\n".join(scaling(runs))
    table += "\n\n" + "\n".join(goals(rows))
    save_results("issue6", {"rows": rows, "runs": [vars(r) for r in runs], "table": table})
    return table


def main(argv: list[str] | None = None) -> int:
    """Print the tables."""
    print(run(argv), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
