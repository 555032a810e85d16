"""The browser tests import their JupyterLab driver by name (shared with docs/screenshots.py), and share one
headless Chromium per module."""

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.append(str(Path(__file__).parent))

from jupyterlab_driver import CHROMIUM, chromium  # noqa: E402
from support import requirement_missing  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by playwright; skips on a developer machine without them, fails under CI."""
    if not CHROMIUM.is_file():
        requirement_missing("Chromium", f"{CHROMIUM} not found (apt-get install -y --no-install-recommends "
                                        "chromium fonts-dejavu-core)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        requirement_missing("The playwright package", str(exc))
    with chromium() as launched:
        yield launched
