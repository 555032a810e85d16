"""Cached virtualenvs: the process target's "image layers".

An environment is keyed by the Python that runs it and its pip requirements (or, for an image rebuilt from its
lock, that lock), built once (under a file lock, so two kernels never build the same one twice), then reused by
every image that asks for the same. It is built in a temporary folder and renamed into place only when the
install succeeded: a crash leaves no half env. uv builds it (``core/uvtool.py``: resolve a lock, ``uv venv``,
``uv pip sync`` from the shared cache); pip where uv cannot run. The lock is ``<env>/requirements.lock``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from ... import runtime
from ...core.errors import ImageBuildError, OperationCancelled
from ...core.operation import Reporter
from ...core.piplog import root_cause
from ...core.uvtool import LOCK_NAME, Uv, find_python, find_uv, lines_of, resolve, sync, uv_settings
from ...core.uvtool import run as run_uv
from ...core.workspace import home

# What the scoring runtime itself needs in every environment.
RUNTIME_REQUIREMENTS = runtime.REQUIREMENTS
_COMPLETE = ".aci-widgets-complete"


def env_key(requirements: list[str], python: str = sys.executable, lock: str | None = None) -> str:
    """Same Python, same requirement lines (in any order), same lock if any -> same environment."""
    wanted = sorted({r.strip() for r in [*requirements, *RUNTIME_REQUIREMENTS] if r.strip()}, key=str.lower)
    identity: dict[str, object] = {"python": sys.version.split()[0] if python == sys.executable else None,
                                   "executable": os.path.realpath(python), "requirements": wanted}
    if lock is not None:
        identity["lock"] = hashlib.sha256(lock.encode()).hexdigest()
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]


def envs_root() -> Path:
    root = home() / "envs"
    root.mkdir(parents=True, exist_ok=True)
    return root


def env_python(env: Path) -> Path:
    return env / "bin" / "python"


def ensure_env(requirements: list[str], report: Reporter, lock: str | None = None,
               python_version: str | None = None) -> tuple[Path, str]:
    """The environment for ``requirements`` (built now if needed); returns (path, key). ``lock``: install exactly
    that set (an image rebuilt). ``python_version``: a conda file's ``python=X.Y``, or the closest this machine has.
    """
    from filelock import FileLock

    uv, no_uv = find_uv()
    python, version = find_python(uv, python_version, report)
    key = env_key(requirements, python, lock)
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
            wanted = [*requirements, *RUNTIME_REQUIREMENTS]
            if uv is not None:
                _build_with_uv(building, wanted, report, uv, python, version, lock)
            else:
                report.notice(f"Building the environment with pip, not uv: {no_uv}.", "warning")
                _build(building, wanted, report, python, lock)
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


def _build_with_uv(folder: Path, requirements: list[str], report: Reporter, uv: Uv, interpreter: str,
                   version: str, lock: str | None) -> None:
    """Resolve a lock (unless given), then ``uv venv`` and ``uv pip sync`` from it, linked from uv's cache."""
    settings = uv_settings()
    if settings.skipped:
        report.notice("pip settings of this machine not given to uv: " + "; ".join(settings.skipped))
    if lock is None:
        lock = resolve(uv, requirements, version, settings, report)
    else:
        report.notice("Installing the image's locked environment (Image.environment_lock).")
    report.log(f"$ uv venv --python {interpreter} {folder.name}")
    run_uv(uv, ["venv", "--no-project", "--relocatable", "--python", interpreter, str(folder)], report, "uv venv",
           folder.parent)
    sync(uv, str(env_python(folder)), lock, settings, report)
    (folder / LOCK_NAME).write_text(lock)
    (folder / _COMPLETE).write_text(json.dumps({"requirements": requirements, "installer": f"uv {uv.version}"}))


def _build(folder: Path, requirements: list[str], report: Reporter, interpreter: str = sys.executable,
           lock: str | None = None) -> None:
    python = env_python(folder)
    if _pip_drives_other_pythons():
        venv = [interpreter, "-m", "venv", "--without-pip", str(folder)]
        pip = [sys.executable, "-m", "pip", "--python", str(python)]
    else:
        venv = [interpreter, "-m", "venv", str(folder)]
        pip = [str(python), "-m", "pip"]
    report.log(f"$ python -m venv {folder.name}")
    _run(venv, report, "python -m venv")
    if lock is not None:  # an image rebuilt: exactly its locked set
        locked = folder / f"{LOCK_NAME}.in"
        locked.write_text(lock)
        report.log(f"$ pip install -r {LOCK_NAME}")
        _run([*pip, "install", "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
              *(["--require-hashes"] if "--hash=" in lock else []), "-r", str(locked)], report, "pip install")
        locked.unlink()
        (folder / LOCK_NAME).write_text(lock)
    else:
        report.log("$ pip install " + " ".join(requirements))
        _run([*pip, "install", "--disable-pip-version-check", "--no-input", "--progress-bar", "off", *requirements],
             report, "pip install")
        freeze = subprocess.run([*pip, "freeze"], capture_output=True, text=True, check=False).stdout
        (folder / LOCK_NAME).write_text("# pip freeze: exact versions, no hashes (built with pip, not uv)\n" + freeze)
    (folder / _COMPLETE).write_text(json.dumps({"requirements": requirements, "installer": "pip"}))


def _run(command: list[str], report: Reporter, what: str) -> None:
    """Run a build command, streaming its output line by line; cancellable; errors keep the tool's own lines."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            text=True, bufsize=1, env={**os.environ, "PIP_NO_INPUT": "1"})
    errors: list[str] = []
    output: list[str] = []
    try:
        for line in lines_of(proc.stdout, report):
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


