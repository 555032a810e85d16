"""Register how ``Webservice``, ``Model`` and ``Image`` results look in a notebook, and undo it on unload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def install_formatters(shell: Any, use_widgets: Callable[[], bool] = lambda: False) -> Callable[[], None]:
    """Make ``Webservice``, ``Model`` and ``Image`` results render as cards; returns the undo function.

    A ``Webservice`` shown where widgets can be seen (``use_widgets()``) is the live service card (state, Test,
    Logs, Delete; it follows the service), with the static HTML card beside it for saved notebooks; elsewhere,
    and for ``Model`` and ``Image``, only the ``text/html`` formatter is touched, so a terminal (which shows
    ``text/plain``) keeps the objects' own ``__repr__``.
    """
    from ..core import Image, Model, Webservice
    from .html_cards import image_html, model_html, webservice_html

    def live_card(service: Any) -> dict[str, Any] | None:
        if not use_widgets():
            return None  # the text/html card and the plain repr
        from .service_card import ServiceCard

        card = ServiceCard(service)
        card.follow_service()
        bundle = card.display_bundle()
        bundle["text/plain"] = repr(service)
        return bundle

    formatter = shell.display_formatter.formatters["text/html"]
    bundles = shell.display_formatter.mimebundle_formatter
    previous = {cls: formatter.for_type(cls, printer)
                for cls, printer in ((Webservice, webservice_html), (Model, model_html), (Image, image_html))}
    previous_bundle = bundles.for_type(Webservice, live_card)

    def uninstall() -> None:
        for cls, old in previous.items():
            formatter.pop(cls, None)
            if old is not None:
                formatter.for_type(cls, old)
        bundles.pop(Webservice, None)
        if previous_bundle is not None:
            bundles.for_type(Webservice, previous_bundle)

    return uninstall
