"""What runs on this machine for a workspace, and stopping it: ``aci-widgets ps`` and ``aci-widgets stop --all``.

Each target says what it runs (``Target.running``: servers, pre-warmed processes, containers) and stops what no
service needs (``Target.stop_unused``); the core knows only the workspace's service rows.
"""

from __future__ import annotations

import contextlib
from importlib import metadata
from typing import TYPE_CHECKING, Any

from .target import _BUILTIN, Running, Target, target_class

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = ["Running", "running", "stop_all", "stop_unused"]


def running(ws: Workspace) -> list[Running]:
    """Services (with pid or container, port and state), pre-warmed processes and containers of ``ws``."""
    rows = _services(ws)
    return [found for target in _targets(rows) for found in target.running(ws, rows.get(target.name, {}))]


def stop_unused(ws: Workspace) -> list[Running]:
    """Stop what runs for ``ws`` that none of its services needs (pre-warmed processes with no server left,
    servers or containers no service names); return what was stopped. Services stay."""
    rows = _services(ws)
    return [found for target in _targets(rows) for found in target.stop_unused(ws, rows.get(target.name, {}))]


def stop_all(ws: Workspace) -> list[Running]:
    """Delete every service of ``ws`` (its images and models stay), then stop what was left for them."""
    from .webservice import Webservice

    stopped = []
    for target_name, services in _services(ws).items():
        for name, handle in services.items():
            with contextlib.suppress(Exception):  # a service deleted meanwhile by someone else is fine
                Webservice(ws, name).delete()
            stopped.append(Running("service", target_name, name, "deleted", handle.get("pid"), handle.get("port")))
    return stopped + stop_unused(ws)


def _services(ws: Workspace) -> dict[str, dict[str, dict[str, Any]]]:
    """target -> service name -> handle (``{}`` while it deploys), from the workspace's rows."""
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for row in ws.registry.select("services"):
        rows.setdefault(row.get("target") or "", {})[row["name"]] = row.get("handle") or {}
    return rows


def _targets(rows: dict[str, Any]) -> list[Target]:
    """Every installed target that can be used here (a target that cannot, say Docker without an engine, runs
    nothing we could list or stop)."""
    names = sorted({ep.name for ep in metadata.entry_points(group="aci_widgets.targets")} | set(_BUILTIN) | set(rows))
    targets = []
    for name in names:
        try:
            cls = target_class(name)
        except Exception:  # noqa: BLE001 - an unknown or broken target lists nothing
            continue
        if cls.unavailable_reason() is None:
            targets.append(cls())
    return targets
