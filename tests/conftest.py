"""Shared fixtures: an isolated aci_widgets home per test session, workspaces per test, real MNIST files.

Tests marked ``docker`` or ``browser`` need a Docker engine or Chromium. On a developer machine without them they
skip with the reason; under ``CI=true`` they fail instead, so that CI can never go green having tested nothing.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from support import cleanup_workspace  # noqa: E402

NUMPY_SCORE = '''\
import json

import numpy as np

from aci_widgets.core.model import Model


def init():
    global weights
    weights = np.load(Model.get_model_path("weights.npy"))


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return (data @ weights).tolist()
'''

NUMPY_ENV = """\
name: project_environment
dependencies:
  - python=3.11
  - numpy
"""


def pytest_configure(config: pytest.Config) -> None:
    # One aci_widgets home for the whole session: cached environments are built once and shared by the tests.
    if not os.environ.get("ACI_WIDGETS_TEST_HOME"):
        home = Path(os.environ.get("TMPDIR", "/tmp")) / f"aci-widgets-tests-{os.getpid()}"
        os.environ["ACI_WIDGETS_TEST_HOME"] = str(home)
    os.environ["ACI_WIDGETS_HOME"] = os.environ["ACI_WIDGETS_TEST_HOME"]
    os.environ.setdefault("ACI_WIDGETS_MNIST_DIR", str(REPO.parent / "shared" / "data" / "mnist"))


@pytest.fixture(autouse=True)
def _no_target_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their target explicitly; a developer's $ACI_WIDGETS_TARGET must not leak in."""
    monkeypatch.delenv("ACI_WIDGETS_TARGET", raising=False)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh current directory, as a notebook's folder would be."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def ws(tmp_path: Path):
    """A workspace on the process target, in its own folder; its services and images go after the test."""
    from aci_widgets.core import Workspace

    workspace = Workspace.create(f"ws-{uuid.uuid4().hex[:8]}", exist_ok=True, target="process",
                                 path=tmp_path / "ws")
    yield workspace
    cleanup_workspace(workspace)


@pytest.fixture
def numpy_model(workdir: Path) -> Path:
    """score.py, myenv.yml and weights.npy in the working directory: a model with a fast environment."""
    import numpy as np

    (workdir / "score.py").write_text(NUMPY_SCORE)
    (workdir / "myenv.yml").write_text(NUMPY_ENV)
    np.save(workdir / "weights.npy", np.array([1.0, 2.0, 3.0]))
    return workdir


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    folder = Path(os.environ["ACI_WIDGETS_MNIST_DIR"])
    if not (folder / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.fail(f"MNIST test files not found in {folder}; set ACI_WIDGETS_MNIST_DIR.", pytrace=False)
    return folder


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the session's home (cached environments included)."""
    home = os.environ.get("ACI_WIDGETS_TEST_HOME", "")
    if "aci-widgets-tests-" in home and not os.environ.get("ACI_WIDGETS_KEEP_TEST_HOME"):
        shutil.rmtree(home, ignore_errors=True)

