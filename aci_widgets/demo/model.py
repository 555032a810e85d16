"""Train the tutorial's MNIST model: a logistic regression small enough to fit in seconds in a notebook."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

from aci_widgets import mnist
from aci_widgets.demo.assets import MODEL_FILE

# lbfgs (multinomial) with strong regularisation converges in < 100 iterations on 8,000 digits (a few
# seconds on 2 cores) and scores ~93% on held-out digits; the tutorial's liblinear one-vs-rest is much slower.
C = 0.05
MAX_ITER = 200
TRAIN_SUBSET = 10_000


def train_model(X: np.ndarray, y: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Fit the classifier on ``X`` (n, 784) in [0, 1] and ``y``; save it with joblib to ``path``.

    The file is written under a temporary name and then renamed, so a registry never sees half a model.
    """
    X = np.asarray(X)
    if X.dtype == np.uint8:
        X = X.astype(np.float32) / np.float32(255.0)
    model = LogisticRegression(C=C, max_iter=MAX_ITER)
    model.fit(X, np.asarray(y))
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            joblib.dump(model, f)
        os.replace(tmp_name, target)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return target


def train_demo_model(
    workdir: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None = None
) -> tuple[Path, np.ndarray, np.ndarray]:
    """Train the demo model into ``workdir/sklearn_mnist_model.pkl``; return it with held-out digits.

    With the train set on disk: 10,000 of its digits for training, t10k for testing. Otherwise (CI has
    t10k only) t10k is split: the first 8,000 digits train, the last 2,000 test; so the two never overlap.
    """
    model_path = Path(workdir) / MODEL_FILE
    if mnist.is_available("train", data_dir) and mnist.is_available("test", data_dir):
        X_train, y_train = mnist.load_mnist("train", data_dir, allow_download=False)
        pick = np.random.default_rng(0).choice(len(X_train), size=TRAIN_SUBSET, replace=False)
        X_train, y_train = X_train[pick], y_train[pick]
        X_test, y_test = mnist.load_mnist("test", data_dir, allow_download=False)
    else:
        X, y = mnist.load_mnist("test", data_dir)
        cut = 8_000 if len(X) == 10_000 else len(X) * 4 // 5
        X_train, y_train, X_test, y_test = X[:cut], y[:cut], X[cut:], y[cut:]
    train_model(X_train, y_train, model_path)
    return model_path, X_test, y_test
