"""Latency of a normal request while clients stall (issue 6, item 5: "still answered within 100 ms").

    python benchmarks/bench_slow_clients.py [--rounds 5] [--requests 20] [--stalled 50]

One ``python -m aci_widgets.runtime`` per round serving a tiny numpy model (y = x @ W). Each round times
``--requests`` normal requests (connect, POST /score, full answer; a fresh connection each) twice, interleaved:
with no other client, then with ``--stalled`` connections that each sent half a request (half of them half a
head, half of them half a body) and stay silent. Prints the medians of the rounds' medians and their range.
The test ``tests/runtime/test_runtime_slow_clients.py`` checks the behaviour (answered while others stall); the
figure lives here because tests never assert on time. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

import numpy as np
from common import BENCH, REPO, load_average, machine_line, save_results, say, tree_state

WORK = BENCH / "slow-clients"
SCORE = """\
import json
import os

import numpy as np

W = None


def init():
    global W
    W = np.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "weights.npy"))  # one model: its own folder


def run(raw_data):
    return (np.array(json.loads(raw_data)["data"]) @ W).tolist()
"""
BODY = b'{"data": [[1, 0, 0]]}'
REQUEST = b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
HALF_HEAD = b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/js"
HALF_BODY = b'POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 21\r\n\r\n{"data": [[1, '


def start_server() -> tuple[subprocess.Popen[bytes], int]:
    """The runtime on a free port, with header/body timeouts longer than a round (stalled stays stalled)."""
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "score.py").write_text(SCORE)
    weights = WORK / "models" / "linear" / "1"
    weights.mkdir(parents=True, exist_ok=True)
    np.save(weights / "weights.npy", np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    ready = WORK / "ready.json"
    ready.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("ACI_WIDGETS_AUTH_KEYS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "aci_widgets.runtime", "--score", str(WORK / "score.py"), "--model-dir",
         str(WORK / "models"), "--ready-file", str(ready), "--header-timeout", "600", "--body-timeout", "600"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=open(WORK / "server.log", "wb"),  # noqa: SIM115
    )
    give_up = time.monotonic() + 60
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > give_up:
            proc.kill()
            raise RuntimeError(f"the runtime did not start: {(WORK / 'server.log').read_text()}")
        time.sleep(0.01)
    return proc, json.loads(ready.read_text())["port"]


def one_request(port: int) -> float:
    """Seconds from connect to the whole answer of one POST /score on a fresh connection."""
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(REQUEST)
        answer = b""
        while not answer.endswith(b"[[1.0, 2.0]]"):
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError(f"connection closed early: {answer!r}")
            answer += chunk
    return time.perf_counter() - start


def one_round(requests: int, stalled: int) -> tuple[float, float]:
    """Median seconds per request without, then with, ``stalled`` stalled clients, on a fresh server."""
    proc, port = start_server()
    clients: list[socket.socket] = []
    try:
        one_request(port)  # warm-up
        alone = statistics.median(one_request(port) for _ in range(requests))
        for i in range(stalled):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(HALF_HEAD if i % 2 else HALF_BODY)
            clients.append(sock)
        time.sleep(0.5)  # the server reads the half requests (a benchmark's settling time, not a test's sync)
        beside = statistics.median(one_request(port) for _ in range(requests))
        return alone, beside
    finally:
        for sock in clients:
            sock.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--requests", type=int, default=20, help="timed requests per round and condition")
    p.add_argument("--stalled", type=int, default=50)
    args = p.parse_args()
    header = f"{machine_line()}; 1-min load average {load_average()} before"
    alone, beside = [], []
    for r in range(args.rounds):
        say(f"round {r + 1}/{args.rounds}")
        a, b = one_round(args.requests, args.stalled)
        alone.append(a)
        beside.append(b)

    def fig(values: list[float]) -> str:
        """Median of the rounds' medians in ms, with the range."""
        ms = [v * 1000 for v in values]
        return f"{statistics.median(ms):.2f} ms [{min(ms):.2f}-{max(ms):.2f}]"

    print(f"Normal request latency (connect + POST /score + answer), {args.rounds} rounds x {args.requests} requests"
          f" per condition, medians of the rounds' medians [range]; {header}, {load_average()} after;"
          f" aci_widgets {tree_state()}")
    print(f"- no other client:           {fig(alone)}")
    print(f"- beside {args.stalled} stalled clients: {fig(beside)} (issue 6 goal: under 100 ms)")
    save_results("slow_clients", {"rounds": args.rounds, "requests": args.requests, "stalled": args.stalled,
                                  "alone_s": alone, "beside_stalled_s": beside})
    return 0


if __name__ == "__main__":
    sys.exit(main())
