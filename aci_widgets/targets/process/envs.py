"""Cached virtualenvs: the process target's "image layers".

An environment is keyed by the Python that runs it and its pip requirements, built once (under a file lock, so
two kernels never build the same one twice), then reused by every image that asks for the same requirements.
It is built in a temporary folder and renamed into place only when pip succeeded: a crash leaves no half env.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from ... import runtime
from ...core.errors import ImageBuildError, OperationCancelled
from ...core.operation import Reporter
from ...core.piplog import root_cause
from ...core.workspace import home

# What the scoring runtime itself needs in every environment.
RUNTIME_REQUIREMENTS = runtime.REQUIREMENTS
_COMPLETE = ".aci-widgets-complete"


def env_key(requirements: list[str]) -> str:
    """Same Python, same requirement lines (in any order) -> same environment."""
    wanted = sorted({r.strip() for r in [*requirements, *RUNTIME_REQUIREMENTS] if r.strip()}, key=str.lower)
    identity = {"python": sys.version.split()[0], "executable": os.path.realpath(sys.executable),
                "requirements": wanted}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]


def envs_root() -> Path:
    root = home() / "envs"
    root.mkdir(parents=True, exist_ok=True)
    return root


def env_python(env: Path) -> Path:
    return env / "bin" / "python"


def ensure_env(requirements: list[str], report: Reporter) -> tuple[Path, str]:
    """The environment for ``requirements`` (built now if needed); returns (path, key)."""
    from filelock import FileLock

    key = env_key(requirements)
    final = envs_root() / key
    if (final / _COMPLETE).is_file():
        report.notice(f"Reusing the cached environment {key} ({len(requirements)} requirement(s)).")
        return final, key
    with FileLock(str(envs_root() / f"{key}.lock")):
        if (final / _COMPLETE).is_file():
            report.notice(f"Environment {key} was built by another process; reusing it.")
            return final, key
        building = envs_root() / f"{key}.building"
        shutil.rmtree(building, ignore_errors=True)
        try:
            _build(building, [*requirements, *RUNTIME_REQUIREMENTS], report)
            shutil.rmtree(final, ignore_errors=True)
            os.replace(building, final)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
    return final, key


def _pip_drives_other_pythons() -> bool:
    """pip 22.3+ installs into another interpreter (``--python``): no pip copy in each env, seconds saved."""
    try:
        major, minor = (int(part) for part in metadata.version("pip").split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):
        return False
    return (major, minor) >= (22, 3)


def _build(folder: Path, requirements: list[str], report: Reporter) -> None:
    python = env_python(folder)
    if _pip_drives_other_pythons():
        venv = [sys.executable, "-m", "venv", "--without-pip", str(folder)]
        pip = [sys.executable, "-m", "pip", "--python", str(python)]
    else:
        venv = [sys.executable, "-m", "venv", str(folder)]
        pip = [str(python), "-m", "pip"]
    report.log(f"$ python -m venv {folder.name}")
    _run(venv, report, "python -m venv")
    report.log("$ pip install " + " ".join(requirements))
    _run([*pip, "install", "--disable-pip-version-check", "--no-input", "--progress-bar", "off", *requirements],
         report, "pip install")
    freeze = subprocess.run([*pip, "freeze"], capture_output=True, text=True, check=False).stdout
    (folder / "requirements.lock").write_text(freeze)
    (folder / _COMPLETE).write_text(json.dumps({"requirements": requirements}))


def _run(command: list[str], report: Reporter, what: str) -> None:
    """Run a build command, streaming its output line by line; cancellable; errors keep the tool's own lines."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            text=True, bufsize=1, env={**os.environ, "PIP_NO_INPUT": "1"})
    errors: list[str] = []
    output: list[str] = []
    try:
        for line in _lines(proc, report):
            report.log(line)
            output.append(line)
            if line.startswith("ERROR:") or "error:" in line.lower()[:20]:
                errors.append(line)
    except OperationCancelled:
        proc.kill()
        proc.wait()
        raise
    if proc.wait() != 0:
        tail = output[-30:]
        cause = root_cause(output)  # pip's own lines say "subprocess-exited-with-error"; this says why
        first = str(cause) if cause else errors[0] if errors else tail[-1] if tail else f"exit status {proc.returncode}"
        hint = _from_source_hint(cause.requirement) if cause and cause.requirement else ""
        raise ImageBuildError(f"{what} failed: {first}{hint}", "\n".join(errors or tail))


def _from_source_hint(requirement: str) -> str:
    """What to do when a package failed to build from source: often an old pin with no wheel for this Python."""
    name = re.split(r"[<>=!~;\[ @]", requirement, maxsplit=1)[0]
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return (f"\npip had to build {requirement} from source, which failed: pin a version of {name} that has a wheel"
            f" for Python {python} (a newer one, often) to install it without building.")


def _lines(proc: subprocess.Popen[str], report: Reporter) -> Iterator[str]:
    """Lines from the process as they come, checking for cancellation while it is quiet."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    while True:
        with contextlib.suppress(queue.Empty):
            line = lines.get(timeout=0.2)
            if line is None:
                return
            yield line
            continue
        report.check_cancelled()
