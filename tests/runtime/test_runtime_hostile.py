"""Hostile clients: deep arrays, foreign Host names (DNS rebinding), cross-site pages, many bodies held at once."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from runtime_harness import RawClient, Server, StartServer, write_score

SCORE = "import os\n\n\ndef run(raw):\n    return len(raw)\n"
ARRAY_SCORE = "import numpy as np\n\n\ndef run(data: np.ndarray):\n    return list(data.shape)\n"


@pytest.fixture
def server(start_server: StartServer, tmp_path: Path) -> Server:
    return start_server(write_score(tmp_path / "app", SCORE))


def _nested(depth: int) -> bytes:
    return b'{"data": ' + b"[" * depth + b"1.0" + b"]" * depth + b"}"


@pytest.mark.parametrize("depth", [65, 200])
def test_arrays_deeper_than_64_get_400_naming_the_limit(start_server: StartServer, tmp_path: Path,
                                                        depth: int) -> None:
    server = start_server(write_score(tmp_path / "app", ARRAY_SCORE))
    status, _, body = server.call("POST", "/score", _nested(64))
    assert (status, len(json.loads(body))) == (200, 64)
    status, _, body = server.call("POST", "/score", _nested(depth))
    assert status == 400
    assert "nested more than 64 deep" in json.loads(body)["error"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "LOCALHOST", "localhost."])
def test_loopback_names_are_the_service_s_own_on_any_port(server: Server, host: str) -> None:
    for value in (host, f"{host}:{server.port}", f"{host}:8080"):
        status, _, _ = server.call("POST", "/score", b"{}", {"Host": value})
        assert status == 200, value


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example", "10.0.0.1"])
def test_a_foreign_host_name_gets_421(server: Server, host: str) -> None:
    value = host.format(port=server.port)
    for method, path in (("POST", "/score"), ("GET", "/swagger.json")):
        status, headers, body = server.call(method, path, b"{}" if method == "POST" else b"", {"Host": value})
        assert status == 421, (method, path)
        assert "allowed_hosts" in json.loads(body)["error"]
        assert not any(h.startswith("access-control-") for h in headers)
    status, _, body = server.call("GET", "/", headers={"Host": value})  # health probes use whatever name they know
    assert (status, body) == (200, b"Healthy")


def test_allowed_hosts_adds_names_and_star_allows_any(start_server: StartServer, tmp_path: Path) -> None:
    score = write_score(tmp_path / "app", SCORE)
    named = start_server(score, "--allowed-hosts", "svc.example, other.example:8443")
    assert named.call("POST", "/score", b"{}", {"Host": "svc.example"})[0] == 200
    assert named.call("POST", "/score", b"{}", {"Host": "SVC.example:443"})[0] == 200
    assert named.call("POST", "/score", b"{}", {"Host": "other.example:8443"})[0] == 200
    assert named.call("POST", "/score", b"{}", {"Host": "other.example:9999"})[0] == 421
    assert named.call("POST", "/score", b"{}", {"Host": "evil.example"})[0] == 421
    anything = start_server(score, "--allowed-hosts", "*")
    assert anything.call("POST", "/score", b"{}", {"Host": "evil.example"})[0] == 200


def test_a_page_of_another_origin_gets_403_and_no_cors_headers(server: Server) -> None:
    status, headers, body = server.call("POST", "/score", b"{}", {"Origin": "http://evil.example"})
    assert status == 403
    assert "cors_origins" in json.loads(body)["error"]
    assert not any(h.startswith("access-control-") for h in headers)
    status, headers, _ = server.call("OPTIONS", "/score", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert status == 403 and not any(h.startswith("access-control-") for h in headers)
    # The service's own origin is same-origin; a request without Origin (not a browser) passes as ever.
    status, headers, _ = server.call("POST", "/score", b"{}", {"Origin": f"http://127.0.0.1:{server.port}"})
    assert status == 200 and not any(h.startswith("access-control-") for h in headers)
    status, headers, _ = server.call("POST", "/score", b"{}")
    assert status == 200 and not any(h.startswith("access-control-") for h in headers)


def test_cors_origins_answers_preflight_and_allows_listed_origins_only(start_server: StartServer,
                                                                       tmp_path: Path) -> None:
    server = start_server(write_score(tmp_path / "app", SCORE), "--cors-origins", "https://app.example")
    status, headers, _ = server.call("OPTIONS", "/score", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert status == 204
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in headers["access-control-allow-methods"]
    assert "authorization" in headers["access-control-allow-headers"].lower()
    status, headers, body = server.call("POST", "/score", b"{}", {"Origin": "https://app.example"})
    assert (status, body) == (200, b"2")
    assert headers["access-control-allow-origin"] == "https://app.example" and headers["vary"] == "Origin"
    status, headers, _ = server.call("POST", "/score", b"{}", {"Origin": "https://evil.example"})
    assert status == 403 and "access-control-allow-origin" not in headers


def test_bodies_held_at_once_are_capped_per_worker(start_server: StartServer, tmp_path: Path) -> None:
    """One client holds most of the budget with a body it has not finished; another body that would go over gets
    503 with Retry-After, and gets through once the first is answered."""
    server = start_server(write_score(tmp_path / "app", SCORE), "--max-body-bytes", "800000",
                          "--max-held-body-bytes", "1000000")
    holder = server.client()
    holder.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 700000\r\n\r\n" + b" " * 600_000)
    other = b" " * 500_000
    give_up = time.monotonic() + 30
    while True:  # until the server has received the holder's 600 000 bytes (each try is a complete request)
        with RawClient(server.port) as c:  # Expect: the answer comes before the body is sent, whichever it is
            c.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(other))
            status, headers, body = c.read_response()
            if status == 100:  # the holder's bytes may still arrive while this body does: then 503 mid-body
                c.send(other)
                status, headers, body = c.read_response()
        assert status in (200, 503)
        if status == 503 or time.monotonic() > give_up:
            break
    assert status == 503
    assert headers["retry-after"] == "1"
    assert "1000000 bytes" in json.loads(body)["error"]
    holder.send(b" " * 100_000)
    assert holder.read_response()[0] == 200
    status, _, body = server.call("POST", "/score", other)
    assert (status, body) == (200, b"500000")


def test_a_chunked_body_over_the_held_budget_gets_503(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(write_score(tmp_path / "app", SCORE), "--max-body-bytes", "800000",
                          "--max-held-body-bytes", "1000000")
    holder = server.client()
    holder.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 700000\r\n\r\n" + b" " * 600_000)
    chunk = b" " * 100_000
    give_up = time.monotonic() + 30
    while True:
        with RawClient(server.port) as c:
            c.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
            c.send(b"%x\r\n%s\r\n" % (len(chunk), chunk) * 5 + b"0\r\n\r\n")
            status, headers, _ = c.read_response()
        if status == 503 or time.monotonic() > give_up:
            break
    assert status == 503 and headers["retry-after"] == "1"
