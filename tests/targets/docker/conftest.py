"""Fixtures for the Docker target's tests: a real engine (skip, or fail under CI=true, without one), a workspace
stand-in with a name unique to this session, and small build contexts with a numpy-only score.py.

Everything a test makes carries the session's workspace label and is removed by label at the end.
"""

from __future__ import annotations

import sys
import types
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The test modules here share docker_helpers.py (pytest runs with --import-mode=importlib: put it on the path).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from docker_helpers import make_context, run_op  # noqa: E402

from aci_widgets.core.operation import Operation
from aci_widgets.core.target import ImageSpec, ServiceSpec


@pytest.fixture(scope="session")
def docker_client() -> Any:
    """The shared client; skips without an engine, and fails instead under CI=true."""
    from support import requirement_missing

    from aci_widgets.targets.docker.client import docker_client as shared_client
    from aci_widgets.targets.docker.client import unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        requirement_missing("A Docker engine", reason)  # skips; fails under CI
    return shared_client()


@pytest.fixture(scope="session")
def ws(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[types.SimpleNamespace]:
    """A workspace stand-in (the target uses only ``name`` and ``root``); its containers and images go at the end."""
    from aci_widgets.targets.docker import cleanup

    name = f"t{uuid.uuid4().hex[:10]}"
    workspace = types.SimpleNamespace(name=name, root=tmp_path_factory.mktemp("ws"))
    yield workspace
    cleanup(f"aci_widgets.workspace={name}")


@pytest.fixture(scope="session")
def target() -> Any:
    from aci_widgets.targets.docker import DockerTarget

    return DockerTarget(health_timeout=180)


@pytest.fixture(scope="session")
def numpy_image(ws: types.SimpleNamespace, target: Any, tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[dict[str, Any], Operation]:
    """The image most tests deploy: numpy only, SCORE_MODE picks the behaviour."""
    context = make_context(tmp_path_factory.mktemp("ctx"))
    spec = ImageSpec(name=f"{ws.name.lower()}-np", version=1, context_dir=context,
                     execution_script="score.py", requirements=["numpy"])
    op = run_op(lambda report: target.build_image(ws, spec, report))
    return op.result(), op


@pytest.fixture()
def service_spec(numpy_image: tuple[dict[str, Any], Operation]) -> Callable[..., ServiceSpec]:
    """Make a ServiceSpec on the numpy image with a unique service name."""

    def make(**settings: Any) -> ServiceSpec:
        name = settings.pop("name", f"svc-{uuid.uuid4().hex[:8]}")
        return ServiceSpec(name=name, image=numpy_image[0], **settings)

    return make
