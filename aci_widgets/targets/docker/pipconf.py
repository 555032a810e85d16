"""Which of the host's pip settings a ``docker build`` can use.

A build step runs in its own network namespace and file system: a host's ``file://`` index, a local
``find-links`` folder or a constraints file do not exist there, but an http(s) mirror the host was told to use
does. We pass exactly those (index URLs, trusted hosts, timeout) as build ``ARG``s, which reach ``pip`` as
``PIP_*`` variables during the build only and are not set in the running service.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ...core.pip_config import config_files, pip_options

__all__ = ["PipSettings", "build_pip_settings", "config_files", "host_pip_options"]

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
    cert: Path | None = None  # the CA bundle the host's pip (or TLS) trusts, copied into the build context


def host_pip_options(environ: dict[str, str] | None = None,
                     files: list[Path] | None = None) -> dict[str, str]:
    """The host's values for the options we may pass (pip's own files and variables, core.pip_config)."""
    return pip_options(environ, files, _PASSED)


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
    env = os.environ if environ is None else environ
    cert = pip_options(environ, files, {"cert": "PIP_CERT"}).get("cert") or env.get("SSL_CERT_FILE")
    if cert and Path(cert).is_file():
        settings.cert = Path(cert)
    return settings
