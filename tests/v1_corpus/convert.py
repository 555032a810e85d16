"""Convert public Azure ML SDK v1 notebooks into scripts that run here, mechanically.

Rules, the same for every notebook:
  1. ``azureml`` becomes ``aci_widgets`` in import statements only (``import azureml.core`` binds the name
     ``aci_widgets``, so its uses ``azureml.core.X`` follow it); nothing else in the code changes.
  2. Cell magics become the Python they stand for: ``%%writefile F`` writes the cell to F; ``%%time``,
     ``%matplotlib`` and shell lines (``!...``) are dropped.
  3. A cell's last bare expression is printed unless it is None, as Jupyter displays it.
  4. What cannot run offline or on this machine is dropped or replaced, per notebook, each listed with its reason
     in the script's header (DROPS and REPLACE below). ``Workspace.from_config()`` needs a config.json: the test
     writes one.

Usage: python tests/v1_corpus/convert.py [MIRROR]   (MIRROR: a clone of Azure/MachineLearningNotebooks)
The scripts are stored beside this file; the test runs the stored scripts, not this converter.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = "Azure/MachineLearningNotebooks"
LICENCE = "MIT License, Copyright (c) Microsoft Corporation (LICENSE at the repository's root)"
NUMPY_123 = "numpy==1.23 -> numpy: numpy 1.23.0 has no wheel for this Python (3.11); the pin would build from source"


@dataclass
class Source:
    name: str
    path: str
    commit: str
    drops: dict[int, str] = field(default_factory=dict)  # cell index -> why it cannot run here
    replace: list[tuple[str, str, str]] = field(default_factory=list)  # (old, new, why)
    files: list[str] = field(default_factory=list)  # files of the notebook's folder that it reads


AKS = ("AKS cluster: not available here (ComputeTarget raises ComputeTargetException by design, "
       "tests/core/test_compute_aks.py)")

SOURCES = [
    Source("register_model_deploy_local",
           "how-to-use-azureml/deployment/deploy-to-local/register-model-deploy-local.ipynb",
           "f0442166cd7a6676a26e9495464c4a532478bf5a",
           drops={c: AKS for c in (32, 33, 34, 35, 36)}),
    Source("register_model_deploy_local_advanced",
           "how-to-use-azureml/deployment/deploy-to-local/register-model-deploy-local-advanced.ipynb",
           "f0442166cd7a6676a26e9495464c4a532478bf5a"),
    Source("multi_model_register_and_deploy",
           "how-to-use-azureml/deployment/deploy-multi-model/multi-model-register-and-deploy.ipynb",
           "f0442166cd7a6676a26e9495464c4a532478bf5a",
           replace=[('"numpy==1.23"', '"numpy"', NUMPY_123)]),
    Source("model_register_and_deploy",
           "how-to-use-azureml/deployment/deploy-to-cloud/model-register-and-deploy.ipynb",
           "fa13385860631075dd159aa216488869ecd89571",
           replace=[("'numpy==1.23'", "'numpy'", NUMPY_123)],
           files=["score.py"]),
    Source("train_within_notebook",
           "how-to-use-azureml/training/train-within-notebook/train-within-notebook.ipynb",
           "79739b5e1bf3f920cfd4770eceb297850471c01c",
           replace=[("from sklearn.externals import joblib", "import joblib",
                     "sklearn.externals.joblib was removed in scikit-learn 0.23 (this machine has 1.x)")],
           files=["score.py"]),
]

_IMPORT = re.compile(r"^(\s*)(from|import)(\s+)azureml\b", re.M)


def git_show(mirror: Path, commit: str, path: str) -> str:
    return subprocess.run(["git", "--git-dir", str(mirror), "show", f"{commit}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def convert_code(code: str) -> str:
    """Rule 1 on a piece of Python: imports renamed; uses of a bound ``azureml`` module name follow."""
    binds_module = re.search(r"^\s*import\s+azureml\b", code, re.M) is not None
    code = _IMPORT.sub(r"\1\2\3aci_widgets", code)
    if binds_module:
        code = re.sub(r"(?<![\w.])azureml\.", "aci_widgets.", code)
    return code


def convert_cell(source: str) -> str:
    lines = source.splitlines()
    if lines and lines[0].startswith("%%writefile"):
        target = lines[0].split(None, 1)[1].strip()
        body = convert_code("\n".join(lines[1:]) + "\n")
        return f"with open({target!r}, 'w') as _f:\n    _f.write({body!r})\n"
    kept = [line for line in lines if not line.lstrip().startswith(("%", "!"))]
    code = convert_code("\n".join(kept) + "\n")
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not _is_print(tree.body[-1].value):
        last = tree.body[-1]
        code_lines = code.splitlines()
        start, end = last.lineno - 1, last.end_lineno
        expr = "\n".join(code_lines[start:end])
        shown = [f"_shown = ({expr})", "if _shown is not None:", "    print(repr(_shown))"]
        code = "\n".join(code_lines[:start] + shown + code_lines[end:]) + "\n"
    return code


def _is_print(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"


def convert(mirror: Path, source: Source) -> str:
    notebook = json.loads(git_show(mirror, source.commit, source.path))
    header = ["# ruff: noqa - the notebook's code as published, not this project's style",
              f"# Converted from https://github.com/{REPO}/blob/{source.commit}/{source.path}",
              f"# Licence: {LICENCE}", "# Conversion: tests/v1_corpus/convert.py (rules in its docstring).",
              "# Dropped or replaced, and why:"]
    body: list[str] = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        text = "".join(cell["source"])
        if index in source.drops:
            header.append(f"#   cell {index} dropped: {source.drops[index]}")
            continue
        for line in text.splitlines():
            if line.lstrip().startswith("!") or line.startswith(("%%time", "%matplotlib")):
                header.append(f"#   cell {index}: magic/shell line {line.strip()!r} dropped")
        converted = convert_cell(text)
        body.append(f"# --- cell {index}\n{converted}")
    script = "\n".join(body)
    for old, new, why in source.replace:
        if old not in script:
            raise SystemExit(f"{source.name}: {old!r} not found; the replacement list is out of date")
        script = script.replace(old, new)
        header.append(f"#   replaced {old} with {new}: {why}")
    if len(header) == 5:
        header.append("#   nothing")
    return "\n".join(header) + "\n\n" + script


def main() -> None:
    mirror = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror/Azure+MachineLearningNotebooks/repo")
    for source in SOURCES:
        (HERE / f"{source.name}.py").write_text(convert(mirror, source))
        folder = source.path.rsplit("/", 1)[0]
        for name in source.files:
            dest = HERE / source.name / name
            dest.parent.mkdir(exist_ok=True)
            text = convert_code(git_show(mirror, source.commit, f"{folder}/{name}"))
            dest.write_text("# ruff: noqa - from the notebook's folder, as published (imports converted)\n" + text)
        print(f"wrote {source.name}.py")


if __name__ == "__main__":
    main()
