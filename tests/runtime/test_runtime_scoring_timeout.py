"""A slow or dying run() harms only its own request: health answers meanwhile, the scoring timeout, restarts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from runtime_harness import RawClient, Server, StartServer, write_score

WAIT = 30.0  # a bound for something that should happen, not a speed goal

# {"hold": marker, "release": path}: run() says it started, then waits for the test's release file.
# {"sleep": s, "marker": path}: run() says it started, then sleeps. {"exit": n}: os._exit(n). Else: the pid.
SCORE = '''
import json, os, time

def init():
    pass

def run(raw):
    d = json.loads(raw)
    if "marker" in d:
        open(d["marker"], "w").close()
    if "release" in d:
        give_up = time.monotonic() + 60
        while not os.path.exists(d["release"]) and time.monotonic() < give_up:
            time.sleep(0.01)
    if "sleep" in d:
        time.sleep(d["sleep"])
    if "exit" in d:
        os._exit(d["exit"])
    return os.getpid()
'''


def _until(condition: Callable[[], object], what: str) -> object:
    give_up = time.monotonic() + WAIT
    while time.monotonic() < give_up:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def score(tmp_path: Path) -> Path:
    return write_score(tmp_path / "app", SCORE)


def _post(client: RawClient, payload: dict) -> None:
    client.request("POST", "/score", json.dumps(payload).encode())


def _pid_answer(server: Server) -> int | None:
    try:
        status, _, body = server.score({})
    except OSError:
        return None  # the worker is being replaced: connections wait in the queue or are reset
    return json.loads(body) if status == 200 else None


def _ready_after(server: Server, dead: int) -> dict | None:
    """The ready file once the supervisor has rewritten it for the worker that replaced ``dead``."""
    ready = json.loads(server.ready_file.read_text())
    return ready if ready.get("last_exit", {}).get("pid") == dead else None


@pytest.mark.parametrize("workers", ["1", "2"])
def test_health_is_answered_while_run_is_blocked(start_server: StartServer, score: Path, tmp_path: Path,
                                                 workers: str) -> None:
    server = start_server(score, "--workers", workers)
    marker, release = tmp_path / "started", tmp_path / "release"
    # Every worker busy: blocking requests on connections of their own until as many run() calls have started as
    # there are workers (the kernel spreads connections over the workers; the extra ones wait their turn).
    blocked = [server.client() for _ in range(1 if workers == "1" else 8)]
    for i, client in enumerate(blocked):
        _post(client, {"marker": str(marker.with_suffix(f".{i}")), "release": str(release)})
    _until(lambda: len(list(tmp_path.glob("started.*"))) == int(workers), "run() to start in every worker")
    for _ in range(5):  # health checks on new connections, each answered while run() holds its worker
        status, headers, body = server.call("GET", "/")
        assert (status, body) == (200, b"Healthy")
        assert headers["connection"] == "close"
    waiting = server.client()
    _post(waiting, {})  # a scoring request that arrives meanwhile is served once run() returns
    release.touch()
    for client in blocked:
        status, _, _ = client.read_response()
        assert status == 200
    status, _, body = waiting.read_response()
    assert status == 200 and json.loads(body) in server.ready["worker_pids"]


def test_run_over_the_scoring_timeout_gets_504_and_its_worker_is_replaced(start_server: StartServer, score: Path,
                                                                          tmp_path: Path) -> None:
    server = start_server(score, "--scoring-timeout-ms", "300")
    (first,) = server.ready["worker_pids"]
    client = server.client()
    _post(client, {"sleep": 600})
    status, headers, body = client.read_response()
    assert status == 504
    assert "scoring timeout (scoring_timeout_ms=300)" in json.loads(body)["error"]
    assert headers["connection"] == "close"
    replacement = _until(lambda: _pid_answer(server), "the replacement worker to answer")
    assert replacement != first
    ready = _until(lambda: _ready_after(server, first), "the ready file to name the replacement")
    assert ready["worker_pids"] == [replacement]
    assert ready["last_exit"]["pid"] == first and ready["last_exit"]["status"] == 5
    log = server.stderr()
    assert "over scoring_timeout_ms=300: answered 504" in log
    assert f"worker 0 (pid {first}) exited with status 5 (its run() overran the scoring timeout)" in log
    status, _, _ = server.score({"sleep": 0.01})  # a run() within the timeout is untouched
    assert status == 200


def test_a_worker_that_exits_in_run_is_restarted_at_one_worker(start_server: StartServer, score: Path) -> None:
    server = start_server(score, "--workers", "1")
    (first,) = server.ready["worker_pids"]
    assert _pid_answer(server) == first
    with pytest.raises(ConnectionError):
        server.score({"exit": 7})  # its own request gets no answer...
    replacement = _until(lambda: _pid_answer(server), "the replacement worker to answer")  # ...and only it
    assert replacement != first
    assert f"worker 0 (pid {first}) exited with status 7; restarting it" in server.stderr()
    ready = _until(lambda: _ready_after(server, first), "the ready file to name the replacement")
    assert ready["worker_pids"] == [replacement] and ready["last_exit"]["status"] == 7
    assert server.stop() == 0
