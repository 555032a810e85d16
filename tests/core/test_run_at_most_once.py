"""Webservice.run() sends a POST at most once: it retries only when nothing was sent; its timeout is a parameter."""

from __future__ import annotations

import socket
import threading

import pytest

from aci_widgets.core.errors import WebserviceException
from aci_widgets.core.webservice import Webservice

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]"


class CountingServer:
    """A real socket server that counts the requests it reads, and answers them (or not) as told."""

    def __init__(self, answer: bool, close_after_answer: bool = False) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.answer, self.close_after_answer = answer, close_after_answer
        self.requests = 0
        self.read = threading.Event()
        self.closed = threading.Semaphore(0)  # released once per connection this server has closed
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        data = b""
        while True:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            while len(rest) < length:
                rest += conn.recv(65536)
            data = rest[length:]
            self.requests += 1
            self.read.set()
            if not self.answer:
                return  # keep the connection open, never answer
            conn.sendall(OK)
            if self.close_after_answer:
                conn.close()  # as a server does when its keep-alive time runs out
                self.closed.release()
                return

    def close(self) -> None:
        self.sock.close()
        for conn in self.conns:
            conn.close()


@pytest.fixture
def service_at(ws):
    def make(port: int) -> Webservice:
        ws.registry.upsert("services", {
            "name": "fake-svc", "state": "Healthy", "target": "process", "config": {}, "tags": {},
            "handle": {"scoring_uri": f"http://127.0.0.1:{port}/score", "pid": 1, "port": port,
                       "log": "/nonexistent/service.log"},
            "created": 0.0, "updated": 0.0})
        return Webservice(ws, "fake-svc")
    yield make
    ws.registry.delete("services", name="fake-svc")


def test_a_read_timeout_is_not_retried_and_says_the_request_may_have_run(service_at):
    server = CountingServer(answer=False)
    try:
        service = service_at(server.port)
        with pytest.raises(WebserviceException, match="may have run") as caught:
            service.run({"data": [1]}, timeout=1)
        assert "timeout=" in str(caught.value)
        assert server.requests == 1
    finally:
        server.close()


def test_a_connection_the_server_closed_while_idle_is_replaced_without_sending_twice(service_at):
    server = CountingServer(answer=True, close_after_answer=True)
    try:
        service = service_at(server.port)
        for number in (1, 2, 3):
            assert service.run({"data": [number]}) == []
            # "while idle": the next request goes out only once the server has closed this connection
            assert server.closed.acquire(timeout=10)
        assert server.requests == 3
    finally:
        server.close()


def test_a_refused_connection_is_a_clear_error(service_at):
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    service = service_at(port)
    with pytest.raises(WebserviceException, match="did not answer"):
        service.run({"data": [1]}, timeout=2)
