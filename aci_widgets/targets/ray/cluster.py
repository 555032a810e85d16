"""A local Ray cluster of our own: ``ray start --head --block`` in its own session, its own temp folder, free
ports and token authentication, stopped by its process id (``ray stop`` would stop every Ray on the machine).

``--block`` keeps the head's launcher in the foreground: its pid is the session's, so stopping the session's
processes stops the whole node and nothing else.
"""

from __future__ import annotations

import contextlib
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
    command = [str(Path(sys.executable).with_name("ray")), "start", "--head", "--block",
               "--temp-dir", ray_dir, "--node-ip-address", "127.0.0.1", "--port", str(ports["gcs"]),
               "--dashboard-host", "127.0.0.1", "--dashboard-port", str(ports["dashboard"]),
               "--ray-client-server-port", str(ports["client"]), "--disable-usage-stats"]
    if num_cpus:
        command += ["--num-cpus", str(num_cpus)]
    env = {**os.environ, **cluster_env(record), "HOME": str(folder)}  # Ray writes nothing to the user's home
    out = open(folder / "head.log", "ab")  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True, cwd=folder)
    out.close()
    record["pid"] = proc.pid
    try:
        wait_dashboard(record, proc)
    except BaseException:
        stop_head(record)
        raise
    return record


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
