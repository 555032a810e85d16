"""Helpers that test modules import (``from support import ...``); conftest puts this folder on sys.path."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def requirement_missing(what: str, reason: str) -> None:
    """Skip on a developer machine; fail under CI=true, where a missing engine or browser is a broken setup."""
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but unavailable: {reason}", pytrace=False)
    pytest.skip(f"{what} unavailable: {reason}")


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
