"""Limits and timeouts of one server, gathered in one place so the CLI, the server and the tests agree."""

from __future__ import annotations

from typing import NamedTuple

MIB = 1024 * 1024


class Settings(NamedTuple):
    """What the CLI decided; the server only reads it. (A NamedTuple: cheaper to import than a dataclass.)"""

    host: str = "127.0.0.1"
    port: int = 0
    name: str = "aci-widgets-service"
    max_body_bytes: int = 100 * MIB
    max_header_bytes: int = 64 * 1024
    header_timeout: float = 10.0  # from a request's first byte (or the connection's start) to its blank line
    body_timeout: float = 30.0  # longest silence while a body is arriving; also the grace before min_body_rate
    min_body_rate: float = 500.0  # bytes/s a body must average after its grace (Apache mod_reqtimeout's MinRate)
    keepalive_timeout: float = 5.0  # idle time allowed between two requests on one connection
    linger_timeout: float = 2.0  # after an error answer, how long unread input is drained before closing
    shutdown_timeout: float = 5.0  # on SIGTERM, how long in-flight requests may take (docker stop waits 10 s)
    max_connections: int = 1000  # per process: over it, an idle keep-alive connection is closed, else 503
    # Request bodies held at once by one worker, all connections together; beyond it 503 + Retry-After. 0: the
    # default, max(256 MiB, 2 x max_body_bytes): a quarter of the default 1 GB container for raw bodies (run()'s
    # parsing multiplies them), while two bodies of the largest accepted size still fit.
    max_held_body_bytes: int = 0
    scoring_timeout: float = 60.0  # seconds run() may take (azureml's scoring_timeout_ms); then 504, worker replaced
    allowed_hosts: tuple[str, ...] = ()  # Host names (with or without :port) beside loopback's; ("*",): any
    cors_origins: tuple[str, ...] = ()  # origins allowed cross-origin requests (CORS); ("*",): any
    access_log: bool = False

    @property
    def held_body_limit(self) -> int:
        return self.max_held_body_bytes or max(256 * MIB, 2 * self.max_body_bytes)
