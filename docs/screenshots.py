"""Take the README's screenshots (docs/progress-panel.png, docs/gallery.png, docs/deployments-sidebar.png) in a real
JupyterLab, by hand.

    python docs/screenshots.py            # needs /usr/bin/chromium, fonts-dejavu-core and the playwright package

It runs a copy of notebooks/01-quickstart.ipynb exactly as tests/browser/test_jupyterlab.py does (the same driver,
tests/browser/jupyterlab_driver.py), in a temporary folder and an aci_widgets home of its own, and writes the panel,
the gallery and the Deployments sidebar (with the notebook's deployed service) into docs/. The test run never writes
here: look at the pictures, then commit them.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "tests" / "browser"))

from jupyterlab_driver import chromium, jupyterlab, open_and_run_all, wait_all_ran, watch_panel  # noqa: E402

WORKSPACE = "nb-quickstart-screenshots"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="aci-screenshots-") as folder:
        os.environ["ACI_WIDGETS_HOME"] = str(Path(folder) / "home")  # inherited by JupyterLab and its kernel
        with jupyterlab(Path(folder) / "lab", WORKSPACE) as lab, chromium() as browser:
            page = browser.new_page(viewport={"width": 1100, "height": 5000})
            cells = open_and_run_all(page, lab)
            deploy_cell = cells.nth(lab.index("%deploy_aci"))
            watch_panel(page, deploy_cell)
            wait_all_ran(cells, [i for i, (kind, _) in enumerate(lab.cells) if kind == "code"])
            deploy_cell.locator(".jp-OutputArea-output").first.screenshot(path=str(DOCS / "progress-panel.png"))
            gallery_cell = cells.nth(lab.index("%aci_predict"))
            page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                                   arg=gallery_cell.locator(".widget-image").first.element_handle())
            gallery_cell.locator(".jp-OutputArea-output").first.screenshot(path=str(DOCS / "gallery.png"))
            sidebar_shot(page)
    print(f"wrote {DOCS / 'progress-panel.png'}, {DOCS / 'gallery.png'} and {DOCS / 'deployments-sidebar.png'}")


def sidebar_shot(page: Any) -> None:
    """The Deployments sidebar showing the service that the notebook deployed, once its CPU and memory show."""
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1100, "height": 560})
    page.locator('.lm-TabBar-tab[data-id="aci-widgets-deployments"]').click()
    sidebar = page.locator("#aci-widgets-deployments")
    sidebar.locator(".aci-Deployments-picker").select_option(WORKSPACE)
    row = sidebar.locator(".aci-Service").first
    expect(row.locator(".aci-Service-badge")).to_have_text("Healthy", timeout=60_000)
    expect(row.locator(".aci-Service-usage")).to_have_text(re.compile(r"^CPU .*B$"), timeout=60_000)
    # Wider than the default 250 px, so that the workspace's name and the scoring URI show whole.
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first.bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(handle["x"] + 170, handle["y"] + handle["height"] / 2, steps=5)
    page.mouse.up()
    box = sidebar.bounding_box()
    rows = sidebar.locator(".aci-Deployments-list").bounding_box()
    page.screenshot(path=str(DOCS / "deployments-sidebar.png"), clip={
        "x": box["x"], "y": box["y"], "width": box["width"], "height": rows["y"] + rows["height"] - box["y"] + 8})


if __name__ == "__main__":
    main()
