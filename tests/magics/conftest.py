"""Fixtures of the magic tests: a fresh IPython shell with the extension loaded, pointed at the test workspace.

The shell follows jupysql's pattern: history in memory, and ``run_cell`` re-raises what a cell raised, so that a
failing cell fails the test instead of printing a traceback nobody reads.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

MNIST_SCORE = '''\
import json

import numpy as np

from aci_widgets.core.model import Model


def init():
    global weights
    weights = np.load(Model.get_model_path("mnist_weights.npy"))


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    scores = np.hstack([data, np.ones((len(data), 1))]) @ weights
    return np.argmax(scores, axis=1).tolist()
'''


class TestingShell(InteractiveShell):
    """An InteractiveShell whose ``run_cell`` raises the cell's error."""

    def run_cell(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        result = super().run_cell(*args, **kwargs)
        result.raise_error()
        return result


@pytest.fixture
def ip(ws, workdir: Path):
    """The shell, ``%load_ext aci_widgets`` done, the magics configured for ``ws`` and plain-text output."""
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = TestingShell.instance(config=config)
    shell.run_line_magic("load_ext", "aci_widgets")
    shell.run_line_magic("config", f"DeployMagics.workspace = {ws.name!r}")
    shell.run_line_magic("config", f"DeployMagics.workspace_path = {str(ws.root)!r}")
    shell.run_line_magic("config", "DeployMagics.ui = 'text'")
    yield shell
    shell.run_line_magic("unload_ext", "aci_widgets")
    TestingShell.clear_instance()
    if "ipywidgets" in sys.modules:  # panels and galleries the test made
        sys.modules["ipywidgets"].Widget.close_all()


@pytest.fixture
def settings(ip):
    """The DeployMagics instance (the magics' settings, and ``last_panel``)."""
    return ip.magics_manager.registry["DeployMagics"]


@pytest.fixture
def mnist_numpy_model(numpy_model: Path, mnist_dir: Path) -> Path:
    """score_mnist.py and mnist_weights.npy: a least-squares linear MNIST classifier needing only numpy."""
    from aci_widgets.mnist import load_mnist

    X, y = load_mnist("test", mnist_dir)
    X, y = X[:3000], y[:3000]
    weights = np.linalg.lstsq(np.hstack([X, np.ones((len(X), 1))]), np.eye(10)[y], rcond=None)[0]
    np.save(numpy_model / "mnist_weights.npy", weights)
    (numpy_model / "score_mnist.py").write_text(MNIST_SCORE)
    return numpy_model
