"""JupyterLab in a real, headless Chromium: run ``notebooks/01-quickstart.ipynb`` and watch its widgets work.

The test starts ``jupyter lab`` on 127.0.0.1 with a token, in temporary config, runtime and workspace folders, opens a
copy of the notebook (the stored one is never modified), waits for the kernel to be Idle and clicks Run > Run All
Cells. While the ``%deploy_aci`` cell runs it polls the live panel; then it checks the final badge, the gallery and
its "Sample again" button, and that no widget failed to render. Screenshots of the panel and of the gallery go to
``docs/``.

The copy stops before the notebook's clean-up cells, so that the service still answers when "Sample again" is
clicked; the fixture deletes every service of the notebook's workspace afterwards, and stops JupyterLab.

Needs ``/usr/bin/chromium`` (Debian's ``chromium`` and ``fonts-dejavu-core``) and the ``playwright`` package; never
``playwright install``. Without them the test skips, and under ``CI=true`` it fails.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from support import requirement_missing

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "01-quickstart.ipynb"
DOCS = REPO / "docs"
NOTEBOOK_WORKSPACE = "nb-quickstart"  # the notebook's own workspace (%config DeployMagics.workspace) ...
WORKSPACE = "nb-quickstart-browser"  # ... and the copy's, so that this test never meets the nbval run's services
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
# Guards so that a broken run ends with a message instead of hanging; nothing asserts how long anything took.
SERVER_START_LIMIT = 120.0
KERNEL_IDLE_LIMIT_MS = 120_000
NOTEBOOK_LIMIT = 1200.0
SAMPLE_AGAIN_LIMIT_MS = 120_000

# The panel's state as the page shows it: its badge and the icon + name of each step row.
PANEL_STATE_JS = """
(cell) => {
  const badge = cell.querySelector('.jp-Cell-outputArea .aci-badge');
  if (!badge) return null;
  const steps = [...cell.querySelectorAll('.jp-Cell-outputArea .widget-html-content div[style*="monospace"]')]
    .map((row) => [...row.querySelectorAll('span')].slice(0, 2).map((s) => s.textContent.trim()).join(' '));
  return badge.textContent.trim() + ' | ' + steps.join(', ');
}
"""


@dataclass
class Lab:
    base_url: str
    token: str
    notebook: str                       # the copy's path, relative to the server's root
    cells: list[tuple[str, str]]        # the copy's cells: (cell_type, source)
    log: Path

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}?token={self.token}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _copy_for_browser(dest: Path) -> list[tuple[str, str]]:
    """Write the notebook without outputs, widget state or clean-up cells; return its cells."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cut = next((i for i, cell in enumerate(nb.cells)
                if cell.cell_type == "markdown" and cell.source.lstrip().startswith("## Clean up")), None)
    assert cut is not None, "01-quickstart.ipynb has no '## Clean up' section to stop before"
    nb.cells = nb.cells[:cut]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.source = cell.source.replace(f'"{NOTEBOOK_WORKSPACE}"', f'"{WORKSPACE}"')
    assert any(f'"{WORKSPACE}"' in cell.source for cell in nb.cells), f"{NOTEBOOK_WORKSPACE} not set in the notebook"
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, dest)
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def _write_user_settings(config_dir: Path) -> None:
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


