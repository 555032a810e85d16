"""JupyterLab in a real, headless Chromium: run ``notebooks/01-quickstart.ipynb`` and check what its widgets show.

The test starts ``jupyter lab`` on 127.0.0.1 with a token, in temporary folders, opens a copy of the notebook (the
stored one is never modified) with a ``%deploy_form`` cell added, and clicks Run > Run All Cells. While the
``%deploy_aci`` cell runs it records the live panel's states (a CSS spinner on the running step, the log open);
then it checks the final panel (Healthy, every step ticked, the log folded), the live service card that ``svc``
shows (Test answers in the card), the gallery and its "Sample again" button, the deploy form (its target reads
"workspace setting (auto)"), and that no widget failed to render. Screenshots go to the test's own temporary
folder; the README's are made by ``docs/screenshots.py``.

The copy stops before the notebook's clean-up cells, so that the service still answers when "Sample again" is
clicked; the driver deletes every service of the copy's workspace afterwards, and stops JupyterLab.

Needs ``/usr/bin/chromium`` (Debian's ``chromium`` and ``fonts-dejavu-core``) and the ``playwright`` package; never
``playwright install``. Without them the test skips, and under ``CI=true`` it fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyterlab_driver import (
    PANEL_STATE_JS,
    Lab,
    LabError,
    jupyterlab,
    open_and_run_all,
    wait_all_ran,
    watch_panel,
)

pytestmark = pytest.mark.browser

WORKSPACE = "nb-quickstart-browser"  # the copy's own workspace, so that this test never meets the nbval run's
SAMPLE_AGAIN_LIMIT_MS = 120_000
CARD_LIMIT_MS = 120_000
FORM_CELL = "%deploy_form"


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    try:
        with jupyterlab(tmp_path / "lab", WORKSPACE, extra_cells=[FORM_CELL]) as running:
            yield running
    except LabError as exc:
        pytest.fail(str(exc))


def _button(cell: Any, name: str) -> Any:
    """The widget button labelled exactly ``name`` (its icon adds no text)."""
    return cell.locator("button.jupyter-button").filter(has_text=re.compile(rf"^\s*{re.escape(name)}\s*$"))


def test_quickstart_runs_in_jupyterlab(lab: Lab, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    code_cells = [i for i, (kind, _) in enumerate(lab.cells) if kind == "code"]
    shots = tmp_path / "screenshots"
    shots.mkdir()
    page = browser.new_page(viewport={"width": 1280, "height": 5000})
    try:
        cells = open_and_run_all(page, lab)

        # The panel while the %deploy_aci cell runs, then when it is done.
        deploy_cell = cells.nth(lab.index("%deploy_aci"))
        seen = watch_panel(page, deploy_cell)
        print(f"panel states seen while the cell ran: {seen}")
        assert re.search(r"\[\d+\]", deploy_cell.locator(".jp-InputArea-prompt").first.inner_text()), \
            "the deploy cell did not run: an earlier cell failed?"
        assert len(seen) >= 3, f"the panel changed state fewer than twice while the cell ran: {seen}"
        running = [state for state in seen if state.startswith("Running")]
        assert any("spinner" in state for state in running), f"no running step drawn as a spinner: {seen}"
        assert all(state.endswith("log open") for state in running), f"the log was folded while steps ran: {seen}"
        final = deploy_cell.evaluate(PANEL_STATE_JS)
        assert final.startswith("Healthy |") and final.endswith("log folded"), final
        assert final.count("✔") == 4 and "spinner" not in final, final
        badge = deploy_cell.locator(".jp-Cell-outputArea .aci-badge").first
        expect(badge).to_have_text("Healthy")
        deploy_cell.locator(".jp-OutputArea-output").first.screenshot(path=str(shots / "progress-panel.png"))

        wait_all_ran(cells, code_cells)

        # `svc` shows the live service card: state, links, Test / Logs / Delete; Test answers inside the card.
        card_cell = cells.nth(next(i for i in code_cells if lab.cells[i][1].strip() == "svc"))
        expect(card_cell.locator(".aci-badge").first).to_have_text("Healthy")
        expect(card_cell.get_by_text(re.compile(r"http://127\.0\.0\.1:\d+/score"))).to_be_visible()
        for name in ("Test", "Logs", "Delete"):
            expect(_button(card_cell, name)).to_be_enabled()
        _button(card_cell, "Test").click()
        expect(card_cell.locator(".widget-output")).to_contain_text(re.compile(r"predicted \[.*\]/?.*correct"),
                                                                    timeout=CARD_LIMIT_MS)
        card_cell.locator(".jp-OutputArea-output").first.screenshot(path=str(shots / "service-card.png"))

        # The gallery: an image that the browser decoded, and "Sample again" draws a new one.
        gallery_cell = cells.nth(lab.index("%aci_predict"))
        image = gallery_cell.locator(".widget-image").first
        expect(image).to_be_visible()
        first_src = image.get_attribute("src")
        assert first_src, "the gallery image has no src"
        assert image.evaluate("(img) => img.complete && img.naturalWidth > 0"), "the gallery image did not load"
        gallery_cell.locator("button.jupyter-button", has_text="Sample again").click()
        expect(image).not_to_have_attribute("src", first_src, timeout=SAMPLE_AGAIN_LIMIT_MS)
        expect(gallery_cell.locator("button.jupyter-button", has_text="Sample again")).to_be_enabled()
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        gallery_cell.locator(".jp-OutputArea-output").first.screenshot(path=str(shots / "gallery.png"))

        # The deploy form: the target shows its current choice (not a blank), Deploy waits for a valid name.
        form_cell = cells.nth(lab.index(FORM_CELL))
        target = form_cell.locator(".widget-dropdown", has_text="Target").locator("select")
        shown = target.evaluate("(s) => s.selectedIndex >= 0 ? s.options[s.selectedIndex].text : ''")
        assert shown.replace("\xa0", " ") == "workspace setting (auto)"  # ipywidgets draws spaces as nbsp
        expect(_button(form_cell, "Deploy")).to_be_disabled()
        expect(form_cell.get_by_text("Name the service.")).to_be_visible()
        form_cell.locator(".jp-OutputArea-output").first.screenshot(path=str(shots / "deploy-form.png"))

        # Deleting from the card: it asks, then says Deleted.
        _button(card_cell, "Delete").click()
        _button(card_cell, "Yes, delete it").click()
        expect(card_cell.locator(".aci-badge").first).to_have_text("Deleted", timeout=CARD_LIMIT_MS)

        assert page.get_by_text("Error displaying widget").count() == 0, "a widget failed to render"
        print(f"screenshots: {shots}")
    finally:
        page.close()
