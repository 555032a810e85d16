"""Fixtures of the demo tests: one demo model trained once per session on the session's MNIST."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest
from support import MnistSource

from aci_widgets.demo.model import train_demo_model


@pytest.fixture(scope="session")
def demo_model(mnist_source: MnistSource, tmp_path_factory: pytest.TempPathFactory):
    """``train_demo_model`` run once, offline: with t10k on disk any connection attempt fails the test; on the
    fallback every attempt fails as it does on a machine without network."""

    def refuse(*args: object, **kwargs: object) -> None:
        if mnist_source.official:
            raise AssertionError(f"network used: {args!r}")
        raise urllib.error.URLError("no network (the test's)")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(urllib.request, "urlopen", refuse)
        mp.setattr(socket, "create_connection", refuse)
        return train_demo_model(tmp_path_factory.mktemp("demo"), mnist_source.folder)
