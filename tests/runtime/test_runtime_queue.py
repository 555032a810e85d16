"""The queue of complete requests (issue 12, item 6): one run() per event-loop turn, in the order requests
completed; a connection with a request in the queue is not read until that request is answered, so a client that
pipelines gets its share and no more; answers still go out in each connection's own order.

score.py writes each request's id to a file when run() starts and, given a gate file, holds the event loop until
the test removes it: what the server does meanwhile is decided by what it had read, not by timing.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from runtime_harness import RawClient, Server, StartServer, write_score

WAIT_BOUND = 30.0  # a bound for a broken server, not a speed goal

GATED_SCORE = """\
import json
import os
import time


def init():
    pass


def run(raw_data):
    request = json.loads(raw_data)
    with open(os.environ["ORDER_FILE"], "a") as order:
        order.write(f"{request['id']}\\n")
    gate = request.get("gate")
    while gate and os.path.exists(gate):
        time.sleep(0.005)
    return request["id"]
"""


def _post(ident: int, gate: Path | None = None, close: bool = False) -> bytes:
    body = json.dumps({"id": ident, "gate": str(gate) if gate else None}).encode()
    connection = b"Connection: close\r\n" if close else b""
    return (b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + connection +
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def _order(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def _wait_for_run(path: Path, ident: int, server: Server) -> None:
    give_up = time.monotonic() + WAIT_BOUND
    while ident not in _order(path):
        assert server.proc.poll() is None, server.stderr()
        assert time.monotonic() < give_up, f"run() never started request {ident}: {_order(path)}"
        time.sleep(0.005)


def _start(start_server: StartServer, tmp_path: Path) -> tuple[Server, Path]:
    order = tmp_path / "order.txt"
    server = start_server(write_score(tmp_path / "score", GATED_SCORE), env={"ORDER_FILE": str(order)})
    assert server.ready.get("status") == "ready", server.stderr()
    return server, order


def test_a_pipelining_client_waits_its_turn(start_server: StartServer, tmp_path: Path) -> None:
    """A's second request arrives before B's, but A is not read again until its first is answered: B goes first."""
    server, order = _start(start_server, tmp_path)
    gate = tmp_path / "gate"
    gate.touch()
    with server.client() as a, server.client() as b:
        b.request("GET", "/")  # B is accepted and read by the event loop before run() holds it
        assert b.read_response()[0] == 200
        a.send(_post(1, gate))
        _wait_for_run(order, 1, server)  # the loop is held: what follows waits in the sockets
        a.send(_post(2))
        b.send(_post(3))
        gate.unlink()
        assert [a.read_response()[2] for _ in range(2)] == [b"1", b"2"]
        assert b.read_response()[2] == b"3"
    assert _order(order) == [1, 3, 2]


def test_requests_complete_on_other_connections_wait_in_order(start_server: StartServer, tmp_path: Path) -> None:
    """Requests that completed while run() was busy are run in the order they were read, one per turn."""
    server, order = _start(start_server, tmp_path)
    gate = tmp_path / "gate"
    gate.touch()
    clients = [server.client() for _ in range(4)]
    try:
        for client in clients[1:]:
            client.request("GET", "/health")
            assert client.read_response()[0] == 200
        clients[0].send(_post(0, gate))
        _wait_for_run(order, 0, server)
        for ident, client in enumerate(clients[1:], start=1):
            client.send(_post(ident))
        gate.unlink()
        assert [c.read_response()[2] for c in clients] == [b"0", b"1", b"2", b"3"]
    finally:
        for client in clients:
            client.close()
    assert _order(order) == [0, 1, 2, 3]


def test_a_half_closed_client_gets_every_answer(start_server: StartServer, tmp_path: Path) -> None:
    """A client that sends its requests and shuts down its side still reads the answers of all of them."""
    server, _ = _start(start_server, tmp_path)
    with RawClient(server.port) as c:
        c.send(_post(1) + _post(2) + b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        c.sock.shutdown(socket.SHUT_WR)
        answers = [c.read_response() for _ in range(3)]
        assert c.read_until_closed() == b""
    assert [(status, body) for status, _, body in answers] == [(200, b"1"), (200, b"2"), (200, b"Healthy")]


def test_connection_close_behind_a_queued_request(start_server: StartServer, tmp_path: Path) -> None:
    """A cheap request pipelined behind a queued one is answered after it; input after its "close" is ignored."""
    server, order = _start(start_server, tmp_path)
    with server.client() as c:
        c.send(_post(1) + b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" + _post(2))
        first, second = c.read_response(), c.read_response()
        assert c.read_until_closed() == b""
    assert (first[0], first[2]) == (200, b"1")
    assert (second[0], second[1]["connection"], second[2]) == (200, "close", b"Healthy")
    assert _order(order) == [1]


def test_a_queued_request_with_connection_close(start_server: StartServer, tmp_path: Path) -> None:
    server, order = _start(start_server, tmp_path)
    with server.client() as c:
        c.send(_post(1, close=True) + _post(2))
        status, headers, body = c.read_response()
        assert c.read_until_closed() == b""
    assert (status, headers["connection"], body) == (200, "close", b"1")
    assert _order(order) == [1]
