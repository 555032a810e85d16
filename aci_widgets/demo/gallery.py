"""A PNG of digits with the service's predictions, as the tutorial shows after calling the web service.

Drawn on a bare ``matplotlib.figure.Figure`` with the Agg canvas: no pyplot state, so it is safe in threads
and never opens a window. Matplotlib is imported only when a gallery is drawn.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

RIGHT = "#00a000"  # prediction matches the label
WRONG = "#e00000"  # prediction differs from the label
UNKNOWN = "#000000"  # no label given


def render_gallery(
    images: np.ndarray,
    predictions: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray | None = None,
    columns: int | None = None,
    title: str | None = None,
) -> bytes:
    """Return a PNG: each digit with "pred N" above it, green when it equals its label, red when not.

    ``images`` is (n, 784) (or (n, 28, 28)) in [0, 1] or uint8 0..255. The default title counts the
    correct predictions ("7/8 correct") when labels are given.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    pictures, preds, truth = _check(images, predictions, labels)
    n = len(pictures)
    cols = max(1, min(columns or min(n, 10), n))
    rows = math.ceil(n / cols)
    if title is None and truth is not None:
        title = f"{int(np.sum(preds == truth))}/{n} correct"
    elif title is None:
        title = f"{n} prediction" if n == 1 else f"{n} predictions"
    vmax = 255 if pictures.dtype == np.uint8 or pictures.max(initial=0) > 1 else 1

    fig = Figure(figsize=(max(1.3 * cols, 2.5), 1.6 * rows + 0.5), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    try:
        fig.suptitle(title, fontsize=14)
        for i in range(n):
            ax = fig.add_subplot(rows, cols, i + 1)
            ax.imshow(pictures[i], cmap="gray_r", vmin=0, vmax=vmax, interpolation="nearest")
            ax.set_axis_off()
            color = UNKNOWN if truth is None else (RIGHT if preds[i] == truth[i] else WRONG)
            ax.set_title(f"pred {preds[i]}", color=color, fontsize=12, fontweight="bold")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        fig.clear()


def save_gallery(
    path: str | os.PathLike[str],
    images: np.ndarray,
    predictions: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray | None = None,
    columns: int | None = None,
    title: str | None = None,
) -> Path:
    """Write ``render_gallery(...)`` to ``path`` (a .png) and return the path."""
    target = Path(path)
    target.write_bytes(render_gallery(images, predictions, labels, columns=columns, title=title))
    return target


def _check(
    images: np.ndarray, predictions: Sequence[int] | np.ndarray, labels: Sequence[int] | np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate shapes early, with messages that name the argument, rather than deep in matplotlib."""
    pictures = np.asarray(images)
    if pictures.ndim == 2:
        side = math.isqrt(pictures.shape[1])
        if side * side != pictures.shape[1]:
            raise ValueError(f"images rows must hold square digits (784 pixels), not {pictures.shape[1]}.")
        pictures = pictures.reshape(len(pictures), side, side)
    if pictures.ndim != 3 or len(pictures) == 0:
        raise ValueError(f"images must be a non-empty (n, 784) array, not shape {pictures.shape}.")
    preds = np.asarray(predictions).reshape(-1)
    if len(preds) != len(pictures):
        raise ValueError(f"{len(pictures)} images but {len(preds)} predictions.")
    truth = None if labels is None else np.asarray(labels).reshape(-1)
    if truth is not None and len(truth) != len(pictures):
        raise ValueError(f"{len(pictures)} images but {len(truth)} labels.")
    return pictures, preds, truth
