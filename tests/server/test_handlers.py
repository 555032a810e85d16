"""The sidebar's REST handlers in a real ``jupyter server``, called over HTTP with its token.

The server runs in temporary folders (config, runtime, root) with the extension enabled by a config file there, and
inherits the session's aci_widgets home, so it sees the workspaces this test makes. A deployment runs in this test
process; the server, another process, follows it through the operation's journal.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support import cleanup_workspace, wait_until

from aci_widgets.core import AciWebservice, ContainerImage, Webservice, Workspace

SERVER_START_LIMIT = 120.0

# init() waits for a gate file, so that the deployment is seen in its "wait for health" step for as long as the
# test needs: the test opens the gate once it has seen the step.
GATED_SCORE = '''\
import json
import time
from pathlib import Path

import numpy as np


def init():
    global weights
    gate = Path(GATE)
    while not gate.exists():
        time.sleep(0.05)
    weights = np.array([1.0, 2.0, 3.0])


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return (data @ weights).tolist()
'''


@dataclass
class Server:
    base: str
    token: str

    def call(self, method: str, path: str, body: bytes | None = None, token: bool = True) -> tuple[int, Any]:
        url = f"{self.base}/aci-widgets/{path}"
        headers = {"Authorization": f"token {self.token}"} if token else {}
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            text = exc.read()
            try:
                return exc.code, json.loads(text)
            except ValueError:
                return exc.code, text.decode(errors="replace")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("jupyter-server")
    config, runtime, root = (folder / name for name in ("config", "runtime", "root"))
    for sub in (config, runtime, root):
        sub.mkdir()
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"aci_widgets": True}}}))
    token, port = secrets.token_hex(16), _free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(runtime),
               JUPYTER_DATA_DIR=str(folder / "data"))
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser", "--ip=127.0.0.1",
             f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
             f"--ServerApp.root_dir={root}"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    try:
        running = Server(f"http://127.0.0.1:{port}", token)

        def answers() -> bool:
            assert process.poll() is None, f"jupyter server exited:\n{log.read_text()[-3000:]}"
            try:
                return running.call("GET", "workspaces")[0] == 200
            except OSError:
                return False

        wait_until(answers, f"jupyter server answering on port {port}", limit=SERVER_START_LIMIT, every=0.2)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def named_ws() -> Iterator[Workspace]:
    """A workspace under the session's home, where ``Workspace.list`` (and so the server) finds it."""
    ws = Workspace.create(f"srv-{uuid.uuid4().hex[:8]}", target="process")
    yield ws
    cleanup_workspace(ws)
    shutil.rmtree(ws.root, ignore_errors=True)


def test_every_route_needs_the_token(server: Server, named_ws: Workspace) -> None:
    for method, path in [("GET", "workspaces"), ("GET", f"workspaces/{named_ws.name}/services"),
                         ("DELETE", f"workspaces/{named_ws.name}/services/x"),
                         ("POST", f"workspaces/{named_ws.name}/services/x/test")]:
        status, _ = server.call(method, path, body=b"{}" if method == "POST" else None, token=False)
        assert status == 403, (method, path)


def test_an_empty_workspace_and_a_missing_one(server: Server, named_ws: Workspace) -> None:
    status, payload = server.call("GET", "workspaces")
    assert status == 200 and named_ws.name in payload["workspaces"]
    assert server.call("GET", f"workspaces/{named_ws.name}/services") == (
        200, {"workspace": named_ws.name, "services": []})
    status, payload = server.call("GET", "workspaces/no-such-ws/services")
    assert status == 404 and "Workspace.create('no-such-ws', exist_ok=True)" in payload["message"]
    status, payload = server.call("DELETE", f"workspaces/{named_ws.name}/services/ghost")
    assert status == 404 and "'ghost' not found" in payload["message"]


def test_a_deployment_followed_then_tested_logged_and_deleted(server: Server, named_ws: Workspace,
                                                              numpy_model: Path, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    (numpy_model / "score.py").write_text(f"GATE = {str(gate)!r}\n" + GATED_SCORE)
    try:
        config = ContainerImage.image_configuration(execution_script="score.py", runtime="python",
                                                    conda_file="myenv.yml")
        service = Webservice.deploy(named_ws, "dot", ["weights.npy"], config,
                                    AciWebservice.deploy_configuration())
        path = f"workspaces/{named_ws.name}/services"
        seen: list[dict[str, Any]] = []

        def waiting_for_health() -> bool:
            status, payload = server.call("GET", path)
            assert status == 200, payload
            rows = payload["services"]
            seen.extend(rows)
            return bool(rows) and (rows[0]["progress"] or {}).get("step") == "wait for health"

        wait_until(waiting_for_health, f"the server to see 'wait for health' (saw {seen[-1:]})", limit=300)
        assert seen[-1]["state"] == "Transitioning" and seen[-1]["progress"]["started"] > 0
        assert seen[-1]["usage"] is None  # deploying: nothing to measure yet
    finally:
        gate.touch()  # also when the test failed above: init() must not wait for ever
    service.wait_for_deployment()

    (row,) = server.call("GET", path)[1]["services"]
    assert row["state"] == "Healthy" and row["progress"] is None and row["target"] == "process"
    assert row["scoringUri"] == service.scoring_uri and row["scoringUri"] in row["curl"]
    # CPU and memory of the server's process tree, measured by the server (another process) from /proc: the
    # runtime with numpy imported holds tens of MB.
    usage = row["usage"]
    assert usage["measured"] is True and usage["cpu_cores"] >= 0 and usage["memory_bytes"] > 10 * 2**20, usage

    status, answer = server.call("POST", f"{path}/dot/test", body=b'{"data": [[1, 1, 1]]}')
    assert status == 200 and answer["ok"] and answer["answer"] == [6.0] and answer["seconds"] > 0
    status, answer = server.call("POST", f"{path}/dot/test", body=b"not json")
    assert status == 200 and not answer["ok"] and "bad response" in answer["error"]

    assert server.call("GET", f"{path}/dot/logs?tail=many")[0] == 400
    status, logs = server.call("GET", f"{path}/dot/logs?tail=50")
    assert status == 200 and logs["logs"] == service.get_logs(num_lines=50) and logs["logs"]
    status, swagger = server.call("GET", f"{path}/dot/swagger")
    assert status == 200 and "paths" in swagger

    assert server.call("DELETE", f"{path}/dot") == (200, {"deleted": "dot"})
    assert server.call("GET", path)[1]["services"] == []
    assert [s.name for s in Webservice.list(named_ws)] == []
