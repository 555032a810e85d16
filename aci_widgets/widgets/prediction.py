"""Send N random MNIST test digits to a service and keep what came back: the data behind the gallery."""

from __future__ import annotations

import contextlib
import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import UserErrorException, WebserviceException

MAX_DIGITS = 100


@functools.lru_cache(maxsize=1)
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    """The MNIST test set (X in [0, 1], y), read once per kernel."""
    from ..mnist import MnistError, load_mnist

    try:
        return load_mnist("test")
    except MnistError as exc:
        raise UserErrorException(str(exc)) from None


@dataclass
class PredictionSample:
    """The digits sent, the labels, the service's predictions and how long the request took."""

    indices: np.ndarray
    images: np.ndarray
    labels: np.ndarray
    predictions: np.ndarray
    latency_seconds: float

    @property
    def correct(self) -> int:
        return int(np.sum(self.predictions == self.labels))

    @property
    def accuracy(self) -> float:
        return self.correct / len(self.labels)

    def summary(self) -> str:
        """One line: '7/8 correct (88%), request took 12 ms'."""
        return (f"{self.correct}/{len(self.labels)} correct ({self.accuracy:.0%}), "
                f"request took {self.latency_seconds * 1000:.0f} ms")

    def png(self) -> bytes:
        """The gallery: each digit with its prediction, green when right, red when wrong."""
        from ..demo.gallery import render_gallery

        return render_gallery(self.images, self.predictions, self.labels,
                              title=f"{self.correct}/{len(self.labels)} correct")


def parse_predictions(answer: Any, n: int) -> np.ndarray:
    """The service's answer as n integer labels: a JSON list, or a string holding one (older score.py)."""
    if isinstance(answer, str):
        with contextlib.suppress(ValueError):
            answer = json.loads(answer)
    if isinstance(answer, dict) and len(answer) == 1:
        answer = next(iter(answer.values()))
    try:
        predictions = np.asarray(answer).reshape(-1).astype(int)
    except (TypeError, ValueError):
        predictions = None
    if predictions is None or len(predictions) != n:
        raise WebserviceException(f"The service answered {str(answer)[:200]!r}, not a list of {n} digit labels.")
    return predictions


def predict_sample(predict: Callable[[str], Any], n: int = 8, rng: np.random.Generator | None = None,
                   data: tuple[np.ndarray, np.ndarray] | None = None) -> PredictionSample:
    """Pick ``n`` random digits, call ``predict`` (e.g. ``service.run``) with ``{"data": [...]}`` once."""
    if not 1 <= n <= MAX_DIGITS:
        raise UserErrorException(f"The number of digits must be between 1 and {MAX_DIGITS}, got {n}.")
    X, y = data if data is not None else mnist_test()
    rng = rng if rng is not None else np.random.default_rng()
    indices = rng.choice(len(X), size=n, replace=False)
    body = json.dumps({"data": X[indices].tolist()})
    started = time.perf_counter()
    answer = predict(body)
    latency = time.perf_counter() - started
    return PredictionSample(indices, X[indices], np.asarray(y[indices]).astype(int),
                            parse_predictions(answer, n), latency)
