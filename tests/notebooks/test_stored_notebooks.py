"""The tutorial notebooks as stored in the repository: executed in order, without errors or machine paths, each
in a workspace of its own and with outputs that nbval checks.

Running them is nbval's job (``pytest tests notebooks --nbval-lax``); these checks read the files only, so they
are fast and run with every ``pytest``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
TUTORIALS = {"01-quickstart.ipynb", "02-three-ways.ipynb", "03-deploy-form.ipynb"}
CHECK_TAG = "nbval-check-output"
WORKSPACE_PREFIX = "nb-"  # notebooks/conftest.py deletes what such workspaces still run after a failed session
# Host paths that must not show in a stored output. "/tmp/ready.json" is the scoring server's ready file inside
# a container (the Docker build log shows its command line), not a path of the machine that ran the notebook.
MACHINE_PATHS = re.compile(r"(?<![\w.:/])/(?:work|root|home|Users)/[^\s\"']*|(?<![\w.:/])/tmp/(?!ready\.json)[^\s\"']*"
                           r"|file:///[^\s\"']*")
WORKSPACE_NAME = re.compile(r"""(?:Workspace\.create\(\s*|DeployMagics\.workspace\s*=\s*)["']([^"']+)["']""")


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def test_the_tutorials_are_all_there() -> None:
    assert {path.name for path in NOTEBOOKS} >= TUTORIALS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_run_is_complete_in_order_and_without_errors(path: Path) -> None:
    nb = _read(path)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    cells = _code_cells(nb)
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1)), \
        "stored outputs must come from one run, top to bottom (execute the whole notebook again)"
    errors = [(i, out.get("ename"), out.get("evalue")) for i, cell in enumerate(cells) for out in cell.outputs
              if out.output_type == "error"]
    assert not errors
    stderr = [(i, out.text[:200]) for i, cell in enumerate(cells) for out in cell.outputs
              if out.output_type == "stream" and out.name == "stderr"]
    assert not stderr, "warnings or errors on stderr in the stored outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_show_no_machine_paths(path: Path) -> None:
    nb = _read(path)
    stored = json.dumps([cell.get("outputs", []) for cell in nb.cells]) + json.dumps(nb.metadata.get("widgets", {}))
    assert not sorted(set(MACHINE_PATHS.findall(stored)))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbval_has_outputs_to_compare(path: Path) -> None:
    checked = [cell for cell in _code_cells(_read(path)) if CHECK_TAG in cell.metadata.get("tags", [])]
    assert checked, f"no cell tagged {CHECK_TAG}: under --nbval-lax nothing would be compared"
    assert all(cell.outputs for cell in checked), "a checked cell without a stored output compares nothing"


def test_each_notebook_deploys_into_a_workspace_of_its_own() -> None:
    names: dict[str, list[str]] = {}
    for path in NOTEBOOKS:
        sources = "\n".join(cell.source for cell in _code_cells(_read(path)))
        names[path.name] = WORKSPACE_NAME.findall(sources)
    assert all(len(found) == 1 for found in names.values()), names
    workspaces = [found[0] for found in names.values()]
    assert len(set(workspaces)) == len(workspaces), names
    assert all(name.startswith(WORKSPACE_PREFIX) for name in workspaces), names


def test_the_machine_path_check_can_fail() -> None:
    leaked = json.dumps(["Wrote /tmp/aci-three-ways-x1/score.py", "venv in /root/.aci_widgets/envs/abc",
                         "extra-index-url file:///opt/pypi/simple"])
    assert len(MACHINE_PATHS.findall(leaked)) == 3
    assert not MACHINE_PATHS.findall(json.dumps(['"--ready-file", "/tmp/ready.json"', "http://127.0.0.1:5001/"]))
