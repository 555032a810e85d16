"""A coloured state badge: the one glance that says whether a service or build is fine."""

from __future__ import annotations

import ipywidgets as widgets
import traitlets

from .html_cards import badge_html


class StateBadge(widgets.HTML):
    """An HTML widget whose ``state`` trait redraws the pill."""

    state = traitlets.Unicode("Waiting")

    def __init__(self, state: str = "Waiting", **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.observe(self._draw, "state")
        self.state = state
        self._draw()

    def _draw(self, _change: object = None) -> None:
        self.value = badge_html(self.state)
