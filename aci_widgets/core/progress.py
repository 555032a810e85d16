"""Where a service's deployment is, read from any process: its operation's journal, summed up.

The deploying process's :class:`~aci_widgets.core.operation.Operation` writes every event to
``<workspace>/operations/<service>.jsonl``; a front end in another process (the Jupyter server's Deployments
sidebar) reads it here to show the current step and how long the deployment has run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .operation import read_journal

if TYPE_CHECKING:
    from .workspace import Workspace


def journal_path(workspace: Workspace, name: str) -> Path:
    """The journal of service ``name``'s latest deployment (rewritten by each new one)."""
    return workspace.root / "operations" / f"{name}.jsonl"


def deployment_progress(workspace: Workspace, name: str) -> dict[str, Any] | None:
    """``{"step", "message", "started", "step_started", "finished", "state"}`` of service ``name``'s latest
    deployment, or None when no journal exists. ``started`` and ``step_started`` are Unix times."""
    events = read_journal(journal_path(workspace, name))
    if not events:
        return None
    summary: dict[str, Any] = {"step": None, "message": "", "started": events[0].get("at"), "step_started": None,
                               "finished": False, "state": None}
    for event in events:
        kind = event.get("type")
        if kind == "StepStarted":
            summary.update(step=event.get("step"), message=event.get("message") or "", step_started=event.get("at"))
        elif kind == "Finished":
            summary.update(finished=True, state=event.get("state"))
    return summary
