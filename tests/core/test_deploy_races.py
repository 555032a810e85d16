"""One server per service name across processes, and nothing untracked whatever interrupts a deployment.

Real processes: deployments run in child Python processes on the process target; servers are real sockets.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from support import wait_until

from aci_widgets.core import Workspace
from aci_widgets.core.errors import WebserviceException
from aci_widgets.core.webservice import Webservice
from aci_widgets.targets.process.processes import is_running

SLOW_INIT = "import time\n\ndef init():\n    time.sleep(300)\n\ndef run(raw_data):\n    return raw_data\n"

DEPLOY = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from aci_widgets.core import AciWebservice, ContainerImage, Webservice, Workspace
    root, name, overwrite, go = sys.argv[1], sys.argv[2], sys.argv[3] == "1", Path(sys.argv[4])
    ws = Workspace("ws1", path=root)
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python",
                                                conda_file="myenv.yml")
    while not go.exists():
        time.sleep(0.005)
    try:
        service = Webservice.deploy(ws, name, ["weights.npy"], config,
                                    AciWebservice.deploy_configuration(auth_enabled=True), overwrite=overwrite)
        service.wait_for_deployment(timeout_sec=float(sys.argv[5]) if len(sys.argv) > 5 else None)
        print(json.dumps({"ok": True}))
    except Exception as exc:
        print(json.dumps({"ok": False, "error": str(exc)}))
""")


def _processes_in(root: Path) -> list[int]:
    pids = []
    for cwd in Path("/proc").glob("[0-9]*/cwd"):
        try:
            if os.readlink(cwd).startswith(str(root)):
                pids.append(int(cwd.parent.name))
        except OSError:
            continue
    return pids


def listening_ports(root: Path) -> dict[int, int]:
    """TCP ports in LISTEN held by processes working under ``root``: port -> pid (a zygote listens on none)."""
    inodes: dict[str, int] = {}
    for pid in _processes_in(root):
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes[link[8:-1]] = pid
    ports = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                ports[int(fields[1].rsplit(":", 1)[1], 16)] = inodes[fields[9]]
    return ports


def _spawn(ws, name: str, overwrite: bool, go: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", DEPLOY, str(ws.root), name, "1" if overwrite else "0", str(go),
                             *extra], stdout=subprocess.PIPE, text=True)


def _result(proc: subprocess.Popen[str]) -> dict:
    out, _ = proc.communicate(timeout=180)
    return json.loads(out.strip().splitlines()[-1])


