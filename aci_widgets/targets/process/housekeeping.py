"""What the process target runs for a workspace (its servers, the pre-warmed processes that forked them), and
stopping what no service needs any more: ``aci-widgets ps`` and ``aci-widgets stop --all`` ask here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...core.target import Running, ServiceStatus
from ...core.workspace import Workspace
from . import prewarm
from .envs import envs_root
from .processes import stop_servers_in, terminate

NAME = "process"


def running(ws: Workspace, services: dict[str, dict[str, Any]],
            status: Callable[[Workspace, dict[str, Any]], ServiceStatus]) -> list[Running]:
    """The workspace's servers, then each pre-warmed process that serves them or serves nothing (it is on its way
    out); those serving only other workspaces are theirs."""
    found = [Running("service", NAME, name, status(ws, handle).state if handle else "Transitioning",
                     handle.get("pid"), handle.get("port"), handle.get("service_dir", ""))
             for name, handle in services.items()]
    for zygote in prewarm.all_zygotes(envs_root()):
        children = zygote.get("children") or []
        mine = [c for c in children if _in_workspace(ws, c["cwd"])]
        if children and not mine:
            continue
        state = f"serving {len(mine)} service(s)" if mine else "idle: no service left, exits by itself"
        found.append(Running("pre-warmed process", NAME, f"environment {Path(zygote['prefix']).name}", state,
                             zygote["zygote"], None, _describe(zygote)))
    return found


def stop_unused(ws: Workspace, services: dict[str, dict[str, Any]]) -> list[Running]:
    """Stop the workspace's servers that no service row names (a forked server whose row went), then every
    pre-warmed process that no server needs any more."""
    stopped = []
    for zygote in prewarm.all_zygotes(envs_root()):
        for child in zygote.get("children") or []:
            name = _service_of(ws, child["cwd"])
            if name is not None and name not in services:
                terminate(child["pid"], None)
                stopped.append(Running("service", NAME, name, "stopped (no service row named it)", child["pid"]))
    # Cold starts too, found by their start token (the service's folder): a server whose deployer was killed
    # before recording it, and whose row went since.
    folders = Path(ws.root) / "process" / "services"
    for folder in sorted(folders.iterdir()) if folders.is_dir() else []:
        pids = stop_servers_in(folder) if folder.name not in services else []
        if pids:
            stopped.append(Running("service", NAME, folder.name, "stopped (no service row named it)", min(pids),
                                   detail=f"processes {', '.join(map(str, sorted(pids)))}"))
    for zygote in prewarm.stop_idle(envs_root()):
        stopped.append(Running("pre-warmed process", NAME, f"environment {Path(zygote['prefix']).name}", "stopped",
                               zygote["zygote"], None, _describe(zygote)))
    return stopped


def _in_workspace(ws: Workspace, cwd: str) -> bool:
    return _service_of(ws, cwd) is not None


def _service_of(ws: Workspace, cwd: str) -> str | None:
    """The service whose app folder ``cwd`` is (``<workspace>/process/services/<name>/app``), if in ``ws``."""
    path = Path(cwd).resolve()
    services = Path(ws.root).resolve() / "process" / "services"
    if path.name == "app" and path.parent.parent == services:
        return path.parent.name
    return None


def _describe(zygote: dict[str, Any]) -> str:
    preloaded = [e for e in zygote.get("preloaded") or [] if not e.startswith(("hmac", "aci_widgets"))]
    memory = _rss_mb(int(zygote["zygote"]))
    return (f"{memory} MB, " if memory else "") + f"preloaded: {', '.join(preloaded) or 'the runtime only'}"


def _rss_mb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None
