"""Fixtures of the widget tests: a comm that records what would go to the browser (MNIST and the MNIST model come
from tests/conftest.py).

Widgets are tested without a browser, as ipywidgets tests itself: the comm is replaced by one that records every
message, and the assertions read traits, ``Output.outputs`` and the recorded messages.
"""

from __future__ import annotations

import sys
from pathlib import Path

import comm
import pytest

sys.path.append(str(Path(__file__).parent))  # for widget_helpers

from widget_helpers import CommLog  # noqa: E402


@pytest.fixture(autouse=True)
def comm_log(monkeypatch: pytest.MonkeyPatch):
    """Record what every widget made in the test sends; close them all afterwards."""
    import ipywidgets

    log = CommLog()
    monkeypatch.setattr(comm, "create_comm", log.create)
    yield log
    ipywidgets.Widget.close_all()

