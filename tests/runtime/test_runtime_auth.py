"""Keys from ACI_WIDGETS_AUTH_KEYS guard /score and /swagger.json; the health check stays open."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runtime_harness import NUMPY_SCORE, Server, StartServer

KEYS = {"ACI_WIDGETS_AUTH_KEYS": "primary-key-123, secondary-key-456"}


@pytest.fixture
def keyed(start_server: StartServer, model_dir: Path) -> Server:
    return start_server(NUMPY_SCORE, "--name", "keyed-svc", model_dir=model_dir, env=KEYS)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", "primary-key-123", "Basic primary-key-123", "Bearer primary-key-12", "Bearer "],
)
def test_score_without_a_valid_key_is_401(keyed: Server, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else None
    status, response_headers, body = keyed.score({"echo": 1}, headers)
    assert status == 401
    assert response_headers["www-authenticate"] == "Bearer"
    assert "key" in json.loads(body)["error"]


@pytest.mark.parametrize("key", ["primary-key-123", "secondary-key-456"])
def test_either_key_is_accepted(keyed: Server, key: str) -> None:
    status, _, body = keyed.score({"echo": 7}, {"Authorization": f"Bearer {key}"})
    assert (status, body) == (200, b"7")
    assert keyed.score({"echo": 7}, {"Authorization": f"bearer  {key} "})[0] == 200


def test_health_stays_open(keyed: Server) -> None:
    assert keyed.call("GET", "/")[::2] == (200, b"Healthy")


def test_swagger_needs_a_key_and_declares_it(keyed: Server) -> None:
    assert keyed.call("GET", "/swagger.json")[0] == 401
    status, _, body = keyed.call("GET", "/swagger.json", headers={"Authorization": "Bearer primary-key-123"})
    assert status == 200
    doc = json.loads(body)
    assert doc["info"]["title"] == "keyed-svc"
    assert "Bearer" in doc["securityDefinitions"]


def test_a_rejected_upload_is_answered_without_reading_its_body(keyed: Server) -> None:
    with keyed.client() as c:
        c.send(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: 5000000\r\n\r\n")
        assert c.read_response()[0] == 401


def test_blank_keys_mean_no_auth(start_server: StartServer, model_dir: Path) -> None:
    server = start_server(NUMPY_SCORE, model_dir=model_dir, env={"ACI_WIDGETS_AUTH_KEYS": " , "})
    assert server.score({"echo": 1})[0] == 200
