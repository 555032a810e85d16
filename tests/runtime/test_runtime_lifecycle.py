"""Start-up order, the ready file, exit statuses and graceful shutdown of ``python -m aci_widgets.runtime``."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

from runtime_harness import NUMPY_SCORE, StartServer, write_score


def _wait_for(path: Path, proc_alive) -> None:
    give_up = time.monotonic() + 30
    while not path.exists():
        assert proc_alive(), "the server died"
        assert time.monotonic() < give_up, f"{path} never appeared"
        time.sleep(0.005)


def test_ready_file_and_model_dir_environment(start_server: StartServer, model_dir: Path) -> None:
    server = start_server(NUMPY_SCORE, model_dir=model_dir)
    ready = server.ready
    assert ready["status"] == "ready"
    assert ready["pid"] == server.proc.pid
    assert isinstance(ready["port"], int) and ready["port"] > 0
    assert ready["init_seconds"] >= 0
    # One model: AZUREML_MODEL_DIR is that model's own folder, as Azure sets it; ours is always the models folder.
    assert json.loads(server.score({"env": "AZUREML_MODEL_DIR"})[2]) == str(model_dir / "linear" / "1")
    assert json.loads(server.score({"env": "ACI_WIDGETS_MODEL_DIR"})[2]) == str(model_dir)
    # Start-up is logged once; requests are not logged by default.
    for _ in range(5):
        server.call("GET", "/")
    log = server.stderr()
    assert f"ready on http://127.0.0.1:{ready['port']}" in log
    assert len(log.strip().splitlines()) == 1


def test_access_log_flag_logs_each_request(start_server: StartServer, model_dir: Path) -> None:
    server = start_server(NUMPY_SCORE, "--access-log", model_dir=model_dir)
    server.call("GET", "/health?x=1")
    server.call("GET", "/nope")
    assert server.stop() == 0
    log = server.stderr()
    assert '"GET /health?x=1" 200' in log
    assert '"GET /nope" 404' in log


def test_fixed_port_and_script_directory_on_sys_path(start_server: StartServer, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    score = write_score(tmp_path / "app", "import helper\n\ndef run(raw):\n    return helper.VALUE\n")
    (tmp_path / "app" / "helper.py").write_text("VALUE = 'from a sibling module'\n")
    server = start_server(score, "--port", str(port))  # no init(), no --model-dir: both are optional
    assert server.ready["port"] == port
    assert json.loads(server.score({})[2]) == "from a sibling module"


INIT_FAILS = """\
import json


def init():
    settings = json.loads("{}")
    raise RuntimeError("no model here: " + str(settings))  # <- init fails


def run(raw):
    return raw
"""


def test_init_failure_writes_failed_ready_file_and_exits_3(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(write_score(tmp_path / "bad", INIT_FAILS))
    assert server.proc.wait(30) == 3
    ready = server.ready
    assert ready["status"] == "failed"
    assert ready["error"] == "RuntimeError: no model here: {}"
    assert 'score.py", line 6, in init' in ready["traceback"]
    assert 'raise RuntimeError("no model here: " + str(settings))  # <- init fails' in ready["traceback"]
    assert "aci_widgets/runtime" not in ready["traceback"]  # our own frames are noise to the user
    assert ready["traceback"] in server.stderr()


def test_import_failure_exits_3_with_the_users_line(start_server: StartServer, tmp_path: Path) -> None:
    score = write_score(tmp_path / "bad", "import os\n\nimport not_a_module_anywhere\n\ndef run(raw):\n    return 1\n")
    server = start_server(score)
    assert server.proc.wait(30) == 3
    assert server.ready["status"] == "failed"
    assert server.ready["error"] == "ModuleNotFoundError: No module named 'not_a_module_anywhere'"
    assert 'score.py", line 3, in <module>' in server.ready["traceback"]


def test_syntax_error_and_missing_run_exit_3(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(write_score(tmp_path / "syntax", "def run(raw)\n    return 1\n"))
    assert server.proc.wait(30) == 3
    assert server.ready["error"].startswith("SyntaxError:")
    assert "def run(raw)" in server.ready["traceback"]
    server = start_server(write_score(tmp_path / "norun", "def init():\n    pass\n"))
    assert server.proc.wait(30) == 3
    assert "run(raw_data)" in server.ready["error"]


def test_port_in_use_exits_4(start_server: StartServer, model_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = start_server(NUMPY_SCORE, "--port", str(taken.getsockname()[1]), model_dir=model_dir)
        assert server.proc.wait(30) == 4
    assert server.ready["status"] == "failed"
    assert "already in use" in server.ready["error"], server.ready["error"]


def test_sigterm_and_sigint_exit_0(start_server: StartServer, model_dir: Path) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        server = start_server(NUMPY_SCORE, model_dir=model_dir)
        idle = server.client()
        idle.request("GET", "/")
        assert idle.read_response()[0] == 200
        server.proc.send_signal(sig)
        assert server.proc.wait(30) == 0
        assert idle.read_until_closed() == b""  # an idle keep-alive connection is closed, not left hanging
        assert "stopped" in server.stderr()


def test_sigterm_finishes_the_request_in_flight(start_server: StartServer, model_dir: Path, tmp_path: Path) -> None:
    server = start_server(NUMPY_SCORE, model_dir=model_dir)
    marker = tmp_path / "run-started"
    release = tmp_path / "release"
    with server.client() as c:
        c.request("POST", "/score", json.dumps({"hold": str(release), "marker": str(marker)}).encode())
        _wait_for(marker, lambda: server.proc.poll() is None)
        os.kill(server.proc.pid, signal.SIGTERM)  # queued on the server before kill() returns: run() is under way
        release.write_text("go")
        assert c.read_response()[::2] == (200, b'"released"')
        assert c.read_until_closed() == b""
    assert server.proc.wait(30) == 0


def test_sigterm_during_init_exits_0_without_a_ready_file(start_server: StartServer, tmp_path: Path) -> None:
    marker = tmp_path / "init-started"
    source = (
        "import pathlib, time\n\n"
        "def init():\n"
        f"    pathlib.Path({str(marker)!r}).write_text('x')\n"
        "    time.sleep(30)\n\n"  # a long init() is the behaviour under test, not a wait
        "def run(raw):\n    return 1\n"
    )
    server = start_server(write_score(tmp_path / "slow", source), wait=False)
    _wait_for(marker, lambda: server.proc.poll() is None)
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(30) == 0
    assert not server.ready_file.exists()
