"""The demo model: trained on real digits, scored on digits it never saw."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression
from support import MnistSource

from aci_widgets.demo.model import train_model


def test_demo_model_scores_on_held_out_digits(demo_model) -> None:
    model_path, X_test, y_test = demo_model
    assert model_path.name == "sklearn_mnist_model.pkl" and model_path.is_file()
    model = joblib.load(model_path)
    assert isinstance(model, LogisticRegression)
    accuracy = float(np.mean(model.predict(X_test) == y_test))
    print(f"held-out accuracy {accuracy:.4f} on {len(y_test)} digits")
    assert accuracy >= 0.85  # t10k: 0.94; the offline fallback's 1,000 held-out digits: 0.89


def test_held_out_digits_are_the_last_fifth_of_the_test_set(demo_model, mnist_source: MnistSource) -> None:
    _, X_test, y_test = demo_model
    X, y = mnist_source.load()
    cut = 8000 if mnist_source.official else 4000  # of t10k's 10,000 digits; of the fallback's 5,000
    assert len(X) == mnist_source.size
    assert X_test.shape == (len(X) - cut, 784) and X_test.dtype == np.float32
    assert np.array_equal(X_test, X[cut:]) and np.array_equal(y_test, y[cut:])
    assert list(Path(demo_model[0]).parent.glob("*.part")) == []


def test_train_model_accepts_uint8_and_writes_path(mnist_source: MnistSource, tmp_path: Path) -> None:
    X, y = mnist_source.load(normalize=False)
    target = tmp_path / "nested" / "m.pkl"
    assert train_model(X[:1000], y[:1000], target) == target
    model = joblib.load(target)
    accuracy = float(np.mean(model.predict(X[-1000:].astype(np.float32) / 255) == y[-1000:]))
    assert accuracy >= 0.80  # t10k: 0.82; the offline fallback: 0.86
    assert sorted(p.name for p in target.parent.iterdir()) == ["m.pkl"]
