"""Slow and hostile clients (issue 6, item 5): stalled clients cost the others nothing, an endless body is cut off
at the configured limit without the server's memory growing with it, and that limit comes from the deployment."""

from __future__ import annotations

import json
import os
import select
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from runtime_harness import NUMPY_SCORE, RawClient, StartServer

MIB = 1024 * 1024


def _server_connections(pid: int, port: int) -> list[int]:
    """The receive-queue length of each connection that process ``pid`` has accepted on ``port``.

    From /proc: the sockets among the process's open files, matched by inode against /proc/<pid>/net/tcp. A
    connection shows up here once the server has accepted it, and its queue is 0 once the server has read what
    the client sent.
    """
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    queues = []
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()  # sl local rem st tx_queue:rx_queue tr:when retrnsmt uid timeout inode ...
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == "01" and fields[9] in inodes:  # 01: ESTABLISHED
            queues.append(int(fields[4].split(":")[1], 16))
    return queues


def _serving_pid(ready: dict) -> int:
    """The process that serves the requests: the (first) worker under a supervisor, else the server itself."""
    return int(ready.get("worker_pids", [ready["pid"]])[0])


def _wait_until_read(server: Any, count: int) -> None:
    """Wait (bounded) until the server has accepted exactly ``count`` connections and read all they sent."""
    give_up = time.monotonic() + WAIT_BOUND
    while True:
        queues = _server_connections(_serving_pid(server.ready), server.port)
        if len(queues) == count and not any(queues):
            return
        assert server.proc.poll() is None, server.stderr()
        assert time.monotonic() < give_up, f"the server holds {len(queues)} connection(s), unread bytes {queues}"
        time.sleep(0.005)


WAIT_BOUND = 30.0  # a bound for a broken server, not a speed goal
needs_proc_net = pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="reads /proc/<pid>/net (Linux)")


@needs_proc_net
def test_normal_requests_are_answered_while_50_clients_stall(start_server: StartServer, model_dir: Path) -> None:
    """50 connections each send half a request and stall; 5 normal requests (connect, POST /score, answer) follow
    once the server has read every half request, and each is answered while the 50 stay unanswered.

    A server that waited on a stalled client would leave the normal request unanswered until the client's socket
    timeout. How fast the answers come is a figure of ``benchmarks/bench_slow_clients.py``, not a test.
    """
    # Timeouts far beyond the test's span: the stalled clients stay stalled, not cut off, however slow the machine.
    server = start_server(NUMPY_SCORE, "--header-timeout", "600", "--body-timeout", "600", model_dir=model_dir)
    stalled = []
    for i in range(50):
        c = server.client()
        if i % 2:
            c.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/js")  # half a head
        else:
            c.send(b'POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 21\r\n\r\n{"data": [[1, ')  # half body
        stalled.append(c)
    _wait_until_read(server, 50)
    for _ in range(5):
        with RawClient(server.port) as c:
            c.request("POST", "/score", b'{"data": [[1, 0, 0]]}')
            status, _, body = c.read_response()
        assert (status, json.loads(body)) == (200, [[1.0, 2.0]])
    assert select.select([c.sock for c in stalled], [], [], 0)[0] == [], "a stalled client got an answer"
    assert server.proc.poll() is None
    stalled[0].send(b"0, 0]]}")  # a stalled client that finally finishes is still served
    assert stalled[0].read_response()[::2] == (200, b"[[1.0, 2.0]]")


