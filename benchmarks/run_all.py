"""Run every benchmark the READMEs quote, in one command, and print one report (date, machine, commit, load, tables).

    python benchmarks/run_all.py --record   # the recorded run: also written to benchmarks/results/<date>-<commit>.md
    python benchmarks/run_all.py            # the same run, printed only
    python benchmarks/run_all.py --only docker,uv --record    # a subset (names below), e.g. after a change
    python benchmarks/run_all.py --quick    # smoke run: 1 round, shortest settings; not figures to quote

In order: scoring, deploy, issue6, docker, uv, aci, slow_clients, ray (bench_<name>.py). Each script runs in a
process of its own with its default settings (5 interleaved rounds, or 5 repeats; issue6 is given --rounds 5),
prints its own date, machine, commit and load, and saves its figures in .bench/results/<name>.json. Progress goes
to stderr; the report to stdout. A script that fails or cannot run (Docker, the stand-in's registry, Ray missing)
is reported in its section and the rest still run; the exit status is then 1. The recorded file is meant to be
committed: it is the run the README's figures quote.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import shlex
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from common import BENCH, load_average, machine, pins, setup_env, tree_state
from peers import PEER_REQUIREMENTS

HERE = Path(__file__).resolve().parent
RECORDS = HERE / "results"
GOAL_RATIO, GOAL_FIRST_ANSWER, GOAL_WARM = 3.0, 0.8, 2.0
QUICK_WRK = ["--rounds", "1", "--seconds", "1", "--warmup", "1"]
# name: (arguments of the recorded run, arguments of --quick)
SCRIPTS: dict[str, tuple[list[str], list[str]]] = {
    "scoring": ([], QUICK_WRK),
    "deploy": ([], ["--repeat", "1"]),
    "issue6": (["--rounds", "5"], QUICK_WRK),
    "docker": ([], ["--rounds", "1", "--seconds", "1"]),
    "uv": ([], ["--rounds", "1"]),
    "aci": ([], ["--rounds", "1"]),
    "slow_clients": ([], ["--rounds", "1", "--requests", "5", "--stalled", "10"]),
    "ray": ([], ["--quick"]),  # its own smoke settings
}


class Report:
    """Prints the report and keeps every line of it (for --record)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)


def _pump(stream: IO[str], sink: IO[str] | None, keep: collections.deque[str] | list[str]) -> None:
    """Copy a child's output line by line to ``sink`` (if any), keeping the lines (or the last ones)."""
    for line in stream:
        if sink is not None:
            sink.write(line)
            sink.flush()
        keep.append(line.rstrip("\n"))


