"""uv, the installer that builds image environments: finding it, giving it the user's pip settings, resolving a
lock, picking an interpreter, and saying in one line why it failed.

uv resolves and installs scikit-learn's environment in about a second where pip takes ten or more. Every
environment is installed from a lock (``uv pip compile --universal --generate-hashes``: exact versions and
hashes for every platform), which the registry keeps with the image, so a rebuild on any target installs exactly
the same set (``uv pip sync --require-hashes``). The targets fall back to pip, with a notice, where uv cannot run;
``ACI_WIDGETS_INSTALLER=pip`` asks for pip.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from .ansi import strip_ansi
from .errors import ImageBuildError, OperationCancelled
from .operation import Reporter
from .pip_config import pip_options
from .workspace import home

INSTALLER_ENV = "ACI_WIDGETS_INSTALLER"  # "pip": build with pip even where uv runs (comparisons, a workaround)
LOCK_NAME = "requirements.lock"
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Uv:
    path: str
    version: str


def find_uv() -> tuple[Uv | None, str]:
    """The uv binary of the installed ``uv`` package, or None and why not (the caller falls back to pip)."""
    if os.environ.get(INSTALLER_ENV, "").strip().lower() == "pip":
        return None, f"{INSTALLER_ENV}=pip"
    try:
        import uv

        path = uv.find_uv_bin()
    except (ImportError, FileNotFoundError) as exc:
        return None, f"the uv package has no binary for this platform ({exc})"
    version = _version(path)
    return (Uv(path, version), "") if version else (None, f"uv at {path} does not start")


@functools.lru_cache(maxsize=4)
def _version(path: str) -> str | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.stdout.split()
    return parts[1] if len(parts) > 1 else None


def cache_dir() -> Path:
    """uv's package cache: ``$UV_CACHE_DIR`` when the user set one, else one under the aci_widgets home, shared by
    every environment and on the same file system as them, so that uv hard-links files out of it."""
    return Path(os.environ.get("UV_CACHE_DIR") or home() / "cache" / "uv")


@dataclass
class UvSettings:
    """The user's pip settings as uv options. ``args`` go to every ``uv pip`` command, ``constraints`` to
    resolution only, ``env`` into uv's environment; ``skipped`` says what was left out and why."""

    args: list[str] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def uv_settings(environ: dict[str, str] | None = None, files: list[Path] | None = None) -> UvSettings:
    """Map pip's configuration (files and ``PIP_*``) to uv: uv reads none of it, and a mirror that works with pip
    must work here. A setting the user gave uv itself (``UV_INDEX_URL``, ...) wins over pip's."""
    env = os.environ if environ is None else environ
    options = pip_options(env, files)
    settings = UvSettings()

    def mine(*uv_vars: str) -> bool:
        return any(env.get(var) for var in uv_vars)

    if options.get("index-url") and not mine("UV_INDEX_URL", "UV_DEFAULT_INDEX"):
        settings.args += ["--index-url", options["index-url"].split()[0]]
    if not mine("UV_EXTRA_INDEX_URL", "UV_INDEX"):
        extra = [url for url in options.get("extra-index-url", "").split() if not _is_missing_path(url)]
        settings.skipped += [f"extra-index-url {url} (no such folder)"
                             for url in options.get("extra-index-url", "").split() if url not in extra]
        for url in extra:
            settings.args += ["--extra-index-url", url]
        if extra and not mine("UV_INDEX_STRATEGY"):
            # pip takes the best version across all its indexes; uv by default only the first index that has the
            # package. The user chose pip's behaviour with these indexes, so keep it: same versions as pip.
            settings.args += ["--index-strategy", "unsafe-best-match"]
    if not mine("UV_FIND_LINKS"):
        for place in options.get("find-links", "").split():
            if _is_missing_path(place):
                settings.skipped.append(f"find-links {place} (no such folder)")
            else:
                settings.args += ["--find-links", place]
    if not mine("UV_INSECURE_HOST"):
        for host in options.get("trusted-host", "").split():
            settings.args += ["--allow-insecure-host", host]
    if options.get("no-index", "").strip().lower() not in _FALSE and not mine("UV_NO_INDEX"):
        settings.args.append("--no-index")
    for constraint in options.get("constraint", "").split():
        if _is_missing_path(constraint):
            settings.skipped.append(f"constraint {constraint} (no such file)")
        else:
            settings.constraints += ["--constraint", constraint]
    cert = options.get("cert")
    if cert:
        if Path(cert).is_file():
            settings.env["SSL_CERT_FILE"] = cert
        else:
            settings.skipped.append(f"cert {cert} (no such file)")
    if options.get("default-timeout") and not mine("UV_HTTP_TIMEOUT"):
        settings.env["UV_HTTP_TIMEOUT"] = str(int(float(options["default-timeout"])))
    return settings


