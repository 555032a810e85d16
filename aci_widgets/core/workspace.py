"""The workspace: where models, images and services are kept, and which target runs them.

Same names as ``azureml.core.Workspace``. A workspace is a folder (by default ``~/.aci_widgets/workspaces/<name>``,
or under ``$ACI_WIDGETS_HOME``) holding the registry database and the artifact store. Azure arguments are kept so
that the seed's code runs unchanged and an Azure target can use them.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .artifacts import ArtifactStore
from .errors import UserErrorException
from .names import check_workspace_name
from .registry import Registry

HOME_ENV = "ACI_WIDGETS_HOME"
LOCATION_ENV = "AZURE_LOCATION"
# ws.location when neither the workspace nor $AZURE_LOCATION names a region: the aci target's default region, so
# that the region a notebook prints is the one a deployment would use.
DEFAULT_LOCATION = "eastus"
TARGETS = ("auto", "process", "docker", "aci")
_CONFIG_PLACES = (Path(".azureml") / "config.json", Path("aml_config") / "config.json", Path("config.json"))


def home() -> Path:
    """The root for workspaces and cached environments: ``$ACI_WIDGETS_HOME`` or ``~/.aci_widgets``."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".aci_widgets").expanduser()


class Workspace:
    """A local workspace. ``Workspace(name)`` opens an existing one; ``Workspace.create`` makes one."""

    def __init__(self, workspace_name: str | None = None, subscription_id: str | None = None,
                 resource_group: str | None = None, *, path: str | os.PathLike[str] | None = None,
                 name: str | None = None) -> None:
        name = workspace_name or name
        if name is None:
            raise UserErrorException("Workspace() needs a name; or use Workspace.from_config().")
        check_workspace_name(name)
        self.name = name
        self.root = Path(path).expanduser().resolve() if path else home() / "workspaces" / name
        settings_file = self.root / "workspace.json"
        if not settings_file.is_file():
            raise UserErrorException(
                f"Workspace {name!r} does not exist at {self.root}. Create it with "
                f"Workspace.create({name!r}, exist_ok=True).")
        _private_dir(self.root)  # it holds the services' keys: private, also when an older version made it
        self._settings: dict[str, Any] = json.loads(settings_file.read_text())
        self.subscription_id = subscription_id or self._settings.get("subscription_id")
        self.resource_group = resource_group or self._settings.get("resource_group")
        self._location: str | None = self._settings.get("location")
        self.registry = Registry(self.root / "registry.db")
        self.artifacts = ArtifactStore(self.root / "artifacts")
        if self.registry.select("services", state="Transitioning"):  # a deployment whose process was killed?
            from .webservice import reap_interrupted

            reap_interrupted(self)

    # --- azureml's constructors --------------------------------------------------------------------------

    @classmethod
    def create(cls, name: str, auth: Any = None, subscription_id: str | None = None,
               resource_group: str | None = None, location: str | None = None, create_resource_group: bool = True,
               exist_ok: bool = False, *, target: str = "auto",
               path: str | os.PathLike[str] | None = None, registry: str | None = None,
               **_azure: Any) -> Workspace:
        """Create the workspace (or open it with ``exist_ok=True``). ``target`` is auto, process, docker or aci;
        ``registry`` is the aci target's image registry (e.g. ``myacr.azurecr.io``), kept in the settings as the
        Azure fields are (``ws.registry`` is the model registry); its credentials are never stored."""
        check_workspace_name(name)
        _check_target(target)
        root = Path(path).expanduser().resolve() if path else home() / "workspaces" / name
        settings_file = root / "workspace.json"
        if settings_file.is_file():
            if not exist_ok:
                raise UserErrorException(
                    f"Workspace {name!r} already exists at {root}; pass exist_ok=True to use it.")
        else:
            root.mkdir(parents=True, exist_ok=True, mode=0o700)
            settings = {"name": name, "subscription_id": subscription_id, "resource_group": resource_group,
                        "location": location, "target": target, "created": time.time()}
            if registry:
                if not isinstance(registry, str) or "://" in registry or not registry.strip("/ "):
                    raise UserErrorException(f"registry must be a registry's host name such as myacr.azurecr.io "
                                             f"(no https://), got {registry!r}.")
                settings["registry"] = registry.strip().rstrip("/")
            tmp = settings_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(settings, indent=2))
            os.replace(tmp, settings_file)
        return cls(name, path=root)

    @classmethod
    def get(cls, name: str, auth: Any = None, subscription_id: str | None = None,
            resource_group: str | None = None, **_: Any) -> Workspace:
        return cls(name, subscription_id, resource_group)

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None, auth: Any = None, _logger: Any = None,
                    _file_name: str | None = None) -> Workspace:
        """Open the workspace named in a v1 ``config.json`` (``.azureml/``, ``aml_config/`` or the folder itself,
        here and in parent folders); create it if this machine has none of that name, saying so in one line. The
        Azure fields (subscription, resource group, location) are kept in its settings for an Azure target."""
        config_file = _find_config(Path(path) if path else Path.cwd(), _file_name)
        try:
            config = json.loads(config_file.read_text())
        except ValueError as exc:
            raise UserErrorException(f"{config_file} is not valid JSON ({exc}).") from None
        name = config.get("workspace_name") if isinstance(config, dict) else None
        if not name:
            raise UserErrorException(f"{config_file} has no 'workspace_name'; write it with ws.write_config().")
        azure = {k: config.get(k) for k in ("subscription_id", "resource_group", "location") if config.get(k)}
        root = Path(config["aci_widgets_path"]) if config.get("aci_widgets_path") else home() / "workspaces" / name
        if not (root / "workspace.json").is_file():
            ws = cls.create(name, exist_ok=True, path=root, **azure)
            print(f"Workspace {name!r} (from {config_file}) did not exist on this machine: created it at {root}.")
            return ws
        ws = cls(name, path=root)
        missing = {k: v for k, v in azure.items() if not ws._settings.get(k)}
        if missing:  # keep what Azure would need later, without overwriting what the workspace already has
            ws._save_settings({**ws._settings, **missing})
            ws.subscription_id = ws._settings.get("subscription_id")
            ws.resource_group = ws._settings.get("resource_group")
            ws._location = ws._settings.get("location")
        return ws

    @staticmethod
    def list(subscription_id: str | None = None, auth: Any = None,
             resource_group: str | None = None) -> dict[str, list[Workspace]]:
        """As in azureml: workspace name -> [Workspace], for every workspace under the home folder
        (``$ACI_WIDGETS_HOME/workspaces``); the Azure arguments filter when given."""
        found: dict[str, list[Workspace]] = {}
        folder = home() / "workspaces"
        for settings in sorted(folder.glob("*/workspace.json")) if folder.is_dir() else []:
            try:
                ws = Workspace(settings.parent.name)
            except (UserErrorException, ValueError, OSError):  # a half-made or foreign folder: not a workspace
                continue
            if subscription_id and ws.subscription_id != subscription_id:
                continue
            if resource_group and ws.resource_group != resource_group:
                continue
            found.setdefault(ws.name, []).append(ws)
        return found

    def _save_settings(self, settings: dict[str, Any]) -> None:
        self._settings = settings
        settings_file = self.root / "workspace.json"
        tmp = settings_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(settings, indent=2))
        os.replace(tmp, settings_file)

    # --- azureml's dictionaries of what the workspace holds -------------------------------------------------

    @property
    def models(self) -> dict[str, Any]:
        """Model name -> its latest version, as ``ws.models`` in azureml."""
        from .model import Model

        return {m.name: m for m in Model.list(self, latest=True)}

    @property
    def webservices(self) -> dict[str, Any]:
        """Service name -> Webservice."""
        from .webservice import Webservice

        return {s.name: s for s in Webservice.list(self)}

    @property
    def environments(self) -> dict[str, Any]:
        """Environment name -> its latest registered version, curated ``AzureML-...`` ones included."""
        from .environment import Environment

        return Environment.list(self)

    @property
    def datastores(self) -> dict[str, Any]:
        """Datastore name -> Datastore (folders of the workspace; ``workspaceblobstore`` is the default)."""
        from .datastore import Datastore

        return {n: Datastore(self, n) for n in Datastore.list_names(self)}

    @property
    def datasets(self) -> dict[str, Any]:
        """Dataset name -> its latest registered version."""
        from .dataset import Dataset

        return Dataset.get_all(self)

    def get_default_datastore(self) -> Any:
        from .datastore import Datastore

        return Datastore.get_default(self)

    def get_mlflow_tracking_uri(self) -> str:
        """A SQLite MLflow tracking store inside the workspace, for ``mlflow.set_tracking_uri(...)``; needs
        ``pip install 'aci_widgets[mlflow]'``."""
        from .tracking import tracking_uri

        return tracking_uri(self)

    def write_config(self, path: str | os.PathLike[str] | None = None, file_name: str | None = None) -> Path:
        """Write ``<path>/.azureml/config.json`` so that ``Workspace.from_config()`` finds this workspace."""
        folder = Path(path or ".") / ".azureml"
        folder.mkdir(parents=True, exist_ok=True)
        config_file = folder / (file_name or "config.json")
        config: dict[str, Any] = {"workspace_name": self.name, "subscription_id": self.subscription_id,
                                  "resource_group": self.resource_group}
        if self.root != home() / "workspaces" / self.name:
            config["aci_widgets_path"] = str(self.root)
        config_file.write_text(json.dumps(config, indent=2) + "\n")
        return config_file

    # --- settings ------------------------------------------------------------------------------------------

    @property
    def target(self) -> str:
        """The configured target (auto, process, docker); ``$ACI_WIDGETS_TARGET`` overrides it when deploying."""
        return self._settings.get("target") or "auto"

    @target.setter
    def target(self, value: str) -> None:
        _check_target(value)
        self._settings["target"] = value
        settings_file = self.root / "workspace.json"
        tmp = settings_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._settings, indent=2))
        os.replace(tmp, settings_file)

    @property
    def location(self) -> str:
        """The Azure region, always a string as in azureml (whose notebooks print ``'Azure region: ' + ws.location``):
        the workspace's own (``Workspace.create(location=...)``, config.json), else ``$AZURE_LOCATION``, else
        ``eastus``, the region the aci target deploys to when none is set."""
        return self._location or os.environ.get(LOCATION_ENV, "").strip() or DEFAULT_LOCATION

    @location.setter
    def location(self, value: str | None) -> None:
        self._location = value

    def get_details(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.root), "target": self.target, "location": self.location,
                "subscription_id": self.subscription_id, "resource_group": self.resource_group}

    def __repr__(self) -> str:
        return f"Workspace(name={self.name!r}, path={str(self.root)!r}, target={self.target!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)


def _private_dir(path: Path) -> None:
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


def _check_target(target: str) -> None:
    if target not in TARGETS:
        raise UserErrorException(f"Unknown target {target!r}; choose one of: {', '.join(TARGETS)}.")


def _find_config(start: Path, file_name: str | None) -> Path:
    places = [Path(".azureml") / file_name, Path(file_name)] if file_name else list(_CONFIG_PLACES)
    if start.is_file():
        return start
    for folder in (start.resolve(), *start.resolve().parents):
        for place in places:
            if (folder / place).is_file():
                return folder / place
    raise UserErrorException(
        f"No workspace configuration found in {start.resolve()} or its parents (looked for "
        f"{', '.join(str(p) for p in places)}). Create one with Workspace.create(name, exist_ok=True) "
        "and ws.write_config().")
