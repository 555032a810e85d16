"""Where the ACI target deploys: the workspace's Azure settings, each overridable by an environment variable.

Registry credentials are never stored in the workspace: they come from the environment or from the user's Docker
credential store (``docker login``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...core.errors import UserErrorException

if TYPE_CHECKING:
    from ...core.workspace import Workspace

DEFAULT_ENDPOINT = "https://management.azure.com"
DEFAULT_LOCATION = "eastus"


@dataclass(frozen=True)
class AciSettings:
    subscription_id: str
    resource_group: str
    location: str
    registry: str
    endpoint: str
    token: str | None

    @classmethod
    def of(cls, ws: Workspace) -> AciSettings:
        """The settings for ``ws``; a missing one is a clear error naming the variable and the workspace field."""
        saved = getattr(ws, "_settings", {}) or {}

        def pick(env: str, value: str | None, what: str, example: str) -> str:
            found = os.environ.get(env, "").strip() or (value or "").strip()
            if not found:
                raise UserErrorException(
                    f"The aci target needs {what}: set ${env} (e.g. {example}) or create the workspace with it "
                    "(Workspace.create(name, subscription_id=..., resource_group=..., location=...) or a "
                    "config.json).")
            return found

        return cls(
            subscription_id=pick("AZURE_SUBSCRIPTION_ID", getattr(ws, "subscription_id", None),
                                 "an Azure subscription", "`az account show --query id -o tsv`"),
            resource_group=pick("AZURE_RESOURCE_GROUP", getattr(ws, "resource_group", None), "a resource group",
                                "my-ml-rg"),
            location=os.environ.get("AZURE_LOCATION", "").strip() or getattr(ws, "location", None)
            or DEFAULT_LOCATION,
            registry=pick("ACI_WIDGETS_REGISTRY", saved.get("registry"), "an image registry",
                          "myacr.azurecr.io").rstrip("/"),
            endpoint=_endpoint(), token=_token())

    @classmethod
    def for_handle(cls, handle: dict[str, Any]) -> AciSettings:
        """A deployed service's own subscription and resource group: a later change of settings loses none."""
        return cls(handle["subscription_id"], handle["resource_group"], handle.get("location") or "",
                   os.environ.get("ACI_WIDGETS_REGISTRY", "").strip(), _endpoint(), _token())


def _endpoint() -> str:
    return (os.environ.get("ACI_WIDGETS_ARM_ENDPOINT", "").strip() or DEFAULT_ENDPOINT).rstrip("/")


def _token() -> str | None:
    return os.environ.get("ACI_WIDGETS_ARM_TOKEN", "").strip() or None


def registry_credentials(registry: str) -> tuple[str, str] | None:
    """(username, password) for ``registry``: the environment, else the Docker credential store, else None."""
    user = os.environ.get("ACI_WIDGETS_REGISTRY_USERNAME", "").strip()
    password = os.environ.get("ACI_WIDGETS_REGISTRY_PASSWORD", "")
    if user and password:
        return user, password
    from docker import auth

    try:
        found = auth.load_config().resolve_authconfig(registry) or {}
    except Exception:  # noqa: BLE001 - a broken credential helper means "no stored credentials"
        found = {}
    if found.get("username") and found.get("password"):
        return found["username"], found["password"]
    return None
