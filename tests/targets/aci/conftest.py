"""Fixtures for the aci target: the Resource Manager stand-in and a private image registry
(``aci_widgets.testing.AciStandIn``), one per test session, and the environment a user of the target would set.

The registry's first push of the 191 MB base image is the slow part, so its storage, port and credentials live for
the whole session. Its process may not outlive a module (tests/leftovers.py), so each module runs it again on the
same port and storage: the engine still knows which layers it holds, and nothing is pushed twice. The stand-in
itself is threads of this process; its containers go when the session ends (found by its label).
"""

from __future__ import annotations

import types
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from aci_widgets.testing import AciStandIn

AZURE_VARS = ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZURE_LOCATION")


def _missing(reason: str) -> None:
    from support import requirement_missing

    requirement_missing("the ACI stand-in (Docker, docker-registry, htpasswd)", reason)


@pytest.fixture(scope="session")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AciStandIn]:
    reason = AciStandIn.missing()
    if reason is not None:
        _missing(reason)
    running = AciStandIn(tmp_path_factory.mktemp("arm")).start()
    try:
        yield running
    finally:
        running.stop()


def _registry_up(standin: AciStandIn) -> None:
    if not standin.registry.running:
        standin.registry.start()


@pytest.fixture(scope="module")
def arm(standin: AciStandIn) -> Iterator[types.SimpleNamespace]:
    """``arm.stub`` and ``arm.registry`` for tests that look behind the API; the registry runs for the module."""
    _registry_up(standin)
    try:
        yield types.SimpleNamespace(stub=standin.stub, registry=standin.registry, bundle=standin.bundle,
                                    standin=standin)
    finally:
        standin.registry.stop()


@pytest.fixture
def aci_env(arm: types.SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """What a user sets: the ARM endpoint and token, the CA bundle, the registry and its credentials (the
    subscription, resource group and location come from the workspace)."""
    for key, value in arm.standin.env.items():
        if key not in AZURE_VARS:
            monkeypatch.setenv(key, value)
    for name in AZURE_VARS:
        monkeypatch.delenv(name, raising=False)
    return arm


@pytest.fixture(scope="session")
def aci_ws(standin: AciStandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A workspace on the aci target with the stand-in's subscription; its services and images go at the end."""
    from aci_widgets.core import Workspace
    from aci_widgets.targets.docker import cleanup

    name = f"aci-{uuid.uuid4().hex[:8]}"
    ws = Workspace.create(name, subscription_id=standin.subscription, resource_group=standin.resource_group,
                          location=standin.location, target="aci", path=tmp_path_factory.mktemp("ws") / "ws")
    yield ws
    with pytest.MonkeyPatch.context() as patch:  # deleting services needs the stand-in's environment
        for key, value in standin.env.items():
            if key not in AZURE_VARS:
                patch.setenv(key, value)
        from support import cleanup_workspace

        cleanup_workspace(ws)
    cleanup(f"aci_widgets.workspace={name}")


@pytest.fixture(scope="session")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """score.py (numpy weights), myenv.yml and weights.npy in a folder of the session."""
    import numpy as np
    from support import NUMPY_ENV, NUMPY_SCORE

    folder = tmp_path_factory.mktemp("model")
    (folder / "score.py").write_text(NUMPY_SCORE)
    (folder / "myenv.yml").write_text(NUMPY_ENV)
    np.save(folder / "weights.npy", np.array([1.0, 2.0, 3.0]))
    return folder


@pytest.fixture(scope="session")
def aci_image(standin: AciStandIn, aci_ws: object, model_files: Path) -> object:
    """The seed's option 3, first half: ContainerImage.create on the aci target, built and pushed once per session."""
    from aci_widgets.core.image import ContainerImage
    from aci_widgets.core.model import Model

    _registry_up(standin)  # a session fixture may come first in a module: the module's `arm` stops it at its end
    with pytest.MonkeyPatch.context() as patch:
        for key, value in standin.env.items():
            if key not in AZURE_VARS:
                patch.setenv(key, value)
        model = Model.register(model_path=str(model_files / "weights.npy"), model_name="weights", workspace=aci_ws)
        config = ContainerImage.image_configuration(execution_script=str(model_files / "score.py"),
                                                    runtime="python", conda_file=str(model_files / "myenv.yml"))
        created = ContainerImage.create(aci_ws, f"img-{uuid.uuid4().hex[:6]}", [model], config)
        created.wait_for_creation()
    return created


@pytest.fixture
def model_dir(numpy_model: Path) -> Path:
    """score.py (numpy weights), myenv.yml and weights.npy in the working directory."""
    return numpy_model
