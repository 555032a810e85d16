"""``from aci_widgets.core.conda_dependencies import CondaDependencies``, as in azureml.

The conda -> pip mapping lives in :mod:`.conda`; this is azureml's editing API over a conda file: what an
``Environment``'s ``python.conda_dependencies`` is.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from . import conda


class CondaDependencies(conda.CondaDependencies):
    """A conda environment built in code; every conda package is checked against the pip mapping when added."""

    @staticmethod
    def create(pip_packages: list[str] | None = None, conda_packages: list[str] | None = None,
               python_version: str | None = None, pin_sdk_version: bool = True) -> CondaDependencies:
        deps = CondaDependencies()
        deps.set_python_version(python_version or f"{sys.version_info.major}.{sys.version_info.minor}")
        for package in conda_packages or []:
            deps.add_conda_package(package)
        for package in pip_packages or []:
            deps.add_pip_package(package)
        return deps

    @staticmethod
    def sdk_origin_url() -> str:
        return "https://pypi.python.org/simple"

    def set_python_version(self, version: str) -> None:
        deps = [d for d in self._env["dependencies"] if not (isinstance(d, str) and _name(d) == "python")]
        self._env["dependencies"] = [f"python={version}", *deps]

    def get_python_version(self) -> str | None:
        return next((d.split("=", 1)[1].lstrip("=") for d in self._env["dependencies"]
                     if isinstance(d, str) and _name(d) == "python" and "=" in d), None)

    def add_channel(self, channel: str) -> None:
        channels = self._env.setdefault("channels", [])
        if channel not in channels:
            channels.append(channel)

    def remove_channel(self, channel: str) -> None:
        if channel in self._env.get("channels", []):
            self._env["channels"].remove(channel)

    def remove_conda_package(self, conda_package: str) -> None:
        self._env["dependencies"] = [d for d in self._env["dependencies"]
                                     if not (isinstance(d, str) and _name(d) == _name(conda_package))]

    def remove_pip_package(self, pip_package: str) -> None:
        packages = self._pip_list()
        packages[:] = [p for p in packages if _name(p) != _name(pip_package)]

    def set_pip_option(self, pip_option: str) -> None:
        packages = self._pip_list()
        if pip_option not in packages:
            packages.insert(0, pip_option)

    def add_tensorflow_pip_package(self, core_type: str = "cpu", version: str | None = None) -> None:
        self.add_pip_package(f"tensorflow=={version}" if version else "tensorflow")

    def add_tensorflow_conda_package(self, core_type: str = "cpu", version: str | None = None) -> None:
        self.add_conda_package(f"tensorflow={version}" if version else "tensorflow")

    @property
    def channels(self) -> list[str]:
        return list(self._env.get("channels", []))

    def save(self, path: str | os.PathLike[str] | None = None) -> str:
        """Write the file (``path``, default ``./conda_dependencies.yml``); returns its path."""
        target = Path(path or "conda_dependencies.yml")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.serialize_to_string())
        return str(target)

    def _merge_requirements(self, lines: list[str]) -> None:
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#"):
                self.add_pip_package(line)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, conda.CondaDependencies) and other._env == self._env

    __hash__ = None  # type: ignore[assignment]  # mutable


def _name(spec: str) -> str:
    """The package name of a conda or pip spec, lower-case: ``scikit-learn=1.3`` -> ``scikit-learn``."""
    spec = spec.split("::")[-1]
    for sep in ("=", "<", ">", "!", "~", "[", ";", " "):
        spec = spec.split(sep)[0]
    return spec.strip().lower().replace("_", "-")


__all__ = ["CondaDependencies"]
