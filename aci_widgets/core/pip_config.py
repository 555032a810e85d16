"""What the user has configured for pip: the same files and ``PIP_*`` variables pip itself reads.

uv reads none of pip's configuration, and a Docker build cannot see the host's, so both targets map these values
into their own tools' settings (``targets/docker/pipconf.py`` for builds, ``core/uvtool.py`` for uv). Options
that pip accepts several times (index URLs, find-links, trusted hosts, constraints) come back whitespace-joined.
"""

from __future__ import annotations

import configparser
import os
import sys
from pathlib import Path

# pip option -> the environment variable pip reads it from.
OPTIONS = {
    "index-url": "PIP_INDEX_URL",
    "extra-index-url": "PIP_EXTRA_INDEX_URL",
    "find-links": "PIP_FIND_LINKS",
    "trusted-host": "PIP_TRUSTED_HOST",
    "cert": "PIP_CERT",
    "constraint": "PIP_CONSTRAINT",
    "no-index": "PIP_NO_INDEX",
    "default-timeout": "PIP_DEFAULT_TIMEOUT",
}


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


def pip_options(environ: dict[str, str] | None = None, files: list[Path] | None = None,
                wanted: dict[str, str] | None = None) -> dict[str, str]:
    """The user's values of ``wanted`` options (all of ``OPTIONS`` by default): config files ([global], then
    [install]), then ``PIP_*`` variables, later ones winning, as pip does. ``PIP_CONFIG_FILE=/dev/null`` (pip's
    way to ignore every file) is honoured."""
    env = os.environ if environ is None else environ
    wanted = OPTIONS if wanted is None else wanted
    values: dict[str, str] = {}
    if files is None:
        files = [] if env.get("PIP_CONFIG_FILE") == os.devnull else config_files()
    for path in files:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path)
        except (OSError, configparser.Error):
            continue
        for section in ("global", "install"):
            if parser.has_section(section):
                for option in wanted:
                    if parser.has_option(section, option):
                        values[option] = " ".join(parser.get(section, option).split())
    for option, var in wanted.items():
        if env.get(var):
            values[option] = " ".join(env[var].split())
    return values
