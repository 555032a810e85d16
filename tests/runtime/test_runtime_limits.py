"""Body and header limits, timeouts, and stalled clients: nothing a client does may hold up the others."""

from __future__ import annotations

import json
from pathlib import Path

from runtime_harness import NUMPY_SCORE, Server, StartServer


def test_content_length_over_limit_is_413_before_the_body_is_sent(start_server: StartServer, model_dir: Path) -> None:
    server = start_server(NUMPY_SCORE, "--max-body-bytes", "1000", model_dir=model_dir)
    with server.client() as c:
        # Only the head is sent: an answer can only come if the server decides on Content-Length alone.
        c.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1001\r\n\r\n")
        status, headers, body = c.read_response()
        assert status == 413
        assert headers["connection"] == "close"
        assert "1000" in json.loads(body)["error"]
        assert c.read_until_closed() == b""
    at_limit = json.dumps({"echo": "x" * 988}).encode()
    assert len(at_limit) == 1000
    assert server.call("POST", "/score", at_limit)[0] == 200


def test_default_limit_is_100_mib(numpy_server: Server) -> None:
    with numpy_server.client() as c:
        c.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % (100 * 1024 * 1024 + 1))
        assert c.read_response()[0] == 413
    with numpy_server.client() as c:
        # At the limit the server invites the body instead of refusing it.
        c.send(
            b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n"
            % (100 * 1024 * 1024)
        )
        assert c.read_response()[0] == 100


def test_chunked_body_growing_over_limit_is_413(start_server: StartServer, model_dir: Path) -> None:
    server = start_server(NUMPY_SCORE, "--max-body-bytes", "1000", model_dir=model_dir)
    with server.client() as c:
        c.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        c.send(b"258\r\n" + b"x" * 600 + b"\r\n")  # 600 bytes: still under the limit
        c.send(b"258\r\n" + b"x" * 600 + b"\r\n")  # 1200 bytes: over
        status, headers, _ = c.read_response()
        assert (status, headers["connection"]) == (413, "close")
        assert c.read_until_closed() == b""
    assert server.score({"echo": "still serving"})[0] == 200


def test_oversized_headers_are_431(numpy_server: Server) -> None:
    with numpy_server.client() as c:
        c.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
        status, headers, _ = c.read_response()
        assert (status, headers["connection"]) == (431, "close")
    with numpy_server.client() as c:
        c.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Many: 0123456789\r\n" * 4000 + b"\r\n")
        assert c.read_response()[0] == 431


def test_headers_just_under_the_cap_are_fine(numpy_server: Server) -> None:
    status, _, body = numpy_server.call("GET", "/", headers={"X-Big": "a" * 60_000})
    assert (status, body) == (200, b"Healthy")


def test_stalled_clients_do_not_block_a_normal_request(numpy_server: Server) -> None:
    stalled = []
    for i in range(50):
        c = numpy_server.client()
        if i % 2:
            c.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")  # head never finishes
        else:
            # body never finishes
            c.send(b'POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 12\r\n\r\n{"echo"')
        stalled.append(c)
    try:
        status, _, body = numpy_server.score({"data": [[1, 0, 0]]})
        assert (status, json.loads(body)) == (200, [[1.0, 2.0]])
        # A stalled client that finally finishes its body is answered too.
        stalled[0].send(b": 42}")
        assert stalled[0].read_response()[::2] == (200, b"42")
    finally:
        for c in stalled:
            c.close()


def test_idle_keep_alive_connection_is_closed(start_server: StartServer, model_dir: Path) -> None:
    server = start_server(NUMPY_SCORE, "--keepalive-timeout", "0.2", model_dir=model_dir)
    with server.client() as c:
        c.request("GET", "/")
        assert c.read_response()[0] == 200
        assert c.read_until_closed() == b""  # closed by the server, without any answer


def test_header_timeout_answers_408_and_closes(start_server: StartServer, model_dir: Path) -> None:
    server = start_server(NUMPY_SCORE, "--header-timeout", "0.2", model_dir=model_dir)
    with server.client() as c:
        c.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        status, headers, _ = c.read_response()
        assert (status, headers["connection"]) == (408, "close")
        assert c.read_until_closed() == b""
    with server.client() as c:
        assert c.read_until_closed() == b""  # a connection that never sends anything is closed quietly


def test_body_timeout_answers_408_and_closes(start_server: StartServer, model_dir: Path) -> None:
    server = start_server(NUMPY_SCORE, "--body-timeout", "0.2", model_dir=model_dir)
    with server.client() as c:
        c.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
        assert c.read_response()[0] == 408
        assert c.read_until_closed() == b""
