"""Helpers for the runtime tests: start the real server as a subprocess, talk to it over raw sockets."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SCORES = Path(__file__).resolve().parent / "scores"
NUMPY_SCORE = SCORES / "numpy_score.py"
WEIGHTS = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
START_TIMEOUT = 60.0  # a bound for a broken start, not a speed goal


def runtime_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment with the repository importable and no auth keys unless asked for."""
    env = dict(os.environ)
    env.pop("ACI_WIDGETS_AUTH_KEYS", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.update(extra or {})
    return env


def make_model_dir(root: Path) -> Path:
    """``<root>/linear/1/weights.npy``: the layout every target gives the runtime."""
    version_dir = root / "linear" / "1"
    version_dir.mkdir(parents=True)
    np.save(version_dir / "weights.npy", WEIGHTS)
    return root


def write_score(directory: Path, source: str, name: str = "score.py") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(source)
    return path


class RawClient:
    """A keep-alive HTTP/1.1 client on one socket, so tests see exactly what goes over the wire."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body)}")
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buf += chunk
        return bool(chunk)

    def read_response(self) -> tuple[int, dict[str, str], bytes]:
        """One response: status, headers (lower-case names), body (Content-Length framed)."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                raise ConnectionError(f"connection closed before a full response head: {self.buf!r}")
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            if not self._fill():
                raise ConnectionError("connection closed in the middle of a body")
        body, self.buf = self.buf[:length], self.buf[length:]
        return int(status_line.split()[1]), headers, body

    def read_until_closed(self) -> bytes:
        """Whatever arrives until the server closes the connection; a server that never does hits the
        socket timeout, which raises."""
        try:
            while self._fill():
                pass
        except ConnectionResetError:
            pass
        rest, self.buf = self.buf, b""
        return rest

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Server:
    """A running (or finished) ``python -m aci_widgets.runtime`` and what it wrote."""

    proc: subprocess.Popen
    ready: dict
    stderr_path: Path
    ready_file: Path
    port: int = 0
    clients: list[RawClient] = field(default_factory=list)

    def client(self, timeout: float = 10.0) -> RawClient:
        c = RawClient(self.port, timeout)
        self.clients.append(c)
        return c

    def call(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One request on a fresh connection."""
        with RawClient(self.port) as c:
            c.request(method, path, body, headers)
            return c.read_response()

    def score(self, payload: object, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        return self.call("POST", "/score", json.dumps(payload).encode(), headers)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        for c in self.clients:
            c.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


def launch(
    workdir: Path,
    score: Path,
    *args: str,
    model_dir: Path | None = None,
    env: dict[str, str] | None = None,
    wait: bool = True,
    cwd: Path = REPO,
) -> Server:
    """Start the runtime and wait for its ready file (written when it serves, or when start-up failed)."""
    workdir.mkdir(parents=True, exist_ok=True)
    ready_file = workdir / "ready.json"
    stderr_path = workdir / "stderr.txt"
    cmd = [sys.executable, "-m", "aci_widgets.runtime", "--score", str(score), "--ready-file", str(ready_file)]
    if model_dir is not None:
        cmd += ["--model-dir", str(model_dir)]
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen([*cmd, *args], cwd=cwd, env=runtime_env(env), stdout=subprocess.DEVNULL, stderr=err)
    give_up = time.monotonic() + START_TIMEOUT
    while wait and not ready_file.exists():
        if proc.poll() is not None and not ready_file.exists():
            break
        if time.monotonic() > give_up:
            proc.kill()
            pytest.fail(f"the runtime wrote no ready file:\n{stderr_path.read_text()}")
        time.sleep(0.01)
    ready = json.loads(ready_file.read_text()) if ready_file.exists() else {}
    return Server(proc, ready, stderr_path, ready_file, int(ready.get("port", 0)))


# A fixture that starts a server (see conftest.start_server).
StartServer = Callable[..., Server]
