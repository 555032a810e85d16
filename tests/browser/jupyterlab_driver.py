"""Drive JupyterLab in a headless Debian Chromium: start a server on a copy of a tutorial, Run All, watch cells.

Shared by ``tests/browser/test_jupyterlab.py`` (which checks what the widgets show) and ``docs/screenshots.py``
(which takes the README's screenshots, by hand). No pytest here: failures raise ``LabError``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "notebooks" / "01-quickstart.ipynb"
NOTEBOOK_WORKSPACE = "nb-quickstart"  # the notebook's own workspace (%config DeployMagics.workspace)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
# Guards so that a broken run ends with a message instead of hanging; nothing asserts how long anything took.
SERVER_START_LIMIT = 120.0
KERNEL_IDLE_LIMIT_MS = 120_000
NOTEBOOK_LIMIT = 1200.0

# The panel's state as the page shows it: its badge, each step row's icon (a CSS spinner or a glyph) and name,
# and whether the log is open.
PANEL_STATE_JS = """
(cell) => {
  const area = cell.querySelector('.jp-Cell-outputArea');
  const badge = area && area.querySelector('.aci-badge');
  if (!badge) return null;
  const steps = [...area.querySelectorAll('.widget-html-content div[style*="monospace"]')].map((row) => {
    const [icon, name] = [...row.children].slice(0, 2);
    const drawn = icon.querySelector('.aci-spinner') ? 'spinner' : icon.textContent.trim();
    return drawn + ' ' + name.textContent.trim();
  });
  const log = area.querySelector('.widget-accordion .jupyter-widget-Collapse-open') ? 'log open' : 'log folded';
  return badge.textContent.trim() + ' | ' + steps.join(', ') + ' | ' + log;
}
"""


class LabError(RuntimeError):
    """JupyterLab or the notebook did not do what the driver waited for."""


@dataclass
class Lab:
    base_url: str
    token: str
    notebook: str                       # the copy's path, relative to the server's root
    cells: list[tuple[str, str]]        # the copy's cells: (cell_type, source)
    log: Path

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}?token={self.token}"

    def index(self, needle: str) -> int:
        """The index of the first code cell whose source holds ``needle``."""
        return next(i for i, (kind, source) in enumerate(self.cells) if kind == "code" and needle in source)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_quickstart(dest: Path, workspace: str, extra_cells: list[str] = ()) -> list[tuple[str, str]]:
    """Write 01-quickstart without outputs, widget state or clean-up cells, in ``workspace``, with ``extra_cells``
    appended; return its cells. The stored notebook is never modified."""
    nb = nbformat.read(QUICKSTART, as_version=4)
    cut = next((i for i, cell in enumerate(nb.cells)
                if cell.cell_type == "markdown" and cell.source.lstrip().startswith("## Clean up")), None)
    if cut is None:
        raise LabError("01-quickstart.ipynb has no '## Clean up' section to stop before")
    nb.cells = nb.cells[:cut] + [nbformat.v4.new_code_cell(source) for source in extra_cells]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.source = cell.source.replace(f'"{NOTEBOOK_WORKSPACE}"', f'"{workspace}"')
    if not any(f'"{workspace}"' in cell.source for cell in nb.cells):
        raise LabError(f"{NOTEBOOK_WORKSPACE} is not set in the notebook")
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, dest)
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def write_user_settings(config_dir: Path) -> None:
    settings = config_dir / "lab" / "user-settings" / "@jupyterlab"
    files = {
        # No news pop-up, no update check (no internet here, and it would cover the page).
        "apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
        # Render every cell, so that the DOM holds the whole notebook whatever is scrolled into view.
        "notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    }
    for name, content in files.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content))


def delete_services(workspace: str) -> None:
    from aci_widgets.core import Webservice, Workspace

    try:
        ws = Workspace(workspace)
    except Exception:  # noqa: BLE001 - the notebook may have failed before creating it
        return
    for service in Webservice.list(ws):
        try:
            service.delete()
        except Exception as exc:  # noqa: BLE001 - clean-up must try every service
            print(f"clean-up: could not delete {service.name}: {exc}")


@contextmanager
def jupyterlab(folder: Path, workspace: str, extra_cells: list[str] = ()) -> Iterator[Lab]:
    """JupyterLab serving a copy of 01-quickstart in ``folder``; stopped, and its services deleted, after."""
    root, config, runtime, workspaces = (folder / name for name in ("root", "config", "runtime", "workspaces"))
    for sub in (root, config, runtime, workspaces):
        sub.mkdir(parents=True)
    cells = copy_quickstart(root / QUICKSTART.name, workspace, extra_cells)
    write_user_settings(config)
    token, port = secrets.token_hex(16), free_port()
    log = folder / "jupyterlab.log"
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(runtime))
    command = [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", "--ip=127.0.0.1",
               f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--LabApp.workspaces_dir={workspaces}", f"--ServerApp.root_dir={root}"]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + SERVER_START_LIMIT
        while True:
            if server.poll() is not None:
                raise LabError(f"jupyter lab exited with status {server.returncode}:\n{log.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise LabError(f"jupyter lab did not answer within {SERVER_START_LIMIT:.0f} s:\n"
                               f"{log.read_text()[-4000:]}")
            time.sleep(0.2)  # polling the server's status until it answers
        yield Lab(base, token, QUICKSTART.name, cells, log)
    finally:
        stop(server)
        delete_services(workspace)


def stop(server: subprocess.Popen) -> None:
    """SIGTERM to the server's own process group (it shuts its kernels down), then SIGKILL if it lingers."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by the playwright package (never ``playwright install``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def prompt(cell: Any) -> str:
    return cell.locator(".jp-InputArea-prompt").first.inner_text().strip()


