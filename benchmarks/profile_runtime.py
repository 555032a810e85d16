"""Where the aci_widgets scoring server's time goes under load: py-spy samples of the deployed runtime.

Deploys the stock score.py on the process target (as bench_scoring.py does), keeps it busy with wrk at one body
size, and samples it with py-spy (``--nonblocking``, so sampling does not slow it). Prints the share of samples per
stage and the heaviest frames. Samples of a thread that is runnable but waiting for a CPU land in whatever it was
doing, so on a loaded machine compare the printed CPU time per request as well.

    python benchmarks/profile_runtime.py [--samples 1] [--seconds 10]     # installs py-spy into .bench/venvs/tools
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench_scoring import lua_script, start_aci
from common import BENCH, load_average, machine_line, prepare_model, say, score_body, stop_prewarmed

# Stage -> a frame that marks it (first match in this order wins for a sample).
STAGES = (
    ("socket send (transport.write)", "_SelectorSocketTransport.write"),
    ("run(): json.loads", "loads (json/__init__.py)"),
    ("run(): model.predict", "LinearClassifierMixin.predict"),
    ("run(): rest (np.array, tolist)", "run (score.py)"),
    ("handler: json.dumps of the result", "dumps (json/__init__.py)"),
    ("HTTP parsing and the protocol", "HttpProtocol.data_received"),
    ("socket read", "_SelectorSocketTransport._read_ready"),
    ("event loop (select and scheduling)", "BaseEventLoop._run_once"),
)


def py_spy() -> Path:
    """py-spy from .bench/venvs/tools (installed there on first use)."""
    tool = BENCH / "venvs" / "tools" / "bin" / "py-spy"
    if not tool.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(tool.parent.parent)], check=True)
        subprocess.run([str(tool.parent / "pip"), "install", "-q", "--disable-pip-version-check", "py-spy"],
                       check=True)
    return tool


def collapse(frame: str) -> str:
    """``func (file.py:12)`` -> ``func (file.py)``, with site-packages paths shortened."""
    frame = re.sub(r":\d+\)$", ")", frame)
    return re.sub(r"\(.*?(site-packages|lib/python3\.\d+)/", "(", frame)


def analyse(raw: Path, top: int) -> str:
    """Share of samples per stage, and the heaviest frames, from py-spy's raw (collapsed) output."""
    stages: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = [collapse(f) for f in stack.split(";")]
        for name, marker in STAGES:
            if any(f.startswith(marker) or marker in f for f in frames):
                stages[name] += n
                break
        else:
            stages["other"] += n
        for f in set(frames):
            inclusive[f] += n
        own[frames[-1]] += n
    if not total:
        return "py-spy recorded no samples"
    out = [f"{total} samples", "", "| stage | share of samples |", "|---|---|"]
    out += [f"| {name} | {stages[name] / total:.1%} |" for name, _ in (*STAGES, ("other", ""))
            if stages[name]]
    out += ["", "Frames with the most samples of their own (own / inclusive):"]
    out += [f"  {n / total:6.1%} / {inclusive[f] / total:6.1%}  {f}" for f, n in own.most_common(top)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Deploy, load, sample, print."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=1, help="digits per request")
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    p.add_argument("--top", type=int, default=20)
    args = p.parse_args(argv)
    tool = py_spy()
    assets = prepare_model()
    server = start_aci(assets, {args.samples: score_body(assets.X_test, args.samples)})
    raw = BENCH / "work" / f"py-spy-{args.samples}.txt"
    try:
        load = subprocess.Popen(["wrk", "-t1", "-c8", f"-d{args.seconds + 4}s", "-s",
                                 str(lua_script(server, args.samples)), f"http://127.0.0.1:{server.port}/score"],
                                stdout=subprocess.PIPE, text=True)
        time.sleep(2)
        user0, sys0 = server.cpu_seconds()
        say(f"[profile] sampling pid {server.pgid} for {args.seconds} s")
        subprocess.run([str(tool), "record", "--pid", str(server.pgid), "--duration", str(args.seconds),
                        "--rate", str(args.rate), "--nonblocking", "--format", "raw", "-o", str(raw)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        user1, sys1 = server.cpu_seconds()
        out, _ = load.communicate(timeout=60)
    finally:
        server.stop()
        stop_prewarmed(BENCH / "aci_home")
    match = re.search(r"requests=(\d+) duration_us=(\d+)", out)
    rps = int(match.group(1)) * 1e6 / int(match.group(2)) if match else 0.0
    print(f"Profile of the aci_widgets runtime, {args.samples} sample(s)/request, wrk -t1 -c8, {machine_line()}, "
          f"load average {load_average()}")
    print(f"{rps:,.0f} req/s; server CPU {user1 - user0:.2f} s user + {sys1 - sys0:.2f} s system in "
          f"{args.seconds} s ({(user1 - user0 + sys1 - sys0) / args.seconds:.0%} of a core)")
    print(analyse(raw, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