def _delete_services(workspace: str) -> None:
    from aci_widgets.core import Webservice, Workspace

    try:
        ws = Workspace(workspace)
    except Exception:  # noqa: BLE001 - the notebook may have failed before creating it
        return
    for service in Webservice.list(ws):
        try:
            service.delete()
        except Exception as exc:  # noqa: BLE001 - teardown must try every service
            print(f"teardown: could not delete {service.name}: {exc}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        requirement_missing("Chromium", f"{CHROMIUM} not found (apt-get install -y --no-install-recommends "
                                        "chromium fonts-dejavu-core)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        requirement_missing("The playwright package", str(exc))
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """JupyterLab serving a copy of 01-quickstart in a temporary folder; stopped, and its services deleted, after."""
    root, config, runtime, workspaces = (tmp_path / name for name in ("root", "config", "runtime", "workspaces"))
    for folder in (root, config, runtime, workspaces):
        folder.mkdir()
    cells = _copy_for_browser(root / NOTEBOOK.name)
    _write_user_settings(config)
    token, port = secrets.token_hex(16), _free_port()
    log = tmp_path / "jupyterlab.log"
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
                pytest.fail(f"jupyter lab exited with status {server.returncode}:\n{log.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer within {SERVER_START_LIMIT:.0f} s:\n"
                            f"{log.read_text()[-4000:]}")
            time.sleep(0.2)
        yield Lab(base, token, NOTEBOOK.name, cells, log)
    finally:
        _stop(server)
        _delete_services(WORKSPACE)


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM to the server's own process group (it shuts its kernels down), then SIGKILL if it lingers."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _prompt(cell: Any) -> str:
    return cell.locator(".jp-InputArea-prompt").first.inner_text().strip()


def test_quickstart_runs_in_jupyterlab(lab: Lab, browser: Any) -> None:
    from playwright.sync_api import expect

    code_cells = [i for i, (kind, _) in enumerate(lab.cells) if kind == "code"]
    deploy_index = next(i for i in code_cells if "%deploy_aci" in lab.cells[i][1])
    gallery_index = next(i for i in code_cells if "%aci_predict" in lab.cells[i][1])

    page = browser.new_page(viewport={"width": 1280, "height": 4000})
    try:
        page.goto(lab.url(f"lab/tree/{lab.notebook}"))
        # Run All before the kernel is connected does nothing: wait for "| Idle" in the status bar.
        expect(page.get_by_text(re.compile(r"\|\s*Idle"))).to_be_visible(timeout=KERNEL_IDLE_LIMIT_MS)
        cells = page.locator(".jp-Notebook .jp-Cell")
        expect(cells).to_have_count(len(lab.cells))

        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        deploy_cell = cells.nth(deploy_index)
        expect(deploy_cell.locator(".jp-InputArea-prompt")).to_have_text(re.compile(r"\[(\*|\d+)\]"))

        # While the %deploy_aci cell shows [*] (queued, then running), record every distinct state of its panel.
        seen: list[str] = []
        deadline = time.monotonic() + NOTEBOOK_LIMIT
        while "[*]" in (prompt := _prompt(deploy_cell)):
            state = deploy_cell.evaluate(PANEL_STATE_JS)
            if state and (not seen or seen[-1] != state):
                seen.append(state)
            if time.monotonic() > deadline:
                pytest.fail(f"the deploy cell still shows [*]; panel states so far: {seen}")
            page.wait_for_timeout(100)
        assert re.search(r"\[\d+\]", prompt), f"the deploy cell did not run ({prompt!r}): an earlier cell failed?"
        assert len(seen) >= 3, f"the panel changed state fewer than twice while the cell ran: {seen}"
        badge = deploy_cell.locator(".jp-Cell-outputArea .aci-badge").first
        expect(badge).to_have_text("Healthy")
        DOCS.mkdir(exist_ok=True)
        deploy_cell.locator(".jp-OutputArea-output").first.screenshot(path=str(DOCS / "progress-panel.png"))
        print(f"panel states seen while the cell ran: {seen}")

        # The whole copy ran: every code cell has a number (a failing cell would leave the ones after it blank).
        expect(cells.nth(code_cells[-1]).locator(".jp-InputArea-prompt")).to_have_text(
            re.compile(r"\[\d+\]"), timeout=int(NOTEBOOK_LIMIT * 1000))
        not_run = {i: _prompt(cells.nth(i)) for i in code_cells if not re.search(r"\[\d+\]", _prompt(cells.nth(i)))}
        assert not not_run, f"cells that did not run (an earlier cell failed?): {not_run}"

        # The gallery: an image that the browser decoded, and "Sample again" draws a new one.
        gallery_cell = cells.nth(gallery_index)
        image = gallery_cell.locator(".widget-image").first
        expect(image).to_be_visible()
        first_src = image.get_attribute("src")
        assert first_src, "the gallery image has no src"
        assert image.evaluate("(img) => img.complete && img.naturalWidth > 0"), "the gallery image did not load"
        gallery_cell.locator("button.jupyter-button", has_text="Sample again").click()
        expect(image).not_to_have_attribute("src", first_src, timeout=SAMPLE_AGAIN_LIMIT_MS)
        expect(gallery_cell.locator("button.jupyter-button", has_text="Sample again")).to_be_enabled()
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        gallery_cell.locator(".jp-OutputArea-output").first.screenshot(path=str(DOCS / "gallery.png"))

        assert page.get_by_text("Error displaying widget").count() == 0, "a widget failed to render"
    finally:
        page.close()

