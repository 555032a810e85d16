"""What ``show_output=True`` does in a notebook: the live panel instead of printed lines.

Installed with ``events.set_presenter`` by ``%load_ext aci_widgets``. It draws a panel only where someone can
see it (a kernel with a frontend); anywhere else it hands the operation to the previous presenter, the printer.
"""

from __future__ import annotations

from collections.abc import Callable

from ..core.events import Presenter
from ..core.operation import Operation


class PanelPresenter:
    """Display a :class:`DeploymentProgress` and follow the operation in the calling (main) thread."""

    def __init__(self, fallback: Presenter, use_panel: Callable[[], bool]) -> None:
        self.fallback = fallback
        self.use_panel = use_panel
        self.last_panel = None

    def __call__(self, operation: Operation) -> None:
        if not self.use_panel():
            self.fallback(operation)
            return
        from IPython.display import display

        from .progress import DeploymentProgress

        panel = DeploymentProgress.for_operation(operation)
        self.last_panel = panel
        display(panel)
        panel.follow(operation)
