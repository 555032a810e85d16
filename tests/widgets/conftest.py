"""Fixtures of the widget tests: a comm that records what would go to the browser, MNIST, an MNIST model.

Widgets are tested without a browser, as ipywidgets tests itself: the comm is replaced by one that records every
message, and the assertions read traits, ``Output.outputs`` and the recorded messages.
"""

from __future__ import annotations

import sys
from pathlib import Path

import comm
import numpy as np
import pytest

sys.path.append(str(Path(__file__).parent))  # for widget_helpers

from widget_helpers import MNIST_SCORE, CommLog  # noqa: E402


@pytest.fixture(autouse=True)
def comm_log(monkeypatch: pytest.MonkeyPatch):
    """Record what every widget made in the test sends; close them all afterwards."""
    import ipywidgets

    log = CommLog()
    monkeypatch.setattr(comm, "create_comm", log.create)
    yield log
    ipywidgets.Widget.close_all()


@pytest.fixture
def mnist_data(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    from aci_widgets.mnist import load_mnist

    return load_mnist("test", mnist_dir)


@pytest.fixture
def mnist_numpy_model(numpy_model: Path, mnist_data: tuple[np.ndarray, np.ndarray]) -> Path:
    """score_mnist.py and mnist_weights.npy: a least-squares linear MNIST classifier needing only numpy."""
    X, y = mnist_data[0][:3000], mnist_data[1][:3000]
    weights = np.linalg.lstsq(np.hstack([X, np.ones((len(X), 1))]), np.eye(10)[y], rcond=None)[0]
    np.save(numpy_model / "mnist_weights.npy", weights)
    (numpy_model / "score_mnist.py").write_text(MNIST_SCORE)
    return numpy_model