def run_script(name: str, args: list[str]) -> tuple[int, str, list[str]]:
    """Run ``benchmarks/bench_<name>.py``: its exit status, its stdout (the figures), its last lines of stderr."""
    proc = subprocess.Popen([sys.executable, str(HERE / f"bench_{name}.py"), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out: list[str] = []
    err: collections.deque[str] = collections.deque(maxlen=15)
    assert proc.stdout is not None and proc.stderr is not None
    pumps = [threading.Thread(target=_pump, args=(proc.stdout, None, out)),
             threading.Thread(target=_pump, args=(proc.stderr, sys.stderr, err))]
    for t in pumps:
        t.start()
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()  # the script's own finally blocks stop its servers and containers
        proc.wait()
        raise
    for t in pumps:
        t.join()
    return code, "\n".join(out).strip(), list(err)


def skip_reason(name: str) -> str | None:
    """Why a script cannot be run here at all (only Ray's is optional: another extra of the package)."""
    if not (HERE / f"bench_{name}.py").is_file():
        return f"benchmarks/bench_{name}.py does not exist in this checkout"
    if name == "ray" and importlib.util.find_spec("ray") is None:
        return "Ray is not installed in this Python (pip install -e '.[ray]')"
    return None


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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; a user error says what to do."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 round, shortest settings: a smoke run, not figures")
    p.add_argument("--record", action="store_true",
                   help="also write the report to benchmarks/results/<UTC date>-<short commit>.md (commit it)")
    p.add_argument("--only", default="", help=f"comma-separated subset of: {','.join(SCRIPTS)}")
    args = p.parse_args(argv)
    args.names = [n.strip() for n in args.only.split(",") if n.strip()] or list(SCRIPTS)
    unknown = [n for n in args.names if n not in SCRIPTS]
    if unknown:
        p.error(f"--only: unknown {', '.join(unknown)}; choose among {', '.join(SCRIPTS)}")
    if args.quick and args.record:
        p.error("--record keeps figures to quote and --quick makes none: drop one of them")
    return args


def record_path(names: list[str], state: str) -> Path:
    """benchmarks/results/<UTC date>-<short commit>[-<subset>].md, for the commit measured (``state``)."""
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    commit = state.split()[0]
    subset = "" if names == list(SCRIPTS) else "-" + "-".join(names)
    return RECORDS / f"{date}-{commit}{subset}.md"


def main(argv: list[str] | None = None) -> int:
    """Run the scripts in order and print (and record) the report."""
    args = parse_args(argv)
    setup_env()
    state = tree_state()
    if args.record and "uncommitted" in state:
        print(f"run_all: warning: the work tree has {state.split(' + ', 1)[1]}; the record will say so",
              file=sys.stderr)
    report = Report()
    path = record_path(args.names, state)
    m = machine()
    started = time.monotonic()
    load_start = load_average()
    peers = ", ".join(r for reqs in PEER_REQUIREMENTS.values() for r in reqs)
    command = shlex.join(["python", "benchmarks/run_all.py", *(sys.argv[1:] if argv is None else argv)])
    report(f"# Benchmarks, run of {m['date']}\n")
    if args.quick:
        report("**QUICK RUN (1 round, shortest settings): a smoke test, not figures to quote.**\n")
    report(f"Command: `{command}`; aci_widgets {state}.  ")
    report(f"Machine: {m['nproc']} x {m['cpu']}, Python {m['python']}, {m['os']}; 1-min load average {load_start} "
           "at the start (each section gives its own before and after: other work on the machine skews absolute "
           "figures, the ratios come from interleaved rounds).  ")
    report(f"Model: sklearn LogisticRegression 784 -> 10 (the MNIST demo), stock score.py; every server's env pins "
           f"{', '.join(pins())}. Peers: {peers}.")
    failed: list[str] = []
    done: set[str] = set()
    for name in args.names:
        full, quick = SCRIPTS[name]
        script_args = quick if args.quick else full
        report(f"\n## bench_{name}.py\n")
        reason = skip_reason(name)
        if reason:
            report(f"Skipped: {reason}.")
            continue
        print(f"run_all: bench_{name}.py {' '.join(script_args)} (load {load_average()})", file=sys.stderr)
        began = time.monotonic()
        code, out, err = run_script(name, script_args)
        took = (time.monotonic() - began) / 60
        report(f"`{shlex.join(['python', f'benchmarks/bench_{name}.py', *script_args])}` ({took:.1f} min)\n")
        if out:
            report(out)
        if code == 0:
            done.add(name)
        else:
            failed.append(name)
            report(f"\n**bench_{name}.py exited with {code}**; the last lines of its stderr:\n\n```\n"
                   + "\n".join(err) + "\n```")
    if {"scoring", "deploy"} <= done:
        report("\n## Goals (issue 2)\n")
        report("\n".join(goals(results("scoring"), results("deploy"))))
    report(f"\nFinished {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, "
           f"{(time.monotonic() - started) / 60:.0f} min in all; 1-min load average {load_average()} at the end."
           + (f" Failed: {', '.join(failed)}." if failed else ""))
    if args.record:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(report.lines) + "\n")
        print(f"run_all: recorded in {path.relative_to(HERE.parent)}; commit it with the README figures it backs",
              file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
