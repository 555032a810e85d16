"""A widget output that a saved notebook can still show: a static copy (HTML or PNG) beside the widget view.

GitHub does not run widgets, and nbviewer or ``nbconvert --to html`` draw one only when the notebook stored its
state. So each of our widgets is displayed as one bundle holding the widget view *and* a static copy of what it
shows; a frontend with widgets picks the view, anything else the copy. The copy is taken when the widget is
displayed, and widgets whose state ends later (a deployment, a deleted service) refresh it with ``update_static``
through the display's id: ``update_display_data`` reaches the stored output wherever the cell is.
"""

from __future__ import annotations

import threading
from typing import Any

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class StaticFallback:
    """Mixin for an ipywidgets ``Widget``: define ``static_bundle()`` (e.g. ``{"text/html": ...}``)."""

    def static_bundle(self) -> dict[str, Any]:
        """The static copy of what the widget shows now, by mime type."""
        raise NotImplementedError

    def display_bundle(self) -> dict[str, Any]:
        """The widget view, the static copy and a short text/plain, as one output."""
        bundle = dict(self._repr_mimebundle_())  # type: ignore[attr-defined] - from ipywidgets.Widget
        bundle.update(self.static_bundle())
        return bundle

    def _ipython_display_(self, **_kwargs: Any) -> None:
        from IPython.display import display

        handle = display(self.display_bundle(), raw=True, display_id=True)
        if handle is not None:
            with _handles_lock:
                self.__dict__.setdefault("_static_handles", []).append(handle)
        self.on_displayed()

    def on_displayed(self) -> None:
        """Called after each display (a card starts following its service here)."""

    def update_static(self) -> None:
        """Refresh the static copy of every display of this widget (call it when the widget's outcome changes)."""
        with _handles_lock:
            handles = list(self.__dict__.get("_static_handles", []))
        if not handles:
            return
        bundle = self.display_bundle()
        for handle in handles:
            handle.update(bundle, raw=True)


_handles_lock = threading.Lock()
