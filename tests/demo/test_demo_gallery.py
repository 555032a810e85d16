"""The prediction gallery: a real PNG, green for right predictions and red for wrong ones."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aci_widgets.demo.gallery import render_gallery, save_gallery

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def digits(mnist_data: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    X, y = mnist_data
    return X[:8], y[:8]


def _pixels(png: bytes) -> np.ndarray:
    assert png.startswith(PNG_SIGNATURE)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _count(rgb: np.ndarray, color: str) -> int:
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    if color == "red":
        return int(np.sum((r > 180) & (g < 80) & (b < 80)))
    return int(np.sum((g > 130) & (r < 80) & (b < 80)))


def test_all_right_is_green_only(digits) -> None:
    X, y = digits
    rgb = _pixels(render_gallery(X, y, y, columns=4))
    height, width, _ = rgb.shape
    assert width > height > 100
    assert _count(rgb, "green") > 50 and _count(rgb, "red") == 0


def test_wrong_predictions_are_red(digits) -> None:
    X, y = digits
    predictions = y.copy()
    predictions[[1, 6]] = (predictions[[1, 6]] + 1) % 10
    rgb = _pixels(render_gallery(X, predictions, y))
    assert _count(rgb, "red") > 50 and _count(rgb, "green") > 50


def test_uint8_without_labels_and_saved(digits, mnist_source, tmp_path: Path) -> None:
    X8, _ = mnist_source.load(normalize=False)
    target = save_gallery(tmp_path / "g.png", X8[:3], [7, 2, 1], title="three digits")
    rgb = _pixels(target.read_bytes())
    assert _count(rgb, "red") == 0 and _count(rgb, "green") == 0
    assert (rgb < 60).all(axis=2).sum() > 200  # dark ink of the digits (and the title)


def test_default_title_counts_correct(digits) -> None:
    X, y = digits
    predictions = y.copy()
    predictions[0] = (predictions[0] + 3) % 10
    one_wrong = render_gallery(X, predictions, y)
    titled = render_gallery(X, predictions, y, title="7/8 correct")
    assert np.array_equal(_pixels(one_wrong), _pixels(titled))


def test_mismatched_lengths_are_refused(digits) -> None:
    X, y = digits
    with pytest.raises(ValueError, match="predictions"):
        render_gallery(X, y[:3])
    with pytest.raises(ValueError, match="labels"):
        render_gallery(X, y, y[:2])
    with pytest.raises(ValueError, match="non-empty"):
        render_gallery(X[:0], y[:0])
