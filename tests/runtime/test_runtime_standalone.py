"""The runtime is copied into images as it is: it must import only the stdlib and httptools."""

from __future__ import annotations

import ast
import json
import shutil
import sys
from pathlib import Path

from runtime_harness import NUMPY_SCORE, REPO, launch, make_model_dir

RUNTIME = REPO / "aci_widgets" / "runtime"
ALLOWED = set(sys.stdlib_module_names) | {"httptools"}


def test_runtime_imports_only_stdlib_and_httptools() -> None:
    for path in RUNTIME.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in ALLOWED, f"{path.name} imports {name}"


def test_init_module_stays_empty() -> None:
    tree = ast.parse((RUNTIME / "__init__.py").read_text())
    assert not [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]


def test_a_copy_of_the_runtime_alone_serves(tmp_path: Path) -> None:
    image = tmp_path / "image"
    shutil.copytree(RUNTIME, image / "aci_widgets" / "runtime", ignore=shutil.ignore_patterns("__pycache__"))
    (image / "aci_widgets" / "__init__.py").write_text("")
    server = launch(
        tmp_path / "run",
        NUMPY_SCORE,
        model_dir=make_model_dir(tmp_path / "models"),
        env={"PYTHONPATH": str(image)},
        cwd=image,
    )
    try:
        assert server.ready["status"] == "ready", server.stderr()
        assert json.loads(server.score({"data": [[0, 1, 0]]})[2]) == [[3.0, 4.0]]
    finally:
        assert server.stop() == 0