def _status_kib(pid: int, key: str) -> int:
    """``VmRSS`` / ``VmHWM`` of ``pid`` in KiB, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {key} in /proc/{pid}/status")


def _reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so the peak measures this test alone; False if refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/<pid>/status (Linux)")
def test_endless_chunked_body_gets_413_and_memory_stays_bounded(start_server: StartServer, model_dir: Path) -> None:
    limit = 2 * MIB
    flood = 32 * MIB  # what the client sends in all, if the server lets it: 16x the limit
    server = start_server(NUMPY_SCORE, "--max-body-bytes", str(limit), model_dir=model_dir)
    pid = _serving_pid(server.ready)
    assert server.score({"data": [[1, 1, 1]]})[0] == 200  # lazy start-up allocations happen before measuring
    peak_reset = _reset_peak(pid)
    rss_before, peak_before = _status_kib(pid, "VmRSS"), _status_kib(pid, "VmHWM")

    piece = 16 * 1024
    chunk = b"%x\r\n%s\r\n" % (piece, b"x" * piece)
    c = server.client()
    c.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")  # and never a last chunk
    sent, answer, sent_at_answer = 0, None, 0
    try:
        while sent < flood:
            c.sock.sendall(chunk)
            sent += piece
            if answer is None:
                if select.select([c.sock], [], [], 0)[0]:
                    answer, sent_at_answer = c.read_response(), sent
                else:
                    time.sleep(0.001)  # behaviour under test: trickle until the server answers, then flood
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server stopped draining (linger timeout) and closed: also a bound
    if answer is None:
        answer, sent_at_answer = c.read_response(), sent
    rss_after, peak_after = _status_kib(pid, "VmRSS"), _status_kib(pid, "VmHWM")
    c.close()

    status, headers, body = answer
    assert (status, headers["connection"]) == (413, "close")
    assert str(limit) in json.loads(body)["error"]
    assert sent_at_answer > limit
    grew_mib = (rss_after - rss_before) / 1024
    peak_mib = (peak_after - (rss_before if peak_reset else peak_before)) / 1024
    print(f"\nsent {sent / MIB:.1f} MiB (413 after {sent_at_answer / MIB:.1f} MiB); server RSS {rss_before / 1024:.1f}"
          f" -> {rss_after / 1024:.1f} MiB, peak +{peak_mib:.1f} MiB (peak reset: {peak_reset})")
    assert grew_mib < 8, f"RSS grew by {grew_mib:.1f} MiB for a body limited to {limit // MIB} MiB"
    assert peak_mib < 8, f"peak RSS grew by {peak_mib:.1f} MiB for a body limited to {limit // MIB} MiB"
    assert server.score({"data": [[1, 0, 0]]})[::2] == (200, b"[[1.0, 2.0]]")


def test_max_request_mb_of_the_deploy_configuration_reaches_the_runtime(ws, numpy_model: Path) -> None:
    """End to end through the core on the process target: AciWebservice.deploy_configuration(max_request_mb=...)
    becomes the server's --max-body-bytes."""
    from aci_widgets.core import AciWebservice, ContainerImage, Webservice, WebserviceException

    image_config = ContainerImage.image_configuration(
        execution_script="score.py", runtime="python", conda_file="myenv.yml"
    )
    aci = AciWebservice.deploy_configuration(max_request_mb=0.01)
    service = Webservice.deploy(ws, "small-bodies", ["weights.npy"], image_config, aci)
    service.wait_for_deployment()
    assert service.state == "Healthy", service.get_logs()
    limit = int(0.01 * MIB)  # 10485 bytes

    under = json.dumps({"data": [[1, 1, 1]] * 500})
    over = json.dumps({"data": [[1, 1, 1]] * 1500})
    assert len(under) < limit < len(over)
    assert service.run(under) == [6.0] * 500
    with pytest.raises(WebserviceException, match="413") as refused:
        service.run(over)
    assert f"({limit} bytes)" in str(refused.value)
    with socket.create_connection(("127.0.0.1", int(service.scoring_uri.split(":")[2].split("/")[0]))) as sock:
        # The refusal comes from Content-Length alone, before a byte of the body is sent.
        sock.sendall(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % (limit + 1))
        assert sock.recv(65536).startswith(b"HTTP/1.1 413 ")


# -- a body that trickles ------------------------------------------------------------------------------------------


def _send_slowly(c: RawClient, pieces: list[bytes], every: float, until: float) -> int:
    """Send ``pieces`` one per ``every`` seconds; stop early when an answer arrives. Returns the bytes sent."""
    sent = 0
    give_up = time.monotonic() + until
    for piece in pieces:
        if select.select([c.sock], [], [], every)[0] or time.monotonic() > give_up:
            break
        try:
            c.sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += len(piece)
    return sent


