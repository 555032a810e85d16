"""The Dockerfile and build context of a service image.

Layers go from what changes least to what changes most: the base, the installer (the uv binary of the host's
``uv`` package, copied in), the venv, the environment's install from its lock, the scoring runtime, the models,
and last the app files (score.py). Editing score.py therefore rebuilds one small layer and reuses the install
layer, which is what makes a redeploy take a second. Without uv (no binary for the engine's platform,
``ACI_WIDGETS_INSTALLER=pip``) pip installs the requirements, or the lock when the image has one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ... import runtime
from ...core.errors import ImageBuildError
from .pipconf import PipSettings

if TYPE_CHECKING:
    from ...core.target import ImageSpec
    from .user_python import UserPython

DEFAULT_BASE = "python:3.11-slim"
VENV = "/opt/venv"
PACKAGE_ROOT = "/opt/aci_widgets"
APP_DIR = "/var/azureml-app"
MODEL_DIR = f"{APP_DIR}/azureml-models"
READY_FILE = "/tmp/ready.json"
PORT = 5001
DEPS = f"{PACKAGE_ROOT}/deps"  # user-managed Python: the runtime's own packages the base image lacks, if any
UV_FOR_DEPS = f"{PACKAGE_ROOT}/uv"  # kept out of the user's image's own folders
RUNTIME_REQUIREMENTS = runtime.REQUIREMENTS  # what aci_widgets.runtime needs beyond the stdlib
REQUIREMENTS_IN_IMAGE = f"{PACKAGE_ROOT}/requirements.txt"
LOCK_IN_IMAGE = f"{PACKAGE_ROOT}/requirements.lock"
UV_IN_IMAGE = "/usr/local/bin/uv"
CA_IN_IMAGE = f"{PACKAGE_ROOT}/ca-bundle.pem"  # the host's CA bundle (its pip cert): a TLS proxy's CA included
DEBIAN_CA = "/etc/ssl/certs/ca-certificates.crt"  # else the base image's own (uv does not look there by itself)
WARM_SCRIPT = "warm_imports.py"
WARM_IMPORTS = '''"""Compile the bytecode a start needs: import every top-level module of the distributions named
on the command line (errors only reported: a module may need a GPU, a display or its settings)."""
import importlib
import re
import sys
from importlib import metadata


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


wanted = {canonical(name) for name in sys.argv[1:]}
for module, dists in sorted(metadata.packages_distributions().items()):
    if module.isidentifier() and not module.startswith("_") and any(canonical(d) in wanted for d in dists):
        try:
            importlib.import_module(module)
        except BaseException as exc:  # noqa: BLE001
            print(f"not precompiled: {module} ({type(exc).__name__}: {exc})")
'''
# pip's build args -> uv's names for the same settings.
_UV_ARGS = {"PIP_INDEX_URL": "UV_INDEX_URL", "PIP_EXTRA_INDEX_URL": "UV_EXTRA_INDEX_URL",
            "PIP_TRUSTED_HOST": "UV_INSECURE_HOST", "PIP_DEFAULT_TIMEOUT": "UV_HTTP_TIMEOUT"}


@dataclass(frozen=True)
class Installer:
    """How the build installs the environment: ``uv`` (the binary to copy in) or pip (None); ``lock``: exactly
    this set (uv always has one; pip when the image was locked before)."""

    uv: Path | None = None
    lock: str | None = None

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def package_source_dir() -> Path:
    """The directory of the ``aci_widgets`` package this process runs, copied into the image as it is."""
    return Path(__file__).resolve().parents[2]


AZURE_DEFAULT_BASES = "mcr.microsoft.com/azureml/"  # Azure ML's own base images: ours stands in for them


def base_stage(base_dockerfile: str) -> tuple[list[str], str]:
    """``env.docker.base_dockerfile`` as the first lines of the image's Dockerfile, and the image its last ``FROM``
    names. An Azure ML base image (``mcr.microsoft.com/azureml/...``, as azureml's samples use) becomes
    ``DEFAULT_BASE``, as it does for ``docker.base_image``."""
    lines, image = [], DEFAULT_BASE
    for line in base_dockerfile.strip().splitlines():
        words = line.split()
        if words and words[0].upper() == "FROM":
            at = next((i for i, w in enumerate(words[1:], 1) if not w.startswith("--")), None)
            if at is not None:
                if words[at].startswith(AZURE_DEFAULT_BASES):
                    words[at] = DEFAULT_BASE
                image = words[at]
                line = " ".join(words)
        lines.append(line)
    return lines, image


def runtime_command(script: str, python: str = f"{VENV}/bin/python") -> list[str]:
    """The image's CMD: the scoring runtime on the app's script and models, listening inside the container."""
    return [python, "-m", "aci_widgets.runtime", "--score", f"{APP_DIR}/{script}",
            "--model-dir", MODEL_DIR, "--host", "0.0.0.0", "--port", str(PORT), "--ready-file", READY_FILE]


def requirements_text(requirements: list[str]) -> str:
    """The user's requirement lines, plus the runtime's own needs unless the user already names them."""
    named = {_canonical(m.group(1)) for line in requirements if (m := _NAME.match(line))}
    lines = [line.strip() for line in requirements if line.strip()]
    lines += [req for req in RUNTIME_REQUIREMENTS if _canonical(_NAME.match(req).group(1)) not in named]
    return "\n".join(lines) + "\n"


def render_dockerfile(spec: ImageSpec, pip: PipSettings, has_other_files: bool = False,
                      installer: Installer | None = None, user_python: UserPython | None = None) -> str:
    """The Dockerfile text. ``has_other_files``: the context holds app files besides the script and models.
    ``user_python``: user-managed dependencies, the base image's own Python (no venv, nothing of the environment
    installed; only the runtime's own packages it lacks, into ``DEPS``)."""
    script = Path(spec.execution_script).as_posix()
    base = spec.base_image or DEFAULT_BASE
    if user_python is not None:
        deps = user_python.missing_requirements
        install = (_deps_install(pip, installer, user_python.command, deps) if deps else [])
        python, path = user_python.command, f"{PACKAGE_ROOT}:{DEPS}" if deps else PACKAGE_ROOT
    else:
        install = (_uv_install(pip, installer, spec.requirements) if installer and installer.uv
                   else _pip_install(pip, installer))
        python, path = f"{VENV}/bin/python", PACKAGE_ROOT
    lines = [
        *(base_stage(spec.base_dockerfile)[0] if spec.base_dockerfile else [f"FROM {base}"]),
        "ENV PYTHONUNBUFFERED=1",
        *install,
        f"COPY aci_widgets {PACKAGE_ROOT}/aci_widgets",
        f"ENV PYTHONPATH={path} AZUREML_MODEL_DIR={MODEL_DIR} ACI_WIDGETS_MODEL_DIR={MODEL_DIR}",
        # Metadata before the files: each of these is a build step of its own, cached only while all before it is.
        f"WORKDIR {APP_DIR}",
        f"EXPOSE {PORT}",
        f"CMD {json.dumps(runtime_command(script, python))}",
        f"COPY azureml-models {MODEL_DIR}",
        *([f"COPY app/ {APP_DIR}/"] if has_other_files else []),
        f"COPY {json.dumps(['script/' + script, f'{APP_DIR}/{script}'])}",
    ]
    return "\n".join(lines) + "\n"


def _uv_install(pip: PipSettings, installer: Installer, requirements: list[str]) -> list[str]:
    """uv in its own layer, the venv, then exactly the lock (hashes checked), and the bytecode of what importing
    the named packages loads (``warm_imports.py``): a container start then compiles next to nothing. Compiling the
    whole environment (uv's ``--compile-bytecode``) took 50 s for scikit-learn's on 2 busy cores, for some 2400
    files of which a start imports 800."""
    uv_args = {_UV_ARGS[name]: value for name, value in pip.args.items() if name in _UV_ARGS}
    if "UV_EXTRA_INDEX_URL" in uv_args:  # pip's way with several indexes: the best version across all of them
        uv_args["UV_INDEX_STRATEGY"] = "unsafe-best-match"
    hashes = " --require-hashes" if installer.lock and "--hash=" in installer.lock else ""
    names = sorted({_canonical(m.group(1)) for line in requirements_text(requirements).splitlines()
                    if (m := _NAME.match(line))})
    return [
        f"COPY uv {UV_IN_IMAGE}",
        *([f"COPY ca-bundle.pem {CA_IN_IMAGE}"] if pip.cert else []),
        f"RUN UV_PYTHON_DOWNLOADS=never {UV_IN_IMAGE} venv --no-project --python python3 {VENV}",
        f"COPY requirements.lock {LOCK_IN_IMAGE}",
        *(f"ARG {name}={json.dumps(value)}" for name, value in uv_args.items()),
        f"COPY {WARM_SCRIPT} {PACKAGE_ROOT}/{WARM_SCRIPT}",
        f"RUN SSL_CERT_FILE={CA_IN_IMAGE if pip.cert else DEBIAN_CA} UV_NO_CACHE=1 "
        f"{UV_IN_IMAGE} pip sync --python {VENV}/bin/python{hashes} {LOCK_IN_IMAGE} && "
        f"PYTHONDONTWRITEBYTECODE= {VENV}/bin/python {PACKAGE_ROOT}/{WARM_SCRIPT} {' '.join(names)}",
    ]


def _deps_install(pip: PipSettings, installer: Installer | None, python: str, deps: list[str]) -> list[str]:
    """The runtime's packages the user's Python lacks, into ``DEPS`` (never into that Python): with the uv binary
    and the lock when there is one, else with the image's own pip."""
    if installer and installer.uv:
        uv_args = {_UV_ARGS[name]: value for name, value in pip.args.items() if name in _UV_ARGS}
        source, hashes = ("requirements.lock", " --require-hashes") if installer.lock else ("requirements.txt", "")
        return [
            f"COPY uv {UV_FOR_DEPS}",
            *([f"COPY ca-bundle.pem {CA_IN_IMAGE}"] if pip.cert else []),
            f"COPY {source} {PACKAGE_ROOT}/{source}",
            *(f"ARG {name}={json.dumps(value)}" for name, value in uv_args.items()),
            f"RUN SSL_CERT_FILE={CA_IN_IMAGE if pip.cert else DEBIAN_CA} UV_NO_CACHE=1 UV_PYTHON_DOWNLOADS=never "
            f"{UV_FOR_DEPS} pip install --python {python} --target {DEPS}{hashes} -r {PACKAGE_ROOT}/{source}",
        ]
    pip_args = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", **pip.args}
    return [
        f"COPY requirements.txt {REQUIREMENTS_IN_IMAGE}",
        *(f"ARG {name}={json.dumps(value)}" for name, value in pip_args.items()),
        f"RUN {python} -m pip install --no-cache-dir --target {DEPS} -r {REQUIREMENTS_IN_IMAGE}",
    ]


def _pip_install(pip: PipSettings, installer: Installer | None) -> list[str]:
    pip_args = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", **pip.args}
    lock = installer.lock if installer else None
    source, target = ("requirements.lock", LOCK_IN_IMAGE) if lock else ("requirements.txt", REQUIREMENTS_IN_IMAGE)
    hashes = " --require-hashes" if lock and "--hash=" in lock else ""
    return [
        f"RUN python3 -m venv {VENV}",
        f"COPY {source} {target}",
        *(f"ARG {name}={json.dumps(value)}" for name, value in pip_args.items()),
        f"RUN {VENV}/bin/pip install --no-cache-dir{hashes} -r {target}",
    ]


def prepare_context(spec: ImageSpec, dest: Path, pip: PipSettings, installer: Installer | None = None,
                    user_python: UserPython | None = None) -> str:
    """Lay out a fresh build context in ``dest`` (which must not exist); return the Dockerfile text."""
    source = Path(spec.context_dir)
    script = source / spec.execution_script
    if not script.is_file():
        raise ImageBuildError(f"The execution script {spec.execution_script!r} is not in {source}.")
    dest.mkdir(parents=True)
    _copy_python_sources(package_source_dir(), dest / "aci_widgets")
    models = source / "azureml-models"
    if models.is_dir():
        shutil.copytree(models, dest / "azureml-models")
    else:
        (dest / "azureml-models").mkdir()
    # The script goes last, alone, so that a change to it rebuilds nothing else; other app files go before it.
    others = sorted(p.relative_to(source).as_posix() for p in source.rglob("*")
                    if p.is_file() and p.relative_to(source).parts[0] != "azureml-models"
                    and p != script and "__pycache__" not in p.parts)
    placed = [*(("app", rel) for rel in others), ("script", Path(spec.execution_script).as_posix())]
    for folder, rel in placed:
        target = dest / folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, target)
    (dest / "requirements.txt").write_text(
        "".join(f"{req}\n" for req in user_python.missing_requirements) if user_python is not None
        else requirements_text(spec.requirements))
    if installer and installer.lock:
        (dest / "requirements.lock").write_text(installer.lock)
    if installer and installer.uv:
        _link_or_copy(installer.uv, dest / "uv")  # 40 MB: a link costs nothing (same content: the layer is cached)
        (dest / WARM_SCRIPT).write_text(WARM_IMPORTS)
        if pip.cert:
            shutil.copyfile(pip.cert, dest / "ca-bundle.pem")
    dockerfile = render_dockerfile(spec, pip, bool(others), installer, user_python)
    (dest / "Dockerfile").write_text(dockerfile)
    return dockerfile


def _link_or_copy(source: Path, dest: Path) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def _copy_python_sources(package: Path, dest: Path) -> None:
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if "__pycache__" in rel.parts:
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
