"""The deployment configuration's scoring_timeout_ms, allowed_hosts and cors_origins reach the process target's
server, and its log is the runtime's rotating --log-file (user prints included), read from the end."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from aci_widgets.core import ContainerImage, LocalWebservice, Webservice
from aci_widgets.core.errors import UserErrorException

SCORE = '''\
import json, time


def init():
    print("init() of the limits test", flush=True)


def run(raw):
    data = json.loads(raw)
    print("user print", data, flush=True)
    time.sleep(data.get("sleep", 0))
    return "ok"
'''


def _post(service: Webservice, body: dict, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    url = urlsplit(service.scoring_uri)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        conn.request("POST", url.path, json.dumps(body), headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_limits_from_the_configuration_reach_the_server(ws, numpy_model: Path) -> None:
    (numpy_model / "score.py").write_text(SCORE)
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python", conda_file="myenv.yml")
    deployment = LocalWebservice.deploy_configuration(scoring_timeout_ms=300, allowed_hosts=["svc.example"],
                                                      cors_origins=["https://app.example"])
    service = Webservice.deploy(ws, "limits", ["weights.npy"], config, deployment)
    service.wait_for_deployment()
    assert _post(service, {"n": 1})[0] == 200
    status, _, body = _post(service, {"sleep": 30})
    assert status == 504 and "scoring_timeout_ms=300" in json.loads(body)["error"]
    assert _post(service, {"n": 2}, {"Host": "svc.example"})[0] == 200
    assert _post(service, {"n": 3}, {"Host": "evil.example"})[0] == 421
    status, headers, _ = _post(service, {"n": 4}, {"Origin": "https://app.example"})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert _post(service, {"n": 5}, {"Origin": "https://evil.example"})[0] == 403
    logs = service.get_logs()
    assert "init() of the limits test" in logs and "user print {'n': 2}" in logs
    assert "over scoring_timeout_ms=300: answered 504" in logs
    assert service.get_logs(num_lines=1).count("\n") == 0
    service.delete()


@pytest.mark.parametrize("bad", [{"scoring_timeout_ms": 0}, {"allowed_hosts": "svc.example"},
                                 {"allowed_hosts": ["a b"]}, {"cors_origins": ["app.example"]}])
def test_bad_limits_are_refused_with_a_clear_message(bad: dict) -> None:
    with pytest.raises(UserErrorException, match=next(iter(bad))):
        LocalWebservice.deploy_configuration(**bad)
