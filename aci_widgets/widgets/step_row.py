"""One step of a deployment (register, build, start, health) with its state icon and elapsed seconds."""

from __future__ import annotations

import html

import ipywidgets as widgets
import traitlets

# Glyphs that DejaVu Sans and DejaVu Sans Mono draw (a browser with only fonts-dejavu-core has no emoji font);
# the running step is drawn as a CSS spinner (its glyph "…" is for the text copy of the panel).
ICONS = {"pending": "○", "running": "…", "done": "✔", "failed": "✘", "cancelled": "⊘", "skipped": "–"}
COLOURS = {"pending": "#6b6b6b", "running": "#0078d4", "done": "#107c10", "failed": "#d13438",
           "cancelled": "#6b6b6b", "skipped": "#9b9b9b"}
STATES = tuple(ICONS)
SPINNER = ('<style>@keyframes aci-spin{to{transform:rotate(360deg)}}</style>'
           '<span class="aci-spinner" title="running" style="display:inline-block;box-sizing:border-box;width:0.8em;'
           'height:0.8em;vertical-align:-0.1em;border:2px solid #0078d4;border-right-color:transparent;'
           'border-radius:50%;animation:aci-spin 0.8s linear infinite"></span>')


def step_icon(state: str) -> str:
    """The state's icon as HTML: a spinner while running, else a glyph every DejaVu font has."""
    return SPINNER if state == "running" else ICONS[state]


class StepRow(widgets.HTML):
    """A step's line; set ``state``, ``seconds`` and ``message`` and it redraws (one comm message each)."""

    step = traitlets.Unicode()
    state = traitlets.Enum(STATES, default_value="pending")
    seconds = traitlets.Float(None, allow_none=True)
    message = traitlets.Unicode("")

    def __init__(self, step: str, **kwargs: object) -> None:
        super().__init__(step=step, **kwargs)
        self.observe(self._draw, ["state", "seconds", "message"])
        self._draw()

    def _draw(self, _change: object = None) -> None:
        seconds = "" if self.seconds is None else f"{self.seconds:.1f} s"
        if self.state == "running" and seconds:
            seconds += "…"
        message = f' <span style="color:#6b6b6b">{html.escape(self.message)}</span>' if self.message else ""
        self.value = (
            f'<div style="font-family:monospace"><span style="color:{COLOURS[self.state]};display:inline-block;'
            f'width:1.5em">{step_icon(self.state)}</span><span style="display:inline-block;width:11em">'
            f'{html.escape(self.step)}</span><span style="display:inline-block;width:6em;text-align:right">'
            f'{seconds}</span>{message}</div>')

    def text(self) -> str:
        """The row as one plain line (the panel's text copy)."""
        seconds = "" if self.seconds is None else f"{self.seconds:.1f} s"
        return f"{ICONS[self.state]} {self.step:<16}{seconds:>8}  {self.message}".rstrip()
