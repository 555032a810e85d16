"""``%%score_script``'s two checks: the script's shape (compiles, defines init() and run(raw_data)), and one
real init() + run() in a fresh process with the model files laid out as a service would see them."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core import UserErrorException
from ..widgets.deploy_request import find_registered

if TYPE_CHECKING:
    from ..core import Workspace

PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


def _positional_range(func: ast.FunctionDef) -> tuple[int, float]:
    """(required, maximum) positional arguments of a function definition."""
    positional = len(func.args.posonlyargs) + len(func.args.args)
    required = positional - len(func.args.defaults)
    return required, float("inf") if func.args.vararg else positional


def check_shape(source: str, path: str) -> str:
    """One line saying the script is fine, or ``UserErrorException`` naming the problem and its line."""
    try:
        tree = ast.parse(source, filename=path)
        compile(tree, path, "exec")
    except SyntaxError as exc:
        code = f": {exc.text.strip()}" if exc.text and exc.text.strip() else ""
        raise UserErrorException(f"{path} line {exc.lineno}: SyntaxError: {exc.msg}{code}") from None
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    problems = []
    init, run = functions.get("init"), functions.get("run")
    if init is None:
        problems.append("defines no init()")
    elif _positional_range(init)[0] > 0:
        problems.append(f"init() must take no arguments (line {init.lineno})")
    if run is None:
        problems.append("defines no run(raw_data)")
    else:
        required, maximum = _positional_range(run)
        if required > 1 or maximum < 1:
            problems.append(f"run() must take exactly one argument, the request body (line {run.lineno})")
    if problems:
        raise UserErrorException(f"{path} {' and '.join(problems)}.")
    return f"Wrote {path}: it compiles and defines init() and run(raw_data)."


def lay_out_models(ws: Workspace, specs: list[str], root: Path) -> list[str]:
    """Put each model under ``root/<name>/<version>/`` as in an image: a path as version 1 of a model named
    after it, a registered ``name[:version]`` downloaded from the registry. Returns 'name:version' for each."""
    laid = []
    for spec in specs:
        source = Path(spec)
        if source.exists():
            dest = root / source.name / "1"
            dest.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, dest, dirs_exist_ok=True)
            else:
                shutil.copy2(source, dest / source.name)
            laid.append(f"{source.name} (file)")
        else:
            model = find_registered(ws, spec)
            model.download(root / model.name / str(model.version), exist_ok=True)
            laid.append(model.id)
    return laid


def input_text(spec: str, evaluate: Any) -> str:
    """The request body: a file's text, or a Python expression (evaluated in the notebook) as JSON."""
    path = Path(spec)
    if path.is_file():
        return path.read_text(encoding="utf-8")
    try:
        value = evaluate(spec)
    except Exception as exc:  # noqa: BLE001 - also accept plain JSON (true/null are not Python)
        try:
            json.loads(spec)
        except ValueError:
            raise UserErrorException(f"--test-input {spec!r} is neither a file nor an expression "
                                     f"({type(exc).__name__}: {exc}).") from None
        return spec
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
    except (TypeError, ValueError) as exc:
        raise UserErrorException(f"--test-input {spec!r} cannot be sent as JSON: {exc}") from None


def run_check(script: str, body: str, model_root: Path | None, timeout: float) -> dict[str, Any]:
    """``python -m aci_widgets.runtime.check`` with this kernel's Python; its JSON answer plus what it printed."""
    with tempfile.TemporaryDirectory(prefix="aci-score-input-") as tmp:
        input_file = Path(tmp) / "input.json"
        input_file.write_text(body, encoding="utf-8")
        command = [sys.executable, "-m", "aci_widgets.runtime.check", "--score", str(Path(script).resolve()),
                   "--input-file", str(input_file)]
        if model_root is not None:
            command += ["--model-dir", str(model_root)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [PACKAGE_PARENT,
                                                                         os.environ.get("PYTHONPATH")])))
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired as exc:
            printed = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
            return {"ok": False, "stage": "timeout", "traceback": "", "user_line": None, "printed": printed,
                    "error": f"init() and run() did not finish within {timeout:g} s (--timeout)."}
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    try:
        report = json.loads(lines[-1])
    except (IndexError, ValueError):
        return {"ok": False, "stage": "check", "error": f"the check process ended with status {done.returncode}",
                "traceback": done.stderr, "user_line": None, "printed": ""}
    report["printed"] = done.stderr
    return report
