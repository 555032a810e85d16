"""Is the scoring server answering, and if its container stopped, why (in words a user can act on)."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import tarfile
import time
from typing import TYPE_CHECKING, Any

from docker.errors import APIError, NotFound

from ...core.errors import OperationCancelled, WebserviceException
from .dockerfile import READY_FILE

if TYPE_CHECKING:
    from ...core.operation import Reporter

POLL_INTERVAL = 0.02          # seconds between two health probes
LOG_TAIL = 20


def http_ok(port: int, timeout: float = 1.0, host: str = "127.0.0.1") -> bool:
    """True if ``GET /`` on the port answers 200 (the runtime's liveness answer)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        response.read()
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def oom_message(memory_gb: float | str) -> str:
    return (f"the container ran out of memory (limit {memory_gb} GB): raise memory_gb in "
            "AciWebservice.deploy_configuration")


def memory_gb_of(container: Any) -> str:
    """The memory limit as the user gave it (kept in a label), else as the engine enforces it."""
    label = (container.labels or {}).get("aci_widgets.memory_gb")
    if label:
        return label
    limit = container.attrs.get("HostConfig", {}).get("Memory") or 0
    return f"{limit / 1024**3:.3g}" if limit else "unknown"


def log_tail(container: Any, lines: int = LOG_TAIL) -> str:
    with contextlib.suppress(APIError):
        return container.logs(stdout=True, stderr=True, tail=lines).decode("utf-8", "replace").rstrip()
    return ""


def read_ready_file(container: Any) -> dict[str, Any] | None:
    """The runtime's ready file from inside the container (readable after it exited too), or None."""
    try:
        stream, _ = container.get_archive(READY_FILE)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.next()
            handle = tar.extractfile(member) if member else None
            return json.loads(handle.read()) if handle else None
    except (APIError, tarfile.TarError, ValueError, OSError):
        return None


def exit_failure(container: Any, service: str) -> WebserviceException:
    """Why an exited container stopped: out of memory, init() failed (with its traceback), or exit code."""
    state = container.attrs.get("State", {})
    code = state.get("ExitCode")
    if state.get("OOMKilled"):
        return WebserviceException(f"Service {service} stopped: {oom_message(memory_gb_of(container))}.",
                                   detail=log_tail(container))
    ready = read_ready_file(container)
    if ready and ready.get("status") == "failed":
        error = ready.get("error") or "init() raised an exception"
        return WebserviceException(f"Service {service} failed to start: its score.py raised {error} "
                                   f"(exit status {code})",
                                   detail=ready.get("traceback") or log_tail(container))
    return WebserviceException(
        f"Service {service} stopped: its scoring server exited with status {code}"
        f"{' (killed)' if code == 137 else ''}; the last log lines follow.", detail=log_tail(container))


def wait_for_health(container: Any, port: int, service: str, report: Reporter,
                    timeout: float) -> None:
    """Probe ``GET /`` every 20 ms until it answers 200; raise as soon as the container stops or on cancel."""
    deadline = time.monotonic() + timeout
    while True:
        if report.cancelled:
            raise OperationCancelled(f"Starting service {service} was cancelled.")
        if http_ok(port, timeout=2.0):
            return
        try:
            container.reload()
        except NotFound:
            raise WebserviceException(
                f"Service {service}: its container was removed while starting.") from None
        if container.status in ("exited", "dead"):
            raise exit_failure(container, service)
        if time.monotonic() > deadline:
            raise WebserviceException(
                f"Service {service} did not answer on port {port} within {timeout:.0f} s; the last log lines "
                "follow.", detail=log_tail(container))
        time.sleep(POLL_INTERVAL)
