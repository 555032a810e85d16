"""The stored tutorials render where people read them: nbviewer (widget state saved in the notebook) and GitHub
(no widgets: the static copy beside each widget view). Converted with nbconvert's HTML exporter, as nbviewer does.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
STATIC = ("text/html", "image/png")
STEPS = ("register model", "build image", "start service", "wait for health")
PNG_IMG = re.compile(r'<img[^>]+src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"')
# What each tutorial must show without any widget: its deployment's steps, and (01, 02) the digits as a PNG.
EXPECTED = {"01-quickstart.ipynb": (STEPS, True), "02-three-ways.ipynb": (STEPS, True),
            "03-deploy-form.ipynb": (STEPS, False)}
WITH_WIDGETS = {"01-quickstart.ipynb", "03-deploy-form.ipynb"}  # 02 uses the Python API's printed progress


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _html(nb: nbformat.NotebookNode) -> str:
    body, _ = HTMLExporter().from_notebook_node(nb)
    return body


def _widget_outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
            if WIDGET_VIEW in out.get("data", {})]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_widget_output_has_a_static_copy_beside_it(path: Path) -> None:
    missing = [out["data"].get("text/plain", "")[:80] for out in _widget_outputs(_read(path))
               if not any(mime in out["data"] for mime in STATIC)]
    assert not missing, f"widget outputs with nothing but the widget view: {missing}"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name in WITH_WIDGETS], ids=lambda p: p.name)
def test_nbviewer_draws_the_widgets_from_the_saved_state(path: Path) -> None:
    nb = _read(path)
    views = {out["data"][WIDGET_VIEW]["model_id"] for out in _widget_outputs(nb)}
    assert views, "no widget output stored"
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    assert views <= set(state), "widget views whose state was not saved (execute with store_widget_state)"
    html = _html(nb)
    assert f'type="{WIDGET_STATE}"' in html
    assert all(model_id in html for model_id in views)


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name in EXPECTED], ids=lambda p: p.name)
def test_github_shows_the_steps_and_the_digits_without_widgets(path: Path) -> None:
    nb = copy.deepcopy(_read(path))
    nb.metadata.pop("widgets", None)  # GitHub runs no widget: each output falls back to its static copy
    html = _html(nb)
    steps, gallery = EXPECTED[path.name]
    assert all(step in html for step in steps), [step for step in steps if step not in html]
    assert "Healthy" in html
    if gallery:
        assert PNG_IMG.search(html), "no PNG of the digits"


def test_the_checks_can_fail() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("w", outputs=[nbformat.v4.new_output(
        "display_data", data={WIDGET_VIEW: {"model_id": "a" * 32, "version_major": 2, "version_minor": 0},
                              "text/plain": "Gallery(...)"})])])
    assert not any(mime in _widget_outputs(nb)[0]["data"] for mime in STATIC)
    assert not PNG_IMG.search(_html(nb)) and "register model" not in _html(nb)
