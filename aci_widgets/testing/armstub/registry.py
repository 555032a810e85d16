"""Debian's ``docker-registry`` on 127.0.0.1 and a free port, with htpasswd (bcrypt) basic auth."""

from __future__ import annotations

import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ImageRegistry:
    """``server`` is ``127.0.0.1:PORT``; ``username`` / ``password`` are the only credentials it accepts.

    ``stop()`` then ``start()`` again serves the same storage on the same port with the same credentials: what was
    pushed stays, and the engine still knows which layers this registry holds (a restart costs no push).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.server = f"127.0.0.1:{self.port}"
        self.username = "ml"
        self.password = secrets.token_urlsafe(12)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ImageRegistry:
        htpasswd = self.folder / "htpasswd"
        line = subprocess.run(["htpasswd", "-Bbn", self.username, self.password], check=True,
                              capture_output=True, text=True).stdout.strip()
        htpasswd.write_text(line + "\n")
        config = {"version": 0.1, "log": {"level": "warn"},
                  "storage": {"filesystem": {"rootdirectory": str(self.folder / "data")}, "delete": {"enabled": True}},
                  "http": {"addr": self.server},
                  "auth": {"htpasswd": {"realm": "armstub", "path": str(htpasswd)}}}
        config_file = self.folder / "registry.yml"
        config_file.write_text(yaml.safe_dump(config))
        log = open(self.folder / "registry.log", "wb")  # noqa: SIM115 - the process keeps it
        self.process = subprocess.Popen(["docker-registry", "serve", str(config_file)], stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("docker-registry exited: " + (self.folder / "registry.log").read_text()[-2000:])
            try:
                urllib.request.urlopen(f"http://{self.server}/v2/", timeout=1)
            except urllib.error.HTTPError as exc:
                if exc.code == 401:  # up, and asking for credentials
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("docker-registry did not answer within 30 s")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
