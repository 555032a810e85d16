"""Chaos: three processes deploy, score, update and delete services of three names at random on the process target
while the test kills one of them with SIGKILL at random moments (and starts it again). Afterwards the registry is
intact, every artifact hashes right, every running server belongs to a row, and `aci-widgets stop --all` leaves
no process and no port. Bounded: about a minute, local only.

A server runs as a process tree (a supervisor, its workers, a log writer): the row names the supervisor, so a
process or a listening socket belongs to a row when the row's pid is the process or one of its ancestors.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from support import wait_until

from aci_widgets.core import ContainerImage, Workspace
from aci_widgets.core.webservice import Webservice

DURATION = 40.0  # of random actions; the deployments under way then end (a warm start takes seconds)
NAMES = ("chaos-a", "chaos-b", "chaos-c")

WORKER = textwrap.dedent("""
    import random, sys, time
    from aci_widgets.core import AciWebservice, ContainerImage, Webservice, Workspace
    from aci_widgets.core.model import Model
    ws_name, deadline, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    ws = Workspace(ws_name)
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python",
                                                conda_file="myenv.yml")
    names = sys.argv[4:]
    while time.time() < deadline:
        name, action = rng.choice(names), rng.choice(["deploy", "deploy", "run", "run", "update", "delete", "model"])
        try:
            if action == "deploy":
                service = Webservice.deploy(ws, name, ["weights.npy"], config,
                                            AciWebservice.deploy_configuration(auth_enabled=rng.random() < 0.5,
                                                                               cpu_cores=rng.choice([1, 2])),
                                            overwrite=True)
                service.wait_for_deployment(timeout_sec=60)
            elif action == "run":
                Webservice(ws, name).run({"data": [[1, 2, 3]]}, timeout=10)
            elif action == "update":
                Webservice(ws, name).update(tags={"n": str(rng.random())})
            elif action == "delete":
                Webservice(ws, name).delete()
            else:
                model = Model.register(ws, "weights.npy", f"m-{name}")
                if rng.random() < 0.7:
                    model.delete()
            print(f"{action} {name}: ok", flush=True)
        except Exception as exc:  # expected: a service missing, being replaced, deleted meanwhile
            print(f"{action} {name}: {type(exc).__name__}: {str(exc)[:200]}", flush=True)
