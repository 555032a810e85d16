"""Connecting to the Docker engine, and saying in one line why we cannot.

Every other module asks here for a client, so that ``DOCKER_HOST`` and friends are honoured in one place.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import docker
from docker.utils import kwargs_from_env

DEFAULT_ENGINE = "unix:///var/run/docker.sock"
PING_TIMEOUT = 2.0          # seconds: auto-detection must not hang a notebook
API_TIMEOUT = 120           # seconds per request for ordinary calls (inspect, create, remove)


def engine_url() -> str:
    """Where we look for the engine: ``$DOCKER_HOST`` or the default socket."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_ENGINE


def unavailable_reason(timeout: float = PING_TIMEOUT) -> str | None:
    """None when an engine answers a ping within ``timeout`` seconds, else one line: the cause and a fix."""
    url = engine_url()
    try:
        client = docker.DockerClient(timeout=timeout, **kwargs_from_env())
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable here"; the line says why
        text = str(exc)
        if "Permission denied" in text or "PermissionError" in text:
            return (f"the Docker engine at {url} refused this user (permission denied): add the user to the "
                    "`docker` group or run as root")
        return (f"no Docker engine answered at {url} (start one with `sudo systemctl start docker` "
                "or Docker Desktop)")
    return None


@functools.lru_cache(maxsize=1)
def docker_client() -> docker.DockerClient:
    """One shared high-level client per process (its connection pool is thread-safe for our calls)."""
    return docker.DockerClient(timeout=API_TIMEOUT, **kwargs_from_env())


def api_kwargs() -> dict[str, Any]:
    """Arguments for a dedicated low-level ``APIClient`` (the build uses its own, so that it can cut it)."""
    return dict(kwargs_from_env(), version=docker_client().api.api_version)
