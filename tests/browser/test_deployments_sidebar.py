"""The Deployments sidebar in a real, headless Chromium: a service deployed before JupyterLab starts shows there,
answers Test, streams its log, goes into a notebook as a card, and is deleted after a confirmation; the status bar
item counts the services and opens the sidebar; the "defaultWorkspace" setting chooses the workspace shown.

The service runs on the process target in a workspace of the session's aci_widgets home (a temporary folder that
the JupyterLab server inherits). JupyterLab loads the installed labextension (``pip install -e .`` builds it).
A screenshot of the sidebar goes to the test's temporary folder.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyterlab_driver import KERNEL_IDLE_LIMIT_MS, Lab, LabError, jupyterlab

from aci_widgets.core import AciWebservice, ContainerImage, Webservice, Workspace

pytestmark = pytest.mark.browser

SERVICE = "dot-sidebar"
GATED = "dot-gated"  # its init() waits for a file: the sidebar shows it deploying until the test opens the gate
LIMIT_MS = 60_000
SCORE = '''\
import json

import numpy as np


def init():
    global weights
    weights = np.array([1.0, 2.0, 3.0])
    print("\\x1b[32mweights loaded\\x1b[0m", flush=True)


def run(raw_data):
    return (np.array(json.loads(raw_data)["data"]) @ weights).tolist()
'''


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    return tmp_path / "gate"


@pytest.fixture
def deployed(numpy_model: Path, gate: Path) -> Iterator[Webservice]:
    """A Healthy service in a workspace that ``Workspace.list`` finds (under the session's home), and a second one
    still deploying (its init() waits for ``gate``)."""
    ws = Workspace.create(f"sidebar-{uuid.uuid4().hex[:8]}", target="process")
    (numpy_model / "score.py").write_text(SCORE)
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python",
                                                conda_file="myenv.yml")
    service = Webservice.deploy(ws, SERVICE, ["weights.npy"], config, AciWebservice.deploy_configuration())
    try:
        service.wait_for_deployment()
        waiting = f"import pathlib, time\nwhile not pathlib.Path({str(gate)!r}).exists():\n    time.sleep(0.05)\n"
        (numpy_model / "gated.py").write_text(SCORE.replace("def init():\n", "def init():\n" + "".join(
            "    " + line + "\n" for line in waiting.splitlines())))
        gated_config = ContainerImage.image_configuration(execution_script="gated.py", runtime="python",
                                                          conda_file="myenv.yml")
        Webservice.deploy(ws, GATED, ["weights.npy"], gated_config, AciWebservice.deploy_configuration())
        yield service
    finally:
        gate.touch()
        for left in Webservice.list(ws):
            left.delete()
        shutil.rmtree(ws.root, ignore_errors=True)


@pytest.fixture
def first_workspace() -> Iterator[Workspace]:
    """A workspace whose name sorts first: shown when no default workspace is set."""
    ws = Workspace.create(f"a-first-{uuid.uuid4().hex[:8]}", target="process")
    try:
        yield ws
    finally:
        shutil.rmtree(ws.root, ignore_errors=True)


@pytest.fixture
def lab(tmp_path: Path, deployed: Webservice, first_workspace: Workspace) -> Iterator[Lab]:
    try:
        with jupyterlab(tmp_path / "lab", deployed.workspace.name) as running:
            # The user's settings, read when the page loads: the test's workspace rather than the first one.
            settings = tmp_path / "lab" / "config" / "lab" / "user-settings" / "aci_widgets"
            settings.mkdir(parents=True)
            (settings / "deployments.jupyterlab-settings").write_text(
                json.dumps({"defaultWorkspace": deployed.workspace.name, "refreshInterval": 1}))
            yield running
    except LabError as exc:
        pytest.fail(str(exc))


def test_the_sidebar_shows_tests_logs_inserts_and_deletes_a_service(lab: Lab, browser: Any, deployed: Webservice,
                                                                    gate: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    workspace = deployed.workspace.name
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(lab.url(f"lab/tree/{lab.notebook}"))
        expect(page.get_by_text(re.compile(r"\|\s*Idle"))).to_be_visible(timeout=KERNEL_IDLE_LIMIT_MS)
        page.locator('.lm-TabBar-tab[data-id="aci-widgets-deployments"]').click()
        sidebar = page.locator("#aci-widgets-deployments")
        expect(sidebar).to_be_visible()
        # The "defaultWorkspace" setting is followed (without it, the first workspace would be shown).
        assert sorted(Workspace.list())[0] < workspace
        expect(sidebar.locator(".aci-Deployments-picker")).to_have_value(workspace)
        row = sidebar.locator(f'.aci-Service[data-service="{SERVICE}"]')
        expect(row.locator(".aci-Service-badge")).to_have_text("Healthy", timeout=LIMIT_MS)
        expect(row.locator(".aci-Service-badge")).to_have_class(re.compile(r"aci-state-healthy"))
        expect(row.locator(".aci-Service-uriText")).to_have_text(deployed.scoring_uri)
        expect(row.locator(".aci-Service-details")).to_contain_text("process")
        # CPU and memory of the server's process tree, measured (not the requested size): a number with its unit.
        expect(row.locator(".aci-Service-usage")).to_have_text(
            re.compile(r"^CPU (<1|\d+)% · \d+(\.\d)? (MB|GB)$"), timeout=LIMIT_MS)

        # The other service is deploying in this test's process: the sidebar (the server's process) shows its step
        # and elapsed time from the deployment's journal, then sees it become Healthy when init() may finish.
        gated = sidebar.locator(f'.aci-Service[data-service="{GATED}"]')
        expect(gated.locator(".aci-Service-badge")).to_have_text("Transitioning", timeout=LIMIT_MS)
        expect(gated.locator(".aci-Service-progress")).to_have_text(re.compile(r"^wait for health.* · \d+ (s|min)"),
                                                                    timeout=LIMIT_MS)
        status = page.locator("#aci-widgets-status")
        expect(status).to_have_text("2 services · 1 deploying", timeout=LIMIT_MS)
        sidebar.screenshot(path=str(tmp_path / "deployments-sidebar.png"))
        page.get_by_role("menuitem", name="Settings", exact=True).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Theme$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^JupyterLab Dark$")).click()
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
        sidebar.screenshot(path=str(tmp_path / "deployments-sidebar-dark.png"))
        gate.touch()
        expect(gated.locator(".aci-Service-badge")).to_have_text("Healthy", timeout=LIMIT_MS)
        expect(gated.locator(".aci-Service-progress")).to_be_hidden()
        expect(status).to_have_text("2 services · 0 deploying")

        # The sidebar and the status bar share one poller: with both hidden it asks the server nothing (for six
        # poll intervals); the status bar shown again asks at once, and a click on it opens the sidebar.
        calls: list[str] = []
        page.on("request", lambda request: "/aci-widgets/" in request.url and calls.append(request.url))
        tab = page.locator('.lm-TabBar-tab[data-id="aci-widgets-deployments"]')
        tab.click()
        expect(sidebar).to_be_hidden()

        def toggle_status_bar() -> None:
            page.get_by_role("menuitem", name="View", exact=True).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Appearance$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Show Status Bar$")).click()

        toggle_status_bar()
        expect(status).to_be_hidden()
        calls.clear()
        page.wait_for_timeout(6000)  # not a synchronization: the span over which nothing may happen
        assert calls == [], f"the hidden sidebar and status bar polled: {calls}"
        with page.expect_request(re.compile(r"/aci-widgets/workspaces")):
            toggle_status_bar()
        expect(status).to_be_visible()
        status.click()
        expect(sidebar).to_be_visible()

        # Test: a body typed in, the answer and its latency.
        body = row.locator("textarea.aci-Service-body")
        expect(body).to_be_hidden()
        row.get_by_role("button", name="Test", exact=True).click()
        expect(body).to_be_visible()
        body.fill('{"data": [[1, 1, 1], [0, 1, 0]]}')
        row.get_by_role("button", name="Send", exact=True).click()
        expect(row.locator(".aci-Service-answer")).to_contain_text(re.compile(r"^\d+ ms\s*\[\s*6(\.0)?,\s*2(\.0)?"),
                                                                   timeout=LIMIT_MS)
        sidebar.screenshot(path=str(tmp_path / "deployments-sidebar-test.png"))

        # Logs: a main-area panel with the service's log, its ANSI colour drawn, not printed.
        row.get_by_role("button", name="Logs", exact=True).click()
        log = page.locator(".aci-Log pre")
        expect(log).to_contain_text("weights loaded", timeout=LIMIT_MS)
        expect(log.locator("span.aci-ansi-green", has_text="weights loaded")).to_have_count(1)
        assert "\x1b" not in log.inner_text() and "[32m" not in log.inner_text()
        expect(page.locator(".lm-TabBar-tab", has_text=f"Log: {SERVICE}")).to_be_visible()

        # Insert card: a cell that reattaches to the service, in the open notebook.
        page.locator(".lm-TabBar-tab", has_text=lab.notebook).click()
        row.get_by_role("button", name="Insert card", exact=True).click()
        expect(page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor", has_text=(
            f'Webservice(Workspace("{workspace}"), "{SERVICE}")'))).to_have_count(1)

        # Delete: a confirmation first (Cancel keeps it), then the service is gone from the sidebar and the core.
        row.get_by_role("button", name="Delete", exact=True).click()
        dialog = page.locator(".jp-Dialog")
        expect(dialog).to_contain_text(f"Delete service {SERVICE}?")
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_have_count(0)
        assert sorted(s.name for s in Webservice.list(deployed.workspace)) == [GATED, SERVICE]
        row.get_by_role("button", name="Delete", exact=True).click()
        dialog.get_by_role("button", name="Delete").click()
        expect(row).to_have_count(0, timeout=LIMIT_MS)
        assert [s.name for s in Webservice.list(deployed.workspace)] == [GATED]
        expect(status).to_have_text("1 service · 0 deploying")
    finally:
        page.close()


def test_without_the_server_extension_the_sidebar_says_what_to_do(tmp_path: Path, browser: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from playwright.sync_api import expect

    # A config folder that JupyterLab reads after the installed ones: the server extension switched off.
    off = tmp_path / "extension-off"
    off.mkdir()
    (off / "jupyter_server_config.json").write_text('{"ServerApp": {"jpserver_extensions": {"aci_widgets": false}}}')
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(off))
    try:
        with jupyterlab(tmp_path / "lab", "no-such-workspace") as lab:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            try:
                page.goto(lab.url("lab"))
                page.locator('.lm-TabBar-tab[data-id="aci-widgets-deployments"]').click()
                notice = page.locator("#aci-widgets-deployments .aci-Deployments-notice")
                expect(notice).to_contain_text("server extension does not answer", timeout=LIMIT_MS)
                expect(notice).to_contain_text("jupyter server extension enable aci_widgets")
                expect(page.locator("#aci-widgets-status")).to_have_text("aci_widgets: server extension missing")
            finally:
                page.close()
    except LabError as exc:
        pytest.fail(str(exc))