def open_and_run_all(page: Any, lab: Lab) -> Any:
    """Open the copy, wait for an idle kernel, Run All Cells; return the cells' locator."""
    from playwright.sync_api import expect

    page.goto(lab.url(f"lab/tree/{lab.notebook}"))
    # Run All before the kernel is connected does nothing: wait for "| Idle" in the status bar.
    expect(page.get_by_text(re.compile(r"\|\s*Idle"))).to_be_visible(timeout=KERNEL_IDLE_LIMIT_MS)
    cells = page.locator(".jp-Notebook .jp-Cell")
    expect(cells).to_have_count(len(lab.cells))
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    return cells


def watch_panel(page: Any, cell: Any) -> list[str]:
    """While ``cell`` shows [*] (queued, then running), record every distinct state of its panel."""
    from playwright.sync_api import expect

    expect(cell.locator(".jp-InputArea-prompt")).to_have_text(re.compile(r"\[(\*|\d+)\]"))
    seen: list[str] = []
    deadline = time.monotonic() + NOTEBOOK_LIMIT
    while "[*]" in prompt(cell):
        state = cell.evaluate(PANEL_STATE_JS)
        if state and (not seen or seen[-1] != state):
            seen.append(state)
        if time.monotonic() > deadline:
            raise LabError(f"the deploy cell still shows [*]; panel states so far: {seen}")
        page.wait_for_timeout(100)
    return seen


def wait_all_ran(cells: Any, code_cells: list[int]) -> None:
    """Every code cell has a number (a failing cell would leave the ones after it blank)."""
    from playwright.sync_api import expect

    expect(cells.nth(code_cells[-1]).locator(".jp-InputArea-prompt")).to_have_text(
        re.compile(r"\[\d+\]"), timeout=int(NOTEBOOK_LIMIT * 1000))
    not_run = {i: prompt(cells.nth(i)) for i in code_cells if not re.search(r"\[\d+\]", prompt(cells.nth(i)))}
    if not_run:
        raise LabError(f"cells that did not run (an earlier cell failed?): {not_run}")