def test_a_trickled_body_is_cut_off_by_the_minimum_rate(start_server: StartServer, model_dir: Path) -> None:
    """A client that sends a byte every 20 ms is never silent for the body timeout; the minimum rate ends it."""
    server = start_server(NUMPY_SCORE, "--body-timeout", "0.5", "--min-body-rate", "200", model_dir=model_dir)
    with server.client() as c:
        c.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n")
        sent = _send_slowly(c, [b" "] * 1000, every=0.02, until=8.0)  # 50 bytes/s: 20 s for the whole body
        assert sent < 1000, "the server let a 50 bytes/s body run to its end"
        status, headers, body = c.read_response()
        assert (status, headers["connection"]) == (408, "close")
        assert "too slowly" in json.loads(body)["error"] and "200 bytes/s" in json.loads(body)["error"]
    assert server.score({"data": [[1, 0, 0]]})[::2] == (200, b"[[1.0, 2.0]]")


def test_a_slow_body_above_the_minimum_rate_outlives_the_body_timeout(
    start_server: StartServer, model_dir: Path
) -> None:
    """Four pieces 0.25 s apart (the pauses are the behaviour under test): never silent for the 0.3 s body
    timeout, ~1 s in all. A server that ended the body after 0.3 s in all would answer 408 before the last piece,
    and ``_send_slowly`` would stop short of the whole payload."""
    server = start_server(NUMPY_SCORE, "--body-timeout", "0.3", "--min-body-rate", "50", model_dir=model_dir)
    payload = json.dumps({"data": [[1, 0, 0]]}).encode().ljust(120)  # JSON allows the trailing blanks
    with server.client() as c:
        c.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % len(payload))
        pieces = [payload[i:i + 30] for i in range(0, len(payload), 30)]
        assert _send_slowly(c, pieces, every=0.25, until=10.0) == len(payload)  # ~120 bytes/s for ~1 s
        assert c.read_response()[::2] == (200, b"[[1.0, 2.0]]")


# -- too many connections ------------------------------------------------------------------------------------------


def _stall(server: Any) -> RawClient:
    c = server.client()
    c.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50\r\n\r\n{")
    return c


@needs_proc_net
def test_over_max_connections_a_new_client_gets_503_when_none_is_idle(
    start_server: StartServer, model_dir: Path
) -> None:
    server = start_server(NUMPY_SCORE, "--max-connections", "3", model_dir=model_dir)
    stalled = [_stall(server) for _ in range(3)]
    _wait_until_read(server, 3)
    with server.client() as c:
        status, headers, body = c.read_response()  # answered at once, before it sends anything
        assert (status, headers["connection"], headers["retry-after"]) == (503, "close", "1")
        assert "too many open connections (3)" in json.loads(body)["error"]
        assert c.read_until_closed() == b""
    stalled[0].send(b' "data": [[1, 0, 0]]}'.ljust(49))  # a stalled client that finishes is served
    assert stalled[0].read_response()[::2] == (200, b"[[1.0, 2.0]]")
    for c in stalled:
        c.close()
    _wait_until_read(server, 0)  # the server has seen the closes
    assert server.score({"data": [[1, 0, 0]]})[::2] == (200, b"[[1.0, 2.0]]")  # room again
    assert "connection(s) refused with 503" in server.stderr()


@needs_proc_net
def test_over_max_connections_the_longest_idle_connection_makes_room(
    start_server: StartServer, model_dir: Path
) -> None:
    server = start_server(NUMPY_SCORE, "--max-connections", "2", model_dir=model_dir)
    idle = server.client()
    idle.request("POST", "/score", b'{"data": [[1, 0, 0]]}')
    assert idle.read_response()[0] == 200  # and it stays open, idle (keep-alive)
    busy = _stall(server)
    _wait_until_read(server, 2)
    with server.client() as c:
        c.request("POST", "/score", b'{"data": [[1, 0, 0]]}')
        assert c.read_response()[::2] == (200, b"[[1.0, 2.0]]")
    assert idle.read_until_closed() == b""  # closed quietly, between two requests, as a keep-alive timeout does
    busy.send(b' "data": [[1, 0, 0]]}'.ljust(49))
    assert busy.read_response()[0] == 200  # the request under way was not touched
    idle.close()
    busy.close()