def _is_missing_path(place: str) -> bool:
    """A local path (or file: URL) that does not exist: uv stops on it, pip shrugs it off."""
    parts = urlsplit(place)
    if parts.scheme in ("http", "https"):
        return False
    return not Path(parts.path if parts.scheme == "file" else place).exists()


# --- running uv -----------------------------------------------------------------------------------------------

def run(uv: Uv, args: list[str], report: Reporter, what: str, cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run ``uv args``, each line of its output into the build log as it comes (resolution, downloads with their
    sizes, installs); cancellable. On failure, ImageBuildError with uv's own reason on one line."""
    full_env = {**os.environ, "UV_CACHE_DIR": str(cache_dir()), "UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1",
                **(env or {})}
    proc = subprocess.Popen([uv.path, *args], cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, bufsize=1)
    output: list[str] = []
    try:
        for line in lines_of(proc.stderr, report):
            report.log(line)
            output.append(line)
    except OperationCancelled:
        proc.kill()
        proc.wait()
        raise
    if proc.wait() != 0:
        because = reason(output) or (output[-1] if output else f"uv exited with status {proc.returncode}")
        raise ImageBuildError(f"{what} failed: {because}", "\n".join(output[-60:]))


def reason(lines: list[str]) -> str | None:
    """uv's last ``error:`` with its ``cause:`` chain, on one line: "No solution found when resolving
    dependencies: Because you require six==1.16.0 and six==1.17.0, ... unsatisfiable."."""
    lines = [strip_ansi(line).rstrip() for line in lines]
    starts = [i for i, line in enumerate(lines) if line.startswith("error:")]
    if not starts:
        return None
    parts = [lines[starts[-1]][len("error:"):].strip()]
    hints: list[str] = []
    for line in lines[starts[-1] + 1:]:
        text = line.strip()
        if text.startswith("cause:"):
            parts.append(text[len("cause:"):].strip())
        elif text.startswith("hint:"):
            hints.append(text[len("hint:"):].strip())
        elif line.startswith(" ") and text and (hints or len(parts) > 1):
            if hints:
                hints[-1] += " " + text
            else:
                parts[-1] += " " + text
        elif text:
            break
    joined = ": ".join(part.rstrip(":") for part in parts if part)
    return joined + "".join(f" (hint: {hint})" for hint in hints)


def lines_of(stream: IO[str] | None, report: Reporter) -> Iterator[str]:
    """Lines of an installer's output as they come, checking for cancellation while it is quiet (uv's stderr here,
    pip's stdout in the process target's pip fallback)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert stream is not None
        for line in stream:
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


# --- locks ----------------------------------------------------------------------------------------------------

def resolve(uv: Uv, requirements: list[str], python_version: str, settings: UvSettings, report: Reporter) -> str:
    """The lock for ``requirements``: every version and hash, for any platform, on Python >= ``python_version``.

    Resolved once per requirement set: the same lines, Python and package settings (indexes, constraints and
    their contents) reuse the lock kept under ``<home>/locks``, as a Docker layer or a cached environment keeps
    its install, so a rebuild that changed only score.py resolves nothing (a second or more with the network)."""
    cached = lock_cache_path(requirements, python_version, settings)
    if cached.is_file():
        report.log(f"Reusing the lock resolved before for this requirement set ({cached.name}); no resolution.")
        return cached.read_text()
    lock = _compile(uv, requirements, python_version, settings, report)
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(lock)
    os.replace(partial, cached)  # whole or absent, whatever another kernel does meanwhile
    return lock


def lock_cache_path(requirements: list[str], python_version: str, settings: UvSettings) -> Path:
    """Where the lock of this requirement set is kept: keyed by everything that changes what resolution gives."""
    constraints = []
    for place in settings.constraints:
        path = Path(place)
        body = path.read_bytes() if place != "--constraint" and path.is_file() else b""
        constraints.append([place, hashlib.sha256(body).hexdigest()])
    identity = {"requirements": sorted({r.strip() for r in requirements if r.strip()}), "python": python_version,
                "args": settings.args, "constraints": constraints}
    key = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]
    return home() / "locks" / f"{key}.lock"


def _compile(uv: Uv, requirements: list[str], python_version: str, settings: UvSettings, report: Reporter) -> str:
    command = ["pip", "compile", "--universal", "--generate-hashes", "--python-version", python_version,
               "--no-header", "--emit-index-annotation"]
    report.log(f"$ uv {' '.join(command)} ({len(requirements)} requirement(s))")
    with tempfile.TemporaryDirectory(prefix="aci-lock-") as tmp:
        (Path(tmp) / "requirements.in").write_text("\n".join(requirements) + "\n")
        run(uv, [*command, *settings.args, *settings.constraints, "requirements.in", "-o", LOCK_NAME], report,
            "Resolving the environment", Path(tmp), settings.env)
        body = (Path(tmp) / LOCK_NAME).read_text()
    return (f"# aci_widgets environment lock, resolved by uv {uv.version} for Python >= {python_version} on any\n"
            f"# platform: uv pip compile --universal --generate-hashes. Rebuilds install exactly this set.\n{body}")


def sync(uv: Uv, python: str, lock: str, settings: UvSettings, report: Reporter) -> None:
    """Make the environment of ``python`` hold exactly the lock's packages (hashes checked when it has them)."""
    command = ["pip", "sync", "--python", python, *(["--require-hashes"] if "--hash=" in lock else [])]
    report.log(f"$ uv {' '.join(command)} {LOCK_NAME}")
    with tempfile.TemporaryDirectory(prefix="aci-sync-") as tmp:
        (Path(tmp) / LOCK_NAME).write_text(lock)
        run(uv, [*command, *settings.args, LOCK_NAME], report, "Installing the environment", Path(tmp),
            settings.env)


# --- interpreters ---------------------------------------------------------------------------------------------

def host_version() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def find_python(uv: Uv | None, version: str | None, report: Reporter) -> tuple[str, str]:
    """(interpreter, its X.Y) for a conda file's ``python=X.Y``: that version when this machine has it (never
    downloaded), else the closest one installed, with a notice. No version asked: the notebook's own Python."""
    wanted = _major_minor(version)
    if wanted is None or wanted == host_version():
        return sys.executable, host_version()
    found = _installed(uv) if uv else []
    exact = [path for have, path in found if have == wanted]
    if exact:
        report.notice(f"The environment asks for Python {version}: using {exact[0]}.")
        return exact[0], wanted
    candidates = [(host_version(), sys.executable), *found]
    have, path = min(candidates, key=lambda c: (_distance(c[0], wanted), c[1] != sys.executable))
    report.notice(f"The environment asks for Python {version}, which this machine does not have: using Python "
                  f"{have} ({path}), the closest. Install Python {wanted} (for example `uv python install "
                  f"{wanted}`) to get exactly it.", "warning")
    return path, have


def _installed(uv: Uv) -> list[tuple[str, str]]:
    """(X.Y, path) of the interpreters uv finds on this machine, the ones that start."""
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    try:
        out = subprocess.run([uv.path, "python", "list", "--only-installed", "--output-format", "json"],
                             capture_output=True, text=True, timeout=60, env=env, check=True).stdout
        listed = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError):
        return []
    found = []
    for entry in listed:
        parts = str(entry.get("version", "")).split(".")
        if entry.get("implementation", "cpython") == "cpython" and len(parts) >= 2 and entry.get("path"):
            found.append((f"{parts[0]}.{parts[1]}", str(entry["path"])))
    return found


def _major_minor(version: str | None) -> str | None:
    parts = (version or "").strip().lstrip("=<>~!").split(".")
    return f"{parts[0]}.{parts[1]}" if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit() else None


def _distance(have: str, wanted: str) -> int:
    (a, b), (c, d) = (tuple(int(x) for x in v.split(".")) for v in (have, wanted))
    return abs((a - c) * 100 + (b - d))
