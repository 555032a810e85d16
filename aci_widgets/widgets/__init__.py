"""The notebook's widgets: small ipywidgets that subscribe to the core's events and call its public API.

Each widget lives in its own module; names are imported on first use so that ``%load_ext aci_widgets`` does not
pay for ipywidgets (or matplotlib) until a widget is actually shown.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DeploymentProgress": "progress",
    "DeployForm": "deploy_form",
    "ServiceCard": "service_card",
    "PredictionGallery": "gallery",
    "StateBadge": "badge",
    "StepRow": "step_row",
    "LogView": "log_view",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
