"""Register the HTML cards with IPython's display formatters, and take them away again on unload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def install_formatters(shell: Any) -> Callable[[], None]:
    """Make ``Webservice``, ``Model`` and ``Image`` results render as cards; returns the undo function.

    Only the ``text/html`` formatter is touched, so a terminal (which shows ``text/plain``) keeps the
    objects' own ``__repr__``.
    """
    from ..core import Image, Model, Webservice
    from .html_cards import image_html, model_html, webservice_html

    formatter = shell.display_formatter.formatters["text/html"]
    previous = {cls: formatter.for_type(cls, printer)
                for cls, printer in ((Webservice, webservice_html), (Model, model_html), (Image, image_html))}

    def uninstall() -> None:
        for cls, old in previous.items():
            formatter.pop(cls, None)
            if old is not None:
                formatter.for_type(cls, old)

    return uninstall
