"""The prediction gallery: random MNIST digits sent to a service, drawn with the predicted labels."""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import numpy as np

from ..core.errors import AciWidgetsError
from .prediction import PredictionSample, predict_sample
from .static import StaticFallback


class PredictionGallery(StaticFallback, widgets.VBox):
    """A PNG of ``n`` digits (green: right, red: wrong), the accuracy and latency, and "Sample again".

    Displayed, it carries the PNG (``image/png``) as its static copy, for saved notebooks.

    ``service`` is a ``Webservice`` or any ``predict(body: str)`` callable. The first sample is taken at once
    and its errors raise; later ones (the button) show their error in the summary line instead.
    """

    def __init__(self, service: Any, n: int = 8, seed: int | None = None,
                 data: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self._predict: Callable[[str], Any] = service.run if hasattr(service, "run") else service
        self.n = n
        self.rng = np.random.default_rng(seed)
        self.data = data
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.summary = widgets.HTML("")
        self.again = widgets.Button(description="Sample again", icon="refresh")
        self.again.on_click(lambda _button: self._sample_shown())
        super().__init__([self.image, widgets.HBox([self.again, self.summary])])
        self.last: PredictionSample | None = None
        self.sample()

    def sample(self) -> PredictionSample:
        """Send ``n`` new random digits and redraw."""
        sample = predict_sample(self._predict, self.n, self.rng, self.data)
        self.last = sample
        self.image.value = sample.png()
        colour = "#107c10" if sample.correct == len(sample.labels) else "#c87800"
        self.summary.value = f'<span style="color:{colour};margin-left:1em">{html.escape(sample.summary())}</span>'
        return sample

    def _sample_shown(self) -> None:
        self.again.disabled = True
        try:
            self.sample()
        except Exception as exc:  # noqa: BLE001 - a click has nowhere else to report
            text = str(exc) if isinstance(exc, AciWidgetsError) else f"{type(exc).__name__}: {exc}"
            self.summary.value = f'<span style="color:#d13438;margin-left:1em">{html.escape(text)}</span>'
        finally:
            self.again.disabled = False

    def static_bundle(self) -> dict[str, Any]:
        """The digits as a PNG, and the summary line as text."""
        if self.last is None:
            return {}
        return {"image/png": base64.b64encode(self.image.value).decode("ascii"), "text/plain": self.last.summary()}
