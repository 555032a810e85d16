"""Run every benchmark and print one summary (date, machine, tables, goals) to paste into the README.

    python benchmarks/run_all.py            # ~12 min once the venvs exist (~8 min more to build them once)
    python benchmarks/run_all.py --quick    # 1 round x 3 s, 1 repeat: a smoke run, not figures to quote

Each script runs in a process of its own (each sets its own ACI_WIDGETS_HOME); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from common import BENCH, load_average, machine, pins, setup_env, tree_state
from peers import PEER_REQUIREMENTS

HERE = Path(__file__).resolve().parent
GOAL_RATIO, GOAL_FIRST_ANSWER, GOAL_WARM = 3.0, 0.8, 2.0


def run_script(name: str, args: list[str]) -> str:
    """Run ``benchmarks/<name>`` with ``args``; its stdout (the table)."""
    done = subprocess.run([sys.executable, str(HERE / name), *args], stdout=subprocess.PIPE, text=True,
                          check=True)
    return done.stdout.strip()


def results(name: str) -> dict[str, Any]:
    """The figures a script saved in .bench/results."""
    return json.loads((BENCH / "results" / f"{name}.json").read_text())


def goals(scoring: dict[str, Any], deploy: dict[str, Any]) -> list[str]:
    """The issue's targets against the figures just measured (printed, never asserted)."""
    lines = []
    rows = {(r["server"], r["samples"]): r for r in scoring["rows"]}
    one = rows.get(("aci_widgets", 1))
    if one and one["ratio"] is not None:
        runs = [r for r in scoring["runs"] if r["samples"] == 1]
        base = {r["round"]: r["rps"] for r in runs if r["server"] == "azmlinfsrv"}
        per_round = sorted(r["rps"] / base[r["round"]] for r in runs if r["server"] == "aci_widgets"
                           and r["round"] in base)
        lines.append(f"- 1-sample req/s >= {GOAL_RATIO:g}x azmlinfsrv, one worker: {one['ratio']:.2f}x "
                     f"({'holds' if one['ratio'] >= GOAL_RATIO else 'MISSED'}; rounds {per_round[0]:.2f}x-"
                     f"{per_round[-1]:.2f}x); per CPU-second {one['cpu_ratio']:.2f}x")
        lines.append(f"- p99 no worse than azmlinfsrv: {one['p99_ms']:.2f} ms vs "
                     f"{one['p99_ms'] / one['p99_ratio']:.2f} ms, {one['p99_ratio']:.2f}x "
                     f"({'holds' if one['p99_ratio'] <= 1.0 else 'MISSED'})")
    for label, values in (("cold `python -m aci_widgets.runtime`", [s["first_answer"] for s in deploy["first_answer"]]),
                          ("through the process target", deploy.get("via_target", []))):
        if values:
            med = statistics.median(values)
            lines.append(f"- start-up to first answer < {GOAL_FIRST_ANSWER:g} s, {label}: {med:.2f} s median "
                         f"({'holds' if med < GOAL_FIRST_ANSWER else 'MISSED'})")
    warm = [d["seconds"] for d in deploy["deploys"].get("warm", [])]
    if warm:
        med = statistics.median(warm)
        lines.append(f"- warm deploy < {GOAL_WARM:g} s: {med:.2f} s median "
                     f"({'holds' if med < GOAL_WARM else 'MISSED'})")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run both benchmarks and print the summary."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    setup_env()
    m = machine()
    load_start = load_average()
    scoring_args = ["--rounds", "1", "--seconds", "3", "--warmup", "1"] if args.quick else []
    deploy_args = ["--repeat", "1"] if args.quick else []
    scoring_table = run_script("bench_scoring.py", scoring_args)
    deploy_table = run_script("bench_deploy.py", deploy_args)
    peers = ", ".join(r for reqs in PEER_REQUIREMENTS.values() for r in reqs)
    print(f"## Benchmarks ({m['date']})\n")
    print(f"Machine: {m['nproc']} x {m['cpu']}, Python {m['python']}, {m['os']}; 1-min load average "
          f"{load_start} at start, {load_average()} at end (other work on the machine skews absolute figures; "
          f"the ratios come from interleaved rounds). aci_widgets: {tree_state()}.")
    print(f"Model: sklearn LogisticRegression 784 -> 10 (the MNIST demo), stock score.py; every server's env pins "
          f"{', '.join(pins())}. Peers: {peers}.{' QUICK RUN: not figures to quote.' if args.quick else ''}\n")
    print(scoring_table + "\n")
    print(deploy_table + "\n")
    print("Goals (issue 2):")
    print("\n".join(goals(results("scoring"), results("deploy"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
