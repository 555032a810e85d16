"""Fixtures of the demo tests: the real t10k files, and one demo model trained once per session."""

from __future__ import annotations

import os
import socket
import urllib.request
from pathlib import Path

import pytest

from aci_widgets import mnist
from aci_widgets.demo.model import train_demo_model

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    env = os.environ.get(mnist.ENV_DIR)
    folder = Path(env) if env else REPO.parent / "shared" / "data" / "mnist"
    if not folder.is_absolute() and not folder.exists():
        folder = REPO / folder
    if not mnist.is_available("test", folder):
        message = f"verified MNIST t10k files not found in {folder}; set {mnist.ENV_DIR}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return folder


@pytest.fixture(scope="session")
def demo_model(mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """``train_demo_model`` run once, offline (any connection attempt fails the test)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network used: {args!r}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(urllib.request, "urlopen", refuse)
        mp.setattr(socket, "create_connection", refuse)
        return train_demo_model(tmp_path_factory.mktemp("demo"), mnist_dir)