def _score(uri: str, key: str | None) -> int:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {key}"} if key else {})
    request = urllib.request.Request(uri, data=b'{"data": [[1, 1, 1]]}', headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def shared_ws(tmp_path, numpy_model):
    from support import cleanup_workspace

    ws = Workspace.create("ws1", target="process", path=tmp_path / "ws")
    yield ws
    cleanup_workspace(ws)


def test_two_processes_deploying_one_name_with_overwrite_leave_one_consistent_server(shared_ws, tmp_path):
    ws, name, go = shared_ws, f"race-{uuid.uuid4().hex[:6]}", tmp_path / "go"
    procs = [_spawn(ws, name, True, go) for _ in range(2)]
    go.touch()
    assert [_result(p)["ok"] for p in procs] == [True, True]
    service = Webservice(ws, name)
    handle = service._row["handle"]
    assert is_running(handle["pid"], handle["ticks"])
    assert _score(service.scoring_uri, service.get_keys()[0]) == 200   # this row's keys fit this row's server
    assert list(listening_ports(ws.root)) == [handle["port"]]          # the first one was replaced, not leaked
    service.delete()
    assert listening_ports(ws.root) == {}
    assert not is_running(handle["pid"], handle["ticks"])
    with pytest.raises(OSError):
        urllib.request.urlopen(service._row["handle"]["scoring_uri"].replace("/score", "/"), timeout=5)


def test_without_overwrite_the_second_deployment_is_refused_naming_the_first(shared_ws, tmp_path):
    ws, name, go = shared_ws, f"race-{uuid.uuid4().hex[:6]}", tmp_path / "go"
    procs = [_spawn(ws, name, False, go) for _ in range(2)]
    go.touch()
    results = [_result(p) for p in procs]
    assert sorted(r["ok"] for r in results) == [False, True]
    error = next(r["error"] for r in results if not r["ok"])
    assert name in error and "process" in error and "overwrite=True" in error
    Webservice(ws, name).delete()
    assert listening_ports(ws.root) == {}


def _deploying_in_child(ws, name: str, go: Path, *extra: str) -> tuple[subprocess.Popen[str], dict]:
    (Path.cwd() / "score.py").write_text(SLOW_INIT)
    go.touch()
    proc = _spawn(ws, name, False, go, *extra)

    def recorded() -> dict | None:
        row = ws.registry.get("services", name=name)
        return row["handle"] if row and (row.get("handle") or {}).get("pid") else None  # past its start token

    wait_until(recorded, "the server's pid in the registry before it answers", limit=120)
    return proc, recorded()


def test_a_deployer_killed_during_init_leaves_a_server_that_delete_stops(shared_ws, tmp_path):
    ws, name = shared_ws, f"kill-{uuid.uuid4().hex[:6]}"
    proc, handle = _deploying_in_child(ws, name, tmp_path / "go")
    assert is_running(handle["pid"], handle["ticks"])
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert is_running(handle["pid"], handle["ticks"])  # still running, but tracked
    Webservice(ws, name).delete()
    assert not is_running(handle["pid"], handle["ticks"])
    assert listening_ports(ws.root) == {}


def test_the_next_open_of_the_workspace_stops_the_server_of_a_killed_deployer(shared_ws, tmp_path):
    ws, name = shared_ws, f"kill-{uuid.uuid4().hex[:6]}"
    proc, handle = _deploying_in_child(ws, name, tmp_path / "go")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    reopened = Workspace("ws1", path=ws.root)
    assert not is_running(handle["pid"], handle["ticks"])
    service = Webservice(reopened, name)
    assert service.state == "Failed" and "interrupted" in service.error
    assert listening_ports(ws.root) == {}


def test_a_deployment_whose_wait_times_out_stops_its_server_and_ends_failed(shared_ws, tmp_path):
    ws, name = shared_ws, f"slow-{uuid.uuid4().hex[:6]}"
    proc, handle = _deploying_in_child(ws, name, tmp_path / "go", "3")
    result = _result(proc)
    assert not result["ok"] and "timeout_sec" in result["error"]
    assert not is_running(handle["pid"], handle["ticks"])
    service = Webservice(ws, name)
    assert service.state == "Failed" and "3 s" in service.error
    assert listening_ports(ws.root) == {}


def test_delete_while_another_process_is_stuck_in_init_stops_its_server(shared_ws, tmp_path):
    ws, name = shared_ws, f"stuck-{uuid.uuid4().hex[:6]}"
    proc, handle = _deploying_in_child(ws, name, tmp_path / "go")
    Webservice(ws, name).delete()
    assert not is_running(handle["pid"], handle["ticks"])
    result = _result(proc)  # its deployment saw the server end and failed
    assert not result["ok"]
    assert ws.registry.get("services", name=name) is None
    assert listening_ports(ws.root) == {}


def test_regen_key_turns_the_old_key_away_at_once(shared_ws, tmp_path):
    from aci_widgets.core import AciWebservice, ContainerImage

    ws, name = shared_ws, f"keys-{uuid.uuid4().hex[:6]}"
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python",
                                                conda_file="myenv.yml")
    service = Webservice.deploy(ws, name, ["weights.npy"], config,
                                AciWebservice.deploy_configuration(auth_enabled=True))
    service.wait_for_deployment()
    uri = service.scoring_uri
    old_primary, secondary = service.get_keys()
    assert _score(uri, old_primary) == 200
    service.regen_key("Primary")
    new_primary, same_secondary = service.get_keys()
    assert new_primary != old_primary and same_secondary == secondary
    assert service.scoring_uri == uri
    assert _score(uri, old_primary) == 401
    assert _score(uri, new_primary) == 200
    service.regen_key("Secondary", set_key="my-own-secondary-key")
    assert service.get_keys()[1] == "my-own-secondary-key"
    assert _score(uri, secondary) == 401
    assert _score(uri, "my-own-secondary-key") == 200
    with pytest.raises(Exception, match="Primary"):
        service.regen_key("primary")
    log = Path(service._row["handle"]["log"])
    assert log.stat().st_mode & 0o077 == 0
    service.delete()


def test_regen_key_without_auth_says_how_to_enable_it(shared_ws):
    ws = shared_ws
    ws.registry.upsert("services", {"name": "noauth", "state": "Failed", "config": {}, "tags": {},
                                    "created": 0.0, "updated": 0.0})
    with pytest.raises(WebserviceException, match="auth_enabled=True"):
        Webservice(ws, "noauth").regen_key("Primary")
