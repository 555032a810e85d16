"""The demo model: trained on real digits, scored on digits it never saw."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

from aci_widgets import mnist
from aci_widgets.demo.model import train_model


def test_demo_model_scores_on_held_out_digits(demo_model, mnist_dir: Path) -> None:
    model_path, X_test, y_test = demo_model
    assert model_path.name == "sklearn_mnist_model.pkl" and model_path.is_file()
    model = joblib.load(model_path)
    assert isinstance(model, LogisticRegression)
    accuracy = float(np.mean(model.predict(X_test) == y_test))
    print(f"held-out accuracy {accuracy:.4f} on {len(y_test)} digits")
    assert accuracy >= 0.85


def test_held_out_digits_are_the_last_2000_of_t10k(demo_model, mnist_dir: Path) -> None:
    _, X_test, y_test = demo_model
    X, y = mnist.load_mnist("test", mnist_dir)
    assert X_test.shape == (2000, 784) and X_test.dtype == np.float32
    assert np.array_equal(X_test, X[8000:]) and np.array_equal(y_test, y[8000:])
    assert list(Path(demo_model[0]).parent.glob("*.part")) == []


def test_train_model_accepts_uint8_and_writes_path(mnist_dir: Path, tmp_path: Path) -> None:
    X, y = mnist.load_mnist("test", mnist_dir, normalize=False)
    target = tmp_path / "nested" / "m.pkl"
    assert train_model(X[:1000], y[:1000], target) == target
    model = joblib.load(target)
    accuracy = float(np.mean(model.predict(X[9000:].astype(np.float32) / 255) == y[9000:]))
    assert accuracy >= 0.80
    assert sorted(p.name for p in target.parent.iterdir()) == ["m.pkl"]
