"""Which workspace the magics use: the one configured, else ``.azureml/config.json``, else "aci-widgets"."""

from __future__ import annotations

from pathlib import Path

from ..core import UserErrorException, Workspace

DEFAULT_NAME = "aci-widgets"
# Where Workspace.from_config() looks (here and in every parent folder), as in the azureml SDK.
CONFIG_PLACES = (Path(".azureml") / "config.json", Path("aml_config") / "config.json", Path("config.json"))


def config_exists(start: Path | None = None) -> bool:
    """True when a workspace configuration file is there for ``Workspace.from_config()`` to read."""
    folder = (start or Path.cwd()).resolve()
    return any((parent / place).is_file() for parent in (folder, *folder.parents) for place in CONFIG_PLACES)


def open_workspace(name: str | None, path: str | None = None) -> Workspace:
    """``name``/``path`` when configured (created if needed); else the config file's; else the default one.

    A configuration file that exists but is wrong is reported, not silently replaced by the default.
    """
    if name is None and path is None:
        if config_exists():
            return Workspace.from_config()
        name = DEFAULT_NAME
    if name is None:
        raise UserErrorException("DeployMagics.workspace_path is set but DeployMagics.workspace is not: "
                                 "%config DeployMagics.workspace = 'name'.")
    return Workspace.create(name, exist_ok=True, path=path)
