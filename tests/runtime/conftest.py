"""Fixtures that start the real scoring server (``python -m aci_widgets.runtime``) and wait for its ready file."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# --import-mode=importlib leaves sys.path alone: make the helpers beside this file importable by the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from runtime_harness import NUMPY_SCORE, Server, StartServer, launch, make_model_dir  # noqa: E402


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """``start_server(score_path, *cli_args, model_dir=..., env=...)``; every server is stopped afterwards."""
    servers: list[Server] = []

    def start(score: Path, *args: str, **kwargs: object) -> Server:
        server = launch(tmp_path / f"server{len(servers)}", score, *args, **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        if server.proc.poll() is None:
            server.stop(signal.SIGKILL)


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    return make_model_dir(tmp_path / "models")


@pytest.fixture(scope="module")
def numpy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server with the numpy score.py shared by the tests that only read from it."""
    base = tmp_path_factory.mktemp("numpy_server")
    server = launch(base / "run", NUMPY_SCORE, model_dir=make_model_dir(base / "models"))
    assert server.ready.get("status") == "ready", server.stderr()
    yield server
    server.stop()
