"""Take the README's screenshots (docs/progress-panel.png, docs/gallery.png) in a real JupyterLab, by hand.

    python docs/screenshots.py            # needs /usr/bin/chromium, fonts-dejavu-core and the playwright package

It runs a copy of notebooks/01-quickstart.ipynb exactly as tests/browser/test_jupyterlab.py does (the same driver,
tests/browser/jupyterlab_driver.py), in a temporary folder and an aci_widgets home of its own, and writes the panel
and the gallery into docs/. The test run never writes here: look at the pictures, then commit them.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

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
    print(f"wrote {DOCS / 'progress-panel.png'} and {DOCS / 'gallery.png'}")


if __name__ == "__main__":
    main()
