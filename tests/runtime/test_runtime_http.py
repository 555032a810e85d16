"""Routing, the /score contract and HTTP/1.1 connection handling, against the real server over sockets."""

from __future__ import annotations

import json

import numpy as np
from runtime_harness import WEIGHTS, Server


def test_health_answers_healthy(numpy_server: Server) -> None:
    for path in ("/", "/health"):
        status, headers, body = numpy_server.call("GET", path)
        assert (status, body) == (200, b"Healthy")
        assert headers["content-type"].startswith("text/plain")


def test_head_health_has_length_but_no_body(numpy_server: Server) -> None:
    with numpy_server.client() as c:
        c.send(b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head = c.sock.recv(65536)
        while head.count(b"HTTP/1.1 200") < 2:
            head += c.sock.recv(65536)
    first, second = head.split(b"HTTP/1.1 200")[1:]
    assert b"Content-Length: 7" in first and not first.endswith(b"Healthy")
    assert second.endswith(b"Healthy")


def test_score_round_trip_with_numpy(numpy_server: Server) -> None:
    x = [[1.0, 0.5, -2.0], [0.0, 1.0, 1.0]]
    status, headers, body = numpy_server.score({"data": x})
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == (np.array(x) @ WEIGHTS).tolist()


def test_score_body_is_byte_exact_json_dumps(numpy_server: Server) -> None:
    value = {"b": [1, 2.5, None, True], "a": "é\u2603", "n": float("nan")}
    status, _, body = numpy_server.score({"echo": value})
    assert status == 200
    assert body == json.dumps(value).encode()


def test_score_bytes_result_is_sent_raw(numpy_server: Server) -> None:
    status, headers, body = numpy_server.score({"bytes": "raw ☃"})
    assert (status, body) == (200, "raw ☃".encode())
    assert headers["content-type"] == "application/octet-stream"


def test_run_exception_is_500_with_one_line_json_and_server_keeps_serving(numpy_server: Server) -> None:
    with numpy_server.client() as c:
        c.request("POST", "/score", json.dumps({"raise": "bad input\nsecond line"}).encode())
        status, headers, body = c.read_response()
        assert status == 500
        assert headers["content-type"] == "application/json"
        assert b"\n" not in body
        assert json.loads(body) == {"error": "ValueError: bad input\nsecond line"}
        c.request("POST", "/score", json.dumps({"data": [[1, 1, 1]]}).encode())  # same connection
        assert c.read_response()[0] == 200
    log = numpy_server.stderr()
    assert "Traceback (most recent call last)" in log
    assert 'raise ValueError(data["raise"])  # <- run() fails here' in log


def test_result_json_cannot_encode_is_500(numpy_server: Server) -> None:
    status, _, body = numpy_server.score({"ndarray": [1, 2]})
    assert status == 500
    assert json.loads(body)["error"].startswith("TypeError: Object of type ndarray is not JSON serializable")
    assert numpy_server.score({"data": [[0, 0, 1]]})[0] == 200


def test_invalid_utf8_body_is_400(numpy_server: Server) -> None:
    status, _, body = numpy_server.call("POST", "/score", b'{"echo": "\xff\xfe"}')
    assert status == 400
    assert "UTF-8" in json.loads(body)["error"]


def test_wrong_methods_are_405_with_allow(numpy_server: Server) -> None:
    status, headers, _ = numpy_server.call("GET", "/score")
    assert (status, headers["allow"]) == (405, "POST")
    status, headers, _ = numpy_server.call("POST", "/", b"{}")
    assert status == 405
    assert "GET" in headers["allow"]


def test_unknown_path_is_404(numpy_server: Server) -> None:
    status, _, body = numpy_server.call("GET", "/nope")
    assert status == 404
    assert "/nope" in json.loads(body)["error"]
    assert numpy_server.call("POST", "/score/extra", b"{}")[0] == 404


def test_query_string_is_ignored_for_routing(numpy_server: Server) -> None:
    assert numpy_server.call("GET", "/?probe=1")[0] == 200


def test_swagger_describes_the_service(numpy_server: Server) -> None:
    status, headers, body = numpy_server.call("GET", "/swagger.json")
    assert status == 200
    assert headers["content-type"] == "application/json"
    doc = json.loads(body)
    assert doc["swagger"] == "2.0"
    assert doc["info"]["title"] == "aci-widgets-service"
    assert set(doc["paths"]) == {"/", "/score"}
    assert "post" in doc["paths"]["/score"]
    assert "securityDefinitions" not in doc


def test_keep_alive_serves_two_requests_on_one_connection(numpy_server: Server) -> None:
    with numpy_server.client() as c:
        c.request("GET", "/")
        status, headers, _ = c.read_response()
        assert status == 200 and "connection" not in headers
        c.request("POST", "/score", json.dumps({"echo": 2}).encode())
        assert c.read_response()[::2] == (200, b"2")


def test_pipelined_requests_are_answered_in_order(numpy_server: Server) -> None:
    requests = [
        b'POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 11\r\n\r\n{"echo": 1}',
        b"GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b'POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 11\r\n\r\n{"echo": 3}',
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    ]
    with numpy_server.client() as c:
        c.send(b"".join(requests))
        answers = [c.read_response() for _ in requests]
    assert [(s, b) for s, _, b in answers][::2] == [(200, b"1"), (200, b"3")]
    assert [s for s, _, _ in answers] == [200, 404, 200, 200]


def test_connection_close_is_honored(numpy_server: Server) -> None:
    with numpy_server.client() as c:
        # The second request is pipelined after "Connection: close": it must not be answered.
        c.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
               b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, headers, _ = c.read_response()
        assert (status, headers["connection"]) == (200, "close")
        assert c.read_until_closed() == b""


def test_http10_closes_unless_keep_alive_asked(numpy_server: Server) -> None:
    with numpy_server.client() as c:
        c.send(b"GET / HTTP/1.0\r\n\r\n")
        assert c.read_response()[0] == 200
        assert c.read_until_closed() == b""
    with numpy_server.client() as c:
        for _ in range(2):
            c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, _ = c.read_response()
            assert (status, headers["connection"]) == (200, "keep-alive")


def test_chunked_request_body_is_accepted(numpy_server: Server) -> None:
    payload = json.dumps({"echo": list(range(50))}).encode()
    chunks = [payload[:7], payload[7:30], payload[30:]]
    wire = b"".join(b"%x\r\n%s\r\n" % (len(ch), ch) for ch in chunks) + b"0\r\n\r\n"
    with numpy_server.client() as c:
        c.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" + wire)
        status, _, body = c.read_response()
    assert (status, json.loads(body)) == (200, list(range(50)))


def test_expect_100_continue(numpy_server: Server) -> None:
    with numpy_server.client() as c:
        c.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n")
        assert c.read_response()[0] == 100
        c.send(b'{"echo": 5}')
        assert c.read_response()[::2] == (200, b"5")


def test_malformed_request_is_400_and_closed(numpy_server: Server) -> None:
    with numpy_server.client() as c:
        c.send(b"NOT HTTP AT ALL\r\n\r\n")
        assert c.read_response()[0] == 400
        assert c.read_until_closed() == b""
