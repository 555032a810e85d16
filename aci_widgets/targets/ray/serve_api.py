"""Ray Serve driven declaratively through the cluster's dashboard (``/api/serve/applications/``), as Ray's docs
recommend for production (the REST form of ``serve deploy config.yaml``): no Ray driver in the notebook's process.

The PUT replaces the cluster's whole set of applications, so a change reads the set, replaces one application
and writes it back, under a lock per cluster (deployments from this machine never overwrite each other).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import filelock

from aci_widgets.core.errors import TargetUnavailable, WebserviceException

from .cluster import _request, wait_dashboard

APPS = "/api/serve/applications/"


def call(record: dict[str, Any], method: str = "GET", body: Any = None, timeout: float = 120.0) -> Any:
    """One call of the dashboard's Serve REST API. The dashboard answers a PUT only once it has checked the new
    config, which takes tens of seconds on a busy 2-core machine: a short timeout would fail deployments that
    went through.

    On a loaded machine the dashboard has dropped the first calls after ~30 s while its Serve module was still
    connecting to the cluster (and once restarted): a call whose connection the dashboard closed is sent again,
    and a PUT that failed any other way is sent again once the dashboard answers. Both are safe: a GET reads, and
    a PUT states the whole config. A GET refused outright is not retried: a cluster that is gone reads so at once.
    """
    attempts = 3
    data = None if body is None else json.dumps(body).encode()
    for attempt in range(1, attempts + 1):
        req = _request(record, APPS, method=method, data=data,
                       headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
            return json.loads(raw) if raw.strip() else None
        except urllib.error.HTTPError as exc:
            raise WebserviceException(f"Ray Serve refused {method} {APPS}: {exc.code} "
                                      f"{exc.read().decode(errors='replace')[:2000]}") from exc
        except (OSError, http.client.HTTPException) as exc:
            if attempt < attempts and (method == "PUT" or isinstance(exc, http.client.RemoteDisconnected)):
                with contextlib.suppress(TargetUnavailable):
                    wait_dashboard(record, timeout=timeout)
                    continue
            raise WebserviceException(f"The Ray cluster's dashboard at {record['dashboard_url']} does not answer "
                                      f"({exc}); is the cluster running? ComputeTarget(ws, name).get_status()"
                                      ) from exc
    raise AssertionError("unreachable")


def details(record: dict[str, Any]) -> dict[str, Any]:
    return call(record) or {}


def put_application(record: dict[str, Any], app: dict[str, Any] | None, name: str) -> None:
    """Write the cluster's applications with ``name`` replaced by ``app`` (None: removed)."""
    lock = Path(record["lock"]) if record.get("lock") else None
    with filelock.FileLock(lock) if lock else contextlib.nullcontext():
        current = details(record)
        apps = [a["deployed_app_config"] for n, a in (current.get("applications") or {}).items()
                if n != name and a.get("deployed_app_config")]
        if app is not None:
            apps.append(app)
        http = {"host": record.get("http_host", "127.0.0.1"), "port": int(record.get("http_port", 8000))}
        config: dict[str, Any] = {"http_options": http, "applications": apps}
        if record.get("started_here"):
            # Every node of a local cluster shares 127.0.0.1: one proxy (the head's) owns the port. On a cluster
            # of many hosts Serve's default stays, a proxy per node behind the cluster's load balancer.
            config["proxy_location"] = "HeadOnly"
        call(record, "PUT", config)

