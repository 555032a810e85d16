"""Fixtures for the aci target: a private image registry and the Resource Manager stand-in (tests/armstub), both
started per module on 127.0.0.1, and the environment a user of the target would set.

Everything they start is stopped at the end of the module: the stand-in's containers (found by its label), the
registry process, the workspace's images; temp files live under pytest's tmp folders.
"""

from __future__ import annotations

import os
import shutil
import types
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from armstub import ArmStub, ImageRegistry
from armstub.certs import bundle_with

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000aa"
RESOURCE_GROUP = "ml-rg"
LOCATION = "westeurope"
TOKEN = "token-" + uuid.uuid4().hex


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"CI needs this for the aci target's tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def arm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[types.SimpleNamespace]:
    """The registry and the stand-in; ``arm.stub`` and ``arm.registry`` for tests that look behind the API."""
    from aci_widgets.targets.docker.client import unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        _missing(reason)
    if shutil.which("docker-registry") is None or shutil.which("htpasswd") is None:
        _missing("docker-registry and htpasswd are needed (apt-get install docker-registry apache2-utils)")
    folder = tmp_path_factory.mktemp("arm")
    registry = ImageRegistry(folder).start()
    try:
        stub = ArmStub(folder, {SUBSCRIPTION: {RESOURCE_GROUP}}, token=TOKEN).start()
    except BaseException:
        registry.stop()
        raise
    bundle = bundle_with(stub.cert, folder, os.environ.get("REQUESTS_CA_BUNDLE"))
    try:
        yield types.SimpleNamespace(stub=stub, registry=registry, bundle=bundle)
    finally:
        stub.stop()
        registry.stop()


@pytest.fixture
def aci_env(arm: types.SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """What a user sets: the ARM endpoint and token, the CA bundle, the registry and its credentials."""
    monkeypatch.setenv("ACI_WIDGETS_ARM_ENDPOINT", arm.stub.endpoint)
    monkeypatch.setenv("ACI_WIDGETS_ARM_TOKEN", TOKEN)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(arm.bundle))
    monkeypatch.setenv("ACI_WIDGETS_REGISTRY", arm.registry.server)
    monkeypatch.setenv("ACI_WIDGETS_REGISTRY_USERNAME", arm.registry.username)
    monkeypatch.setenv("ACI_WIDGETS_REGISTRY_PASSWORD", arm.registry.password)
    for name in ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZURE_LOCATION"):
        monkeypatch.delenv(name, raising=False)
    return arm


@pytest.fixture(scope="module")
def aci_ws(arm: types.SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A workspace on the aci target with the stand-in's subscription; its services and images go at the end."""
    from aci_widgets.core import Workspace
    from aci_widgets.targets.docker import cleanup

    name = f"aci-{uuid.uuid4().hex[:8]}"
    ws = Workspace.create(name, subscription_id=SUBSCRIPTION, resource_group=RESOURCE_GROUP, location=LOCATION,
                          target="aci", path=tmp_path_factory.mktemp("ws") / "ws")
    yield ws
    with pytest.MonkeyPatch.context() as patch:  # deleting services needs the stand-in's environment
        patch.setenv("ACI_WIDGETS_ARM_ENDPOINT", arm.stub.endpoint)
        patch.setenv("ACI_WIDGETS_ARM_TOKEN", TOKEN)
        patch.setenv("REQUESTS_CA_BUNDLE", str(arm.bundle))
        from support import cleanup_workspace

        cleanup_workspace(ws)
    cleanup(f"aci_widgets.workspace={name}")


@pytest.fixture
def model_dir(numpy_model: Path) -> Path:
    """score.py (numpy weights), myenv.yml and weights.npy in the working directory."""
    return numpy_model
