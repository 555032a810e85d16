"""Fixtures of the magic tests: a fresh IPython shell with the extension loaded, pointed at the test workspace.

The shell follows jupysql's pattern: history in memory, and ``run_cell`` re-raises what a cell raised, so that a
failing cell fails the test instead of printing a traceback nobody reads.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from support import RaisingShell
from traitlets.config import Config


@pytest.fixture
def ip(ws, workdir: Path):
    """The shell, ``%load_ext aci_widgets`` done, the magics configured for ``ws`` and plain-text output."""
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = RaisingShell.instance(config=config)
    shell.run_line_magic("load_ext", "aci_widgets")
    shell.run_line_magic("config", f"DeployMagics.workspace = {ws.name!r}")
    shell.run_line_magic("config", f"DeployMagics.workspace_path = {str(ws.root)!r}")
    shell.run_line_magic("config", "DeployMagics.ui = 'text'")
    yield shell
    shell.run_line_magic("unload_ext", "aci_widgets")
    RaisingShell.clear_instance()
    if "ipywidgets" in sys.modules:  # panels and galleries the test made
        sys.modules["ipywidgets"].Widget.close_all()


@pytest.fixture
def settings(ip):
    """The DeployMagics instance (the magics' settings, and ``last_panel``)."""
    return ip.magics_manager.registry["DeployMagics"]

