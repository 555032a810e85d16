"""Which of the host's pip settings a ``docker build`` can use.

A build step runs in its own network namespace and file system: a host's ``file://`` index, a local
``find-links`` folder or a constraints file do not exist there, but an http(s) mirror the host was told to use
does. We pass exactly those (index URLs, trusted hosts, timeout) as build ``ARG``s, which reach ``pip`` as
``PIP_*`` variables during the build only and are not set in the running service.
"""

from __future__ import annotations

import configparser
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

# pip option -> the environment variable pip reads it from.
_PASSED = {
    "index-url": "PIP_INDEX_URL",
    "extra-index-url": "PIP_EXTRA_INDEX_URL",
    "trusted-host": "PIP_TRUSTED_HOST",
    "default-timeout": "PIP_DEFAULT_TIMEOUT",
}
_URL_OPTIONS = {"index-url", "extra-index-url"}


@dataclass
class PipSettings:
    """``args``: build args to pass (env name -> value). ``skipped``: host settings left out, and why."""

    args: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def config_files() -> list[Path]:
    """pip's configuration files in the order pip reads them (later ones win)."""
    dirs = os.environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    files = [Path(d) / "pip" / "pip.conf" for d in reversed(dirs) if d]
    files.append(Path("/etc/pip.conf"))
    home = Path.home()
    xdg_home = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    files += [home / ".pip" / "pip.conf", xdg_home / "pip" / "pip.conf", Path(sys.prefix) / "pip.conf"]
    if os.environ.get("PIP_CONFIG_FILE") and os.environ["PIP_CONFIG_FILE"] != os.devnull:
        files.append(Path(os.environ["PIP_CONFIG_FILE"]))
    return files


def host_pip_options(environ: dict[str, str] | None = None,
                     files: list[Path] | None = None) -> dict[str, str]:
    """The host's values for the options we may pass: config files ([global], then [install]), then PIP_*."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for path in config_files() if files is None else files:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path)
        except (OSError, configparser.Error):
            continue
        for section in ("global", "install"):
            if parser.has_section(section):
                for option in _PASSED:
                    if parser.has_option(section, option):
                        values[option] = " ".join(parser.get(section, option).split())
    for option, var in _PASSED.items():
        if env.get(var):
            values[option] = " ".join(env[var].split())
    return values


def build_pip_settings(environ: dict[str, str] | None = None, files: list[Path] | None = None) -> PipSettings:
    """Keep the host's network index settings a build can reach; drop local paths, URLs with credentials."""
    settings = PipSettings()
    for option, value in host_pip_options(environ, files).items():
        if option in _URL_OPTIONS:
            kept = []
            for url in value.split():
                parts = urlsplit(url)
                if parts.scheme not in ("http", "https"):
                    settings.skipped.append(f"{option} {url} (not reachable from inside a build)")
                elif parts.username or parts.password:
                    settings.skipped.append(f"{option} {parts.hostname} (has credentials; they would be kept "
                                            "in the image history)")
                else:
                    kept.append(url)
            if kept:
                settings.args[_PASSED[option]] = " ".join(kept)
        else:
            settings.args[_PASSED[option]] = value
    return settings
