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
