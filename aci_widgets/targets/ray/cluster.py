"""A local Ray cluster of our own: ``ray start --head --block`` in its own session, its own temp folder, free
ports and token authentication, stopped by its process id (``ray stop`` would stop every Ray on the machine).

``--block`` keeps the head's launcher in the foreground: its pid is the session's, so stopping the session's
processes stops the whole node and nothing else.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from aci_widgets.core.errors import TargetUnavailable

START_TIMEOUT = 240.0  # a loaded 2-core machine took 90 s to bring up the dashboard


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cluster_env(record: dict[str, Any]) -> dict[str, str]:
    """What a Ray process needs to join or call this cluster: token auth from the cluster's own token file, so
    nothing is read from or written to ``~/.ray``."""
    env = {"RAY_USAGE_STATS_ENABLED": "0"}
    if record.get("token_path"):
        env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=record["token_path"])
    return env


def start_head(folder: Path, num_cpus: int | None, log: Any = None) -> dict[str, Any]:
    """Start a head node whose files all live in ``folder``; return its record once its dashboard answers."""
    folder.mkdir(parents=True, exist_ok=True)
    token_path = folder / "auth_token"
    fd = os.open(token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    # Ray's session folder holds Unix sockets, whose paths may not pass 107 bytes: a short folder in the temp dir.
    ray_dir = tempfile.mkdtemp(prefix="aciw-ray-")
    ports = {k: free_port() for k in ("gcs", "dashboard", "client", "http")}
    record: dict[str, Any] = {
        "folder": str(folder), "ray_dir": ray_dir, "token_path": str(token_path),
        "address": f"127.0.0.1:{ports['gcs']}",
        "dashboard_url": f"http://127.0.0.1:{ports['dashboard']}", "client_address": f"ray://127.0.0.1:"
        f"{ports['client']}", "http_host": "127.0.0.1", "http_port": ports["http"], "started_here": True,
        "python": sys.executable}  # the cluster's workers run this Python (see target.to_install)
    command = ["--head", "--port", str(ports["gcs"]), "--dashboard-host", "127.0.0.1",
               "--dashboard-port", str(ports["dashboard"]), "--ray-client-server-port", str(ports["client"])]
    proc = _launch(record, folder, command, num_cpus, "head.log")
    try:
        wait_dashboard(record, proc)
        wait_serve_api(record, proc)
    except BaseException:
        stop_head(record)
        raise
    return record


def start_node(head: dict[str, Any], folder: Path, num_cpus: int | None = None,
               timeout: float = START_TIMEOUT) -> dict[str, Any]:
    """Join one more node to the cluster of ``head`` (a record from ``start_head``), its files in ``folder`` and
    its own Ray temp folder, as ``ray start --address`` does on another machine; return its record (``node_id``,
    ``pid``) once the cluster lists it alive. ``stop_head(record)`` stops it, by pid."""
    folder.mkdir(parents=True, exist_ok=True)
    known = {n["node_id"] for n in nodes(head)}
    record: dict[str, Any] = {"folder": str(folder), "ray_dir": tempfile.mkdtemp(prefix="aciw-ray-"),
                              "token_path": head.get("token_path"), "address": head["address"]}
    proc = _launch(record, folder, ["--address", head["address"]], num_cpus, "node.log")
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise TargetUnavailable(f"The Ray node exited with status {proc.returncode} while joining "
                                        f"{head['address']}: {_tail(folder / 'node.log')}")
            joined = [n for n in nodes(head) if n["node_id"] not in known and n.get("state") == "ALIVE"]
            if joined:
                record["node_id"] = joined[0]["node_id"]
                return record
            time.sleep(0.5)
        raise TargetUnavailable(f"The Ray node did not join {head['address']} within {timeout:.0f} s; see "
                                f"{folder}/node.log.")
    except BaseException:
        stop_head(record)
        raise


def _launch(record: dict[str, Any], folder: Path, args: list[str], num_cpus: int | None,
            log_name: str) -> subprocess.Popen[bytes]:
    """``ray start ... --block`` in its own session (its pid leads the session: ``stop_head`` stops it all), with
    its own temp folder, free agent ports (nodes on one host must not share them) and HOME in ``folder``."""
    command = [str(Path(sys.executable).with_name("ray")), "start", *args, "--block", "--temp-dir",
               record["ray_dir"], "--node-ip-address", "127.0.0.1", "--dashboard-agent-listen-port",
               str(free_port()), "--disable-usage-stats"]
    if num_cpus:
        command += ["--num-cpus", str(num_cpus)]
    env = {**os.environ, **cluster_env(record), "HOME": str(folder)}  # Ray writes nothing to the user's home
    out = open(folder / log_name, "ab")  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True, cwd=folder)
    out.close()
    record["pid"] = proc.pid
    return proc


def nodes(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The cluster's nodes (``node_id``, ``state``, ``is_head_node``...) from the dashboard's state API."""
    with urllib.request.urlopen(_request(record, "/api/v0/nodes?limit=1000"), timeout=30) as resp:
        answer = json.loads(resp.read())
    return list(answer["data"]["result"]["result"])


