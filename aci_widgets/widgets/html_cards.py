"""Static HTML cards for ``Webservice``, ``Model`` and ``Image``: how they look as a cell's result in a notebook.

Plain HTML (no widget, no comm), so they survive in a saved notebook. The core keeps only its ``__repr__``.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any

COLOURS = {
    "Healthy": "#107c10", "Succeeded": "#107c10",
    "Transitioning": "#0078d4", "Running": "#0078d4", "Waiting": "#0078d4", "NotStarted": "#6b6b6b",
    "Unhealthy": "#c87800",
    "Failed": "#d13438",
    "Cancelled": "#6b6b6b", "Deleted": "#6b6b6b", "Unknown": "#6b6b6b",
}


def badge_html(state: str) -> str:
    """An inline HTML pill for ``state``; also used by the static HTML cards."""
    colour = COLOURS.get(state, "#6b6b6b")
    return (f'<span class="aci-badge" style="background:{colour};color:white;border-radius:0.8em;'
            f'padding:0.1em 0.7em;font-size:0.9em;font-weight:600">{html.escape(state)}</span>')


_CARD = ('<div class="aci-card" style="border:1px solid #d0d0d0;border-radius:6px;padding:0.5em 0.9em;'
         'max-width:60em">{body}</div>')


def _rows(pairs: list[tuple[str, str]]) -> str:
    cells = "".join(f'<tr><td style="text-align:left;color:#6b6b6b;padding-right:1em">{html.escape(k)}</td>'
                    f'<td style="text-align:left">{v}</td></tr>' for k, v in pairs if v)
    return f"<table>{cells}</table>"


def _link(uri: str | None) -> str:
    return f'<a href="{html.escape(uri)}" target="_blank">{html.escape(uri)}</a>' if uri else ""


def age(when: datetime, now: datetime | None = None) -> str:
    """'42 s', '5 min', '3 h', '2 d': how long ago ``when`` was."""
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _safe(read: Any, default: str = "") -> Any:
    """A card must render even when the service cannot be asked (deleted meanwhile, target gone)."""
    try:
        return read()
    except Exception:  # noqa: BLE001 - display code never raises
        return default


def webservice_html(service: Any) -> str:
    """Name, state badge, target, scoring and swagger links, image, auth."""
    state = _safe(lambda: service.state, "Unknown")
    error = _safe(lambda: service.error) if state in ("Failed", "Unhealthy") else ""
    title = f'<b style="font-size:1.1em">{html.escape(service.name)}</b> {badge_html(state)}'
    rows = _rows([
        ("target", html.escape(_safe(lambda: service.target) or "")),
        ("scoring URI", _link(_safe(lambda: service.scoring_uri, None))),
        ("swagger", _link(_safe(lambda: service.swagger_uri, None))),
        ("image", html.escape(_safe(lambda: service.image_id) or "")),
        ("auth", "keys required" if _safe(lambda: service.auth_enabled, False) else ""),
        ("created", f"{age(service.created_time)} ago"),
        ("error", f'<span style="color:#d13438">{html.escape(error)}</span>' if error else ""),
    ])
    return _CARD.format(body=f"<div>Webservice {title}</div>{rows}")


def model_html(model: Any) -> str:
    """Name:version, files, size, tags, description."""
    tags = ", ".join(f"{k}={v}" for k, v in model.tags.items())
    rows = _rows([
        ("files", html.escape(", ".join(model.files))),
        ("size", f"{model.size:,} bytes"),
        ("tags", html.escape(tags)),
        ("description", html.escape(model.description or "")),
        ("registered", f"{age(model.created_time)} ago"),
    ])
    return _CARD.format(body=f'<div>Model <b style="font-size:1.1em">{html.escape(model.id)}</b></div>{rows}')


def image_html(image: Any) -> str:
    """Id, build state, models, where it was built."""
    state = _safe(lambda: image.creation_state, "Unknown")
    info = _safe(image.serialize, {})
    rows = _rows([
        ("models", html.escape(", ".join(info.get("models", [])))),
        ("built on", html.escape(", ".join(info.get("targets", [])))),
        ("tags", html.escape(", ".join(f"{k}={v}" for k, v in image.tags.items()))),
        ("created", f"{age(image.created_time)} ago"),
        ("error", f'<span style="color:#d13438">{html.escape(image.error)}</span>' if image.error else ""),
    ])
    return _CARD.format(body=f'<div>Image <b style="font-size:1.1em">{html.escape(image.id)}</b> '
                             f"{badge_html(state)}</div>{rows}")
