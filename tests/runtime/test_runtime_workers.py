"""``--workers N``: N real worker processes behind one port, supervised (restart, graceful stop, start-up failure)."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest
from runtime_harness import RawClient, Server, StartServer, write_score

# Answers with the pid of the process that ran it; {"sleep": s, "marker": path} holds a request in run().
PID_SCORE = """\
import json
import os
import time


def init():
    pass


def run(raw_data):
    data = json.loads(raw_data)
    if "sleep" in data:
        with open(data["marker"], "w") as f:
            f.write("running")
        time.sleep(data["sleep"])
    return os.getpid()
"""
BOUND = 60.0  # seconds: a bound for something broken, not a speed goal


def _alive(pid: int) -> bool:
    """Alive and not a zombie (a worker is its supervisor's child, not ours: no waitpid here)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _ppid(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _answer(server: Server) -> int:
    status, _, body = server.score({})
    assert status == 200, body
    return json.loads(body)


def _wait(condition, what: str) -> None:
    give_up = time.monotonic() + BOUND
    while not condition():
        assert time.monotonic() < give_up, f"never happened: {what}"
        time.sleep(0.02)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pid_score(tmp_path: Path) -> Path:
    return write_score(tmp_path / "app", PID_SCORE)


def test_two_workers_behind_one_port_answer_from_two_pids(start_server: StartServer, pid_score: Path) -> None:
    server = start_server(pid_score, "--workers", "2")
    ready = server.ready
    assert ready["status"] == "ready"
    assert ready["workers"] == 2
    assert ready["pid"] == server.proc.pid  # the supervisor: what a target stops
    workers = ready["worker_pids"]
    assert len(set(workers)) == 2 and server.proc.pid not in workers
    assert all(_ppid(pid) == server.proc.pid for pid in workers)
    seen: set[int] = set()
    for _ in range(200):  # new connections spread over both workers' sockets
        seen.add(_answer(server))
        if seen == set(workers):
            break
    assert seen == set(workers)
    with server.client() as keep_alive:  # one keep-alive connection stays with one worker
        answers = set()
        for _ in range(5):
            keep_alive.request("POST", "/score", b"{}")
            answers.add(json.loads(keep_alive.read_response()[2]))
        assert len(answers) == 1 and answers <= set(workers)
    assert f"2 workers: {workers[0]}, {workers[1]}" in server.stderr()


def test_one_worker_runs_under_a_supervisor_too(start_server: StartServer, pid_score: Path) -> None:
    server = start_server(pid_score, "--workers", "1")
    assert server.ready["pid"] == server.proc.pid  # the supervisor: what a target stops
    (worker,) = server.ready["worker_pids"]
    assert _answer(server) == worker and _ppid(worker) == server.proc.pid


def test_a_killed_worker_is_replaced_and_the_service_keeps_answering(start_server: StartServer,
                                                                     pid_score: Path) -> None:
    server = start_server(pid_score, "--workers", "2")
    victim, survivor = server.ready["worker_pids"]
    os.kill(victim, signal.SIGKILL)

    def replaced() -> bool:
        pids = json.loads(server.ready_file.read_text())["worker_pids"]
        return victim not in pids and all(_alive(pid) for pid in pids)

    _wait(replaced, "the killed worker replaced in the ready file")
    replacement = next(p for p in json.loads(server.ready_file.read_text())["worker_pids"] if p != survivor)
    assert _ppid(replacement) == server.proc.pid
    seen = set()
    for _ in range(200):
        seen.add(_answer(server))  # every request is answered, none by the dead worker
        if seen == {survivor, replacement}:
            break
    assert seen == {survivor, replacement}
    log = server.stderr()
    assert f"worker 0 (pid {victim}) was killed by SIGKILL; restarting it" in log
    assert f"worker 0 ready again (pid {replacement})" in log
    assert server.proc.poll() is None


def test_sigterm_finishes_the_request_in_flight_then_stops_every_worker(start_server: StartServer,
                                                                        pid_score: Path, tmp_path: Path) -> None:
    server = start_server(pid_score, "--workers", "2")
    workers = server.ready["worker_pids"]
    marker = tmp_path / "marker"
    client = server.client()
    client.request("POST", "/score", json.dumps({"sleep": 1.0, "marker": str(marker)}).encode())
    _wait(marker.exists, "run() started")
    server.proc.send_signal(signal.SIGTERM)
    status, _, body = client.read_response()  # answered although the stop began while run() was running
    assert status == 200 and json.loads(body) in workers
    assert server.proc.wait(BOUND) == 0
    _wait(lambda: not any(_alive(pid) for pid in workers), "every worker gone")
    assert "stopped" in server.stderr()
    with pytest.raises(ConnectionRefusedError):
        RawClient(server.port, timeout=5)


def test_init_failure_in_a_worker_fails_the_whole_server(start_server: StartServer, tmp_path: Path) -> None:
    score = write_score(tmp_path / "broken", "def init():\n    raise RuntimeError('no model here')\n\n\n"
                                             "def run(raw_data):\n    return 1\n")
    port = _free_port()
    server = start_server(score, "--workers", "2", "--port", str(port))
    assert server.proc.wait(BOUND) == 3
    ready = server.ready
    assert ready["status"] == "failed"
    assert ready["error"] == "RuntimeError: no model here"
    assert "raise RuntimeError('no model here')" in ready["traceback"]
    with pytest.raises(ConnectionRefusedError):  # no worker was left holding the port
        RawClient(port, timeout=5)


def test_workers_stop_when_their_supervisor_is_killed(start_server: StartServer, pid_score: Path) -> None:
    server = start_server(pid_score, "--workers", "2")
    workers = server.ready["worker_pids"]
    server.proc.kill()
    server.proc.wait(BOUND)
    _wait(lambda: not any(_alive(pid) for pid in workers), "orphaned workers gone")


def test_a_fixed_port_already_served_is_refused(start_server: StartServer, pid_score: Path, tmp_path: Path) -> None:
    first = start_server(pid_score, "--workers", "2")
    # SO_REUSEPORT would let a second server join the first one's port and silently take half its connections.
    second = start_server(pid_score, "--workers", "2", "--port", str(first.port))
    assert second.proc.wait(BOUND) == 4
    assert second.ready["status"] == "failed"
    assert "already in use" in second.ready["error"]
    assert {_answer(first) for _ in range(20)} <= set(first.ready["worker_pids"])