def wait_dashboard(record: dict[str, Any], proc: subprocess.Popen[bytes] | None = None,
                   timeout: float = START_TIMEOUT) -> None:
    """Wait until the cluster's dashboard (where Serve is driven from) answers with the cluster's token."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise TargetUnavailable(f"The Ray head node exited with status {proc.returncode} while starting: "
                                    f"{_tail(Path(record['folder']) / 'head.log')}")
        try:
            with urllib.request.urlopen(_request(record, "/api/version"), timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TargetUnavailable(f"The Ray cluster's dashboard did not answer at {record['dashboard_url']} within "
                            f"{timeout:.0f} s; see {record.get('folder', '')}/head.log.")


def wait_serve_api(record: dict[str, Any], proc: subprocess.Popen[bytes] | None = None,
                   timeout: float = START_TIMEOUT) -> None:
    """Wait until the dashboard's Serve API answers. Its first call connects the dashboard's Serve module to the
    cluster, which on a loaded 2-core machine took over 30 s, and the dashboard then dropped the call and
    restarted the module: done here, once, a cluster is ready for deployments when ``create`` returns."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise TargetUnavailable(f"The Ray head node exited with status {proc.returncode} while starting: "
                                    f"{_tail(Path(record['folder']) / 'head.log')}")
        try:
            with urllib.request.urlopen(_request(record, "/api/serve/applications/"), timeout=120):
                return
        except (OSError, http.client.HTTPException):
            time.sleep(1)
    raise TargetUnavailable(f"The Ray cluster's Serve API did not answer at {record['dashboard_url']} within "
                            f"{timeout:.0f} s; see {record.get('folder', '')}/head.log.")


def _request(record: dict[str, Any], path: str, **kwargs: Any) -> urllib.request.Request:
    req = urllib.request.Request(record["dashboard_url"] + path, **kwargs)
    if record.get("token_path"):
        req.add_header("Authorization", "Bearer " + Path(record["token_path"]).read_text().strip())
    return req


def session_pids(pid: int) -> list[int]:
    """The processes of the session led by ``pid`` (what ``start_head`` started): the node and its workers."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == pid:
                    found.append(int(entry))
            except OSError:
                pass
    return found


def stop_head(record: dict[str, Any], grace: float = 15.0) -> None:
    """Stop the node started by ``start_head`` (SIGTERM, then SIGKILL after ``grace``); idempotent."""
    pid = record.get("pid")
    if not pid:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        pids = session_pids(pid)
        if not pids:
            return
        for p in pids:
            with contextlib.suppress(OSError):
                os.kill(p, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _alive(session_pids(pid)):
            time.sleep(0.2)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap the launcher when this process started it
    if record.get("ray_dir") and not _alive(session_pids(pid)):
        shutil.rmtree(record["ray_dir"], ignore_errors=True)


def _alive(pids: list[int]) -> bool:
    """Any of ``pids`` still running (zombies, waiting for their parent to reap them, count as gone)."""
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    return True
        except OSError:
            pass
    return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
