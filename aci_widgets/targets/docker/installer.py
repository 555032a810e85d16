"""Which installer an image build uses, and its lock: uv (the host's binary, copied into the build) when it runs
on the engine's platform, resolved on the host with the settings the build itself will use; else pip, said so.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import TYPE_CHECKING

from ...core.uvtool import UvSettings, find_uv, host_version, resolve, uv_settings
from .client import docker_client
from .dockerfile import DEFAULT_BASE, Installer, requirements_text
from .pipconf import PipSettings

if TYPE_CHECKING:
    from ...core.operation import Reporter
    from ...core.target import ImageSpec
    from .user_python import UserPython

_ARCH = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}
_FLAGS = {"PIP_INDEX_URL": "--index-url", "PIP_EXTRA_INDEX_URL": "--extra-index-url",
          "PIP_TRUSTED_HOST": "--allow-insecure-host"}


def choose_installer(spec: ImageSpec, pip: PipSettings, report: Reporter) -> Installer:
    """uv and the image's lock (resolved now on a first build), or pip with a notice saying why not uv."""
    uv, why_not = find_uv()
    if uv is not None and not _runs_on_engine():
        uv, why_not = None, "the engine's platform differs from this machine's, whose uv binary would be copied in"
    if uv is None:
        report.notice(f"The image's environment is installed with pip, not uv: {why_not}.", "warning")
        return Installer(None, spec.lock)
    lock = spec.lock
    if lock is None:
        lines = requirements_text(spec.requirements).splitlines()
        lock = resolve(uv, lines, image_python(spec), build_settings(pip), report)
    else:
        report.notice("Installing the image's locked environment (Image.environment_lock).")
    return Installer(Path(uv.path), lock)


def choose_deps_installer(spec: ImageSpec, user_python: UserPython, pip: PipSettings,
                          report: Reporter) -> Installer:
    """User-managed dependencies: how the runtime's packages the base image's Python lacks get into ``DEPS`` (uv
    and a lock for that Python's version, else the image's own pip); nothing at all when it lacks none."""
    missing = user_python.missing_requirements
    if not missing:
        return Installer()
    uv, why_not = find_uv()
    if uv is not None and not _runs_on_engine():
        uv, why_not = None, "the engine's platform differs from this machine's, whose uv binary would be copied in"
    if uv is None:
        report.notice(f"The scoring runtime's packages are installed with the image's pip, not uv: {why_not}.",
                      "warning")
        return Installer()
    major_minor = ".".join(user_python.version.split(".")[:2])
    lock = spec.lock or resolve(uv, missing, major_minor, build_settings(pip), report)
    return Installer(Path(uv.path), lock)


def image_python(spec: ImageSpec) -> str:
    """The X.Y the image's Python has: the default base's 3.11, else what the conda file asks for."""
    if not spec.base_image or spec.base_image == DEFAULT_BASE:
        return "3.11"
    parts = (spec.python_version or "").split(".")
    return f"{parts[0]}.{parts[1]}" if len(parts) >= 2 and parts[1].isdigit() else host_version()


def build_settings(pip: PipSettings) -> UvSettings:
    """Resolve with what the build will reach (the network indexes it is given), so that the lock installs there;
    the host's constraints cap versions, as with pip on the host."""
    settings = UvSettings(constraints=uv_settings().constraints)
    for name, flag in _FLAGS.items():
        for value in pip.args.get(name, "").split():
            settings.args += [flag, value]
    if "PIP_EXTRA_INDEX_URL" in pip.args:
        settings.args += ["--index-strategy", "unsafe-best-match"]
    if pip.cert:
        settings.env["SSL_CERT_FILE"] = str(pip.cert)
    if pip.args.get("PIP_DEFAULT_TIMEOUT"):
        settings.env["UV_HTTP_TIMEOUT"] = str(int(float(pip.args["PIP_DEFAULT_TIMEOUT"])))
    return settings


def _runs_on_engine() -> bool:
    """The host's uv binary runs in the engine's containers: both Linux, same architecture."""
    if platform.system() != "Linux":
        return False
    try:
        info = docker_client().info()
    except Exception:  # noqa: BLE001 - the build itself will report an engine that does not answer
        return False
    return info.get("OSType") == "linux" and _ARCH.get(info.get("Architecture", "")) == _ARCH.get(platform.machine())
