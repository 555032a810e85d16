"""The runtime is copied into images as it is: at module level it imports only the stdlib and httptools.

The fast path (fastpath.py, schema.py, arrays.py) may also import orjson and pysimdjson (optional), numpy and
inference-schema, but only inside functions that run when score.py has declared its input, i.e. when the user's
environment has them.
"""

from __future__ import annotations

import ast
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from runtime_harness import NUMPY_SCORE, REPO, launch, make_model_dir

RUNTIME = REPO / "aci_widgets" / "runtime"
ALLOWED = set(sys.stdlib_module_names) | {"httptools"}
ALLOWED_IN_FUNCTIONS = ALLOWED | {"orjson", "simdjson", "numpy", "inference_schema"}


def _imports(node: ast.AST, in_function: bool = False) -> Iterator[tuple[str, bool]]:
    """(top-level package, imported inside a function?) for every absolute import under ``node``."""
    for child in ast.iter_child_nodes(node):
        inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        if isinstance(child, ast.Import):
            yield from ((alias.name.split(".")[0], inside) for alias in child.names)
        elif isinstance(child, ast.ImportFrom) and child.level == 0:
            yield (child.module or "").split(".")[0], inside
        yield from _imports(child, inside)


def test_runtime_imports_only_stdlib_and_httptools() -> None:
    for path in RUNTIME.glob("*.py"):
        for name, in_function in _imports(ast.parse(path.read_text(), str(path))):
            allowed = ALLOWED_IN_FUNCTIONS if in_function else ALLOWED
            assert name in allowed, f"{path.name} imports {name}{' in a function' if in_function else ''}"


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