""")


def _processes_in(root: Path) -> list[int]:
    """Live processes (not zombies) whose working directory is under ``root`` (a server's is its app folder)."""
    pids = []
    for cwd in Path("/proc").glob("[0-9]*/cwd"):
        try:
            if os.readlink(cwd).startswith(str(root)) and _stat(int(cwd.parent.name))[0] != "Z":
                pids.append(int(cwd.parent.name))
        except (OSError, IndexError):
            continue
    return pids


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat's fields after the command name: state, ppid, ..."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _ancestry(pid: int) -> list[int]:
    """``pid``, its parent, and so on up to init."""
    chain = [pid]
    while chain[-1] > 1:
        try:
            chain.append(int(_stat(chain[-1])[1]))
        except (OSError, IndexError, ValueError):
            break
    return chain


def _listeners(root: Path) -> dict[int, set[int]]:
    """TCP ports in LISTEN held by processes under ``root``: port -> every pid holding one of its sockets."""
    holders: dict[str, set[int]] = {}
    for pid in _processes_in(root):
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:["):
                holders.setdefault(link[8:-1], set()).add(pid)
    ports: dict[int, set[int]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in holders:
                ports.setdefault(int(fields[1].rsplit(":", 1)[1], 16), set()).update(holders[fields[9]])
    return ports


def _describe(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:300]
        return f"pid {pid} (ancestry {_ancestry(pid)}, cwd {os.readlink(f'/proc/{pid}/cwd')}): {command}"
    except OSError:
        return f"pid {pid} (gone)"


def _untracked(ws: Workspace) -> list[str]:
    """Every process and listening socket under the workspace that no service row's server is an ancestor of."""
    tracked = {(row.get("handle") or {}).get("pid") for row in ws.registry.select("services")} - {None}
    found = [f"a process no row names: {_describe(pid)}" for pid in _processes_in(ws.root)
             if not tracked & set(_ancestry(pid))]
    for port, pids in _listeners(ws.root).items():
        if not any(tracked & set(_ancestry(pid)) for pid in pids):
            found.append(f"port {port} held by no row's server: {'; '.join(_describe(p) for p in sorted(pids))}")
    return found


@pytest.mark.slow
def test_chaos_leaves_a_consistent_registry_and_nothing_untracked(numpy_model, tmp_path):
    ws_name = f"chaos-{uuid.uuid4().hex[:6]}"
    ws = Workspace.create(ws_name, target="process")
    deadline = time.time() + DURATION
    rng = random.Random()
    logs = [open(tmp_path / f"worker{i}.log", "a") for i in range(3)]  # noqa: SIM115 - closed below

    def start(i: int) -> subprocess.Popen[bytes]:
        logs[i].write(f"--- started at {time.time():.1f}\n")
        logs[i].flush()
        return subprocess.Popen([sys.executable, "-c", WORKER, ws_name, str(deadline), str(rng.randrange(1 << 30)),
                                 *NAMES], stdout=logs[i], stderr=subprocess.STDOUT)

    workers = [start(i) for i in range(3)]
    kills = 0
    try:
        while time.time() < deadline - 2:
            time.sleep(rng.uniform(0.3, 3.0))  # a random moment to kill at, not a synchronisation
            i = rng.randrange(3)
            if workers[i].poll() is None:
                os.kill(workers[i].pid, signal.SIGKILL)
                workers[i].wait()
                kills += 1
            workers[i] = start(i)
        for worker in workers:
            worker.wait(timeout=120)  # the deployments under way end; each is bounded by timeout_sec=60
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        for log in logs:
            log.close()
    history = "\n".join((tmp_path / f"worker{i}.log").read_text() for i in range(3))
    assert kills > 0
    assert ": ok" in history, history  # the workers did something besides failing

    ws = Workspace(ws_name)  # the next open stops what killed deployers left
    with ws.registry.connect() as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    objects = list((ws.root / "artifacts" / "objects").glob("*/*"))
    for path in objects:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.parent.name + path.name, path
    # A server stopped a moment ago may still be ending (SIGTERM, then its workers): wait for that, no longer.
    give_up = time.monotonic() + 15
    while (untracked := _untracked(ws)) and time.monotonic() < give_up:
        time.sleep(0.05)
    assert not untracked, "\n".join([*untracked, "--- rows:", *map(str, ws.registry.select("services")),
                                      "--- workers:", history[-6000:]])

    result = subprocess.run([sys.executable, "-m", "aci_widgets.cli", "stop", "--all", "--workspace", ws_name],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ws.registry.select("services") == []
    wait_until(lambda: not _processes_in(ws.root), "the servers' processes to end after stop --all", limit=15)
    assert _listeners(ws.root) == {}


# --- kill -9 at the worst moments, on purpose: the deployer kills itself where the random test rarely lands -------

KILLED_AT = textwrap.dedent("""
    import os, signal, sys
    from aci_widgets.core import AciWebservice, ContainerImage, Webservice, Workspace, webservice
    root, name, moment = sys.argv[1], sys.argv[2], sys.argv[3]
    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    if moment == "spawned":  # the server exists, its pid is not recorded yet
        record = webservice._record_started
        webservice._record_started = lambda ws, n, handle: die() if handle.get("pid") else record(ws, n, handle)
    elif moment == "replacing":  # building the new image, the old server still runs
        webservice._ensure_image = die
    ws = Workspace("ws1", path=root)
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python",
                                                conda_file="myenv.yml")
    Webservice.deploy(ws, name, ["weights.npy"], config, AciWebservice.deploy_configuration(),
                      overwrite=True).wait_for_deployment()
""")


def _deploy_and_die(ws: Workspace, name: str, moment: str, **env: str) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLED_AT, str(ws.root), name, moment], env=os.environ | env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr


@pytest.mark.parametrize("prewarm", ["1", "0"], ids=["forked", "cold"])
def test_a_deployer_killed_between_spawning_and_recording_leaves_nothing_the_next_open_misses(
        numpy_model, tmp_path, prewarm):
    ws = Workspace.create("ws1", target="process", path=tmp_path / "ws")
    _deploy_and_die(ws, "spawned", "spawned", ACI_WIDGETS_PREWARM=prewarm)
    folder = ws.root / "process" / "services" / "spawned"
    assert _processes_in(folder)  # the server runs; the row holds only its start token
    assert ws.registry.get("services", name="spawned")["handle"]["pid"] is None
    reopened = Workspace("ws1", path=ws.root)
    assert _processes_in(ws.root) == [] and _listeners(ws.root) == {}
    assert Webservice(reopened, "spawned").state == "Failed"


def test_a_deployer_killed_while_replacing_leaves_the_old_server_tracked(numpy_model, tmp_path):
    ws = Workspace.create("ws1", target="process", path=tmp_path / "ws")
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python", conda_file="myenv.yml")
    old = Webservice.deploy(ws, "kept", ["weights.npy"], config)
    old.wait_for_deployment()
    old_pid = old._row["handle"]["pid"]
    _deploy_and_die(ws, "kept", "replacing")
    assert ws.registry.get("services", name="kept")["handle"]["pid"] == old_pid  # still named while it runs
    Workspace("ws1", path=ws.root)  # the next open stops it
    assert _processes_in(ws.root) == [] and _listeners(ws.root) == {}
