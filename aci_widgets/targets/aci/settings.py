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

        def pick(env: str, value: str | None, what: str, example: str,
                 how: str = "Workspace.create(name, subscription_id=..., resource_group=..., location=...) or a "
                            "config.json") -> str:
            found = os.environ.get(env, "").strip() or (value or "").strip()
            if not found:
                raise UserErrorException(
                    f"The aci target needs {what}: set ${env} (e.g. {example}) or create the workspace with it "
                    f"({how}).")
            return found

        return cls(
            subscription_id=pick("AZURE_SUBSCRIPTION_ID", getattr(ws, "subscription_id", None),
                                 "an Azure subscription", "`az account show --query id -o tsv`"),
            resource_group=pick("AZURE_RESOURCE_GROUP", getattr(ws, "resource_group", None), "a resource group",
                                "my-ml-rg"),
            location=os.environ.get("AZURE_LOCATION", "").strip() or getattr(ws, "location", None)
            or DEFAULT_LOCATION,
            registry=pick("ACI_WIDGETS_REGISTRY", saved.get("registry"), "an image registry",
                          "myacr.azurecr.io", "Workspace.create(name, ..., registry='myacr.azurecr.io')").rstrip("/"),
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


def _mask(secret: str) -> str:
    return "******** (hidden)" if secret else ""


def describe(ws: Workspace) -> list[tuple[str, str, str]]:
    """(setting, value, where it comes from) for ``aci-widgets config``; secrets are masked, never printed."""
    saved = getattr(ws, "_settings", {}) or {}

    def pick(name: str, env: str, value: str | None, default: str = "") -> tuple[str, str, str]:
        if os.environ.get(env, "").strip():
            return name, os.environ[env].strip(), f"${env}"
        if value:
            return name, str(value), "workspace"
        return name, default or "(not set)", "default" if default else f"set ${env} or the workspace"

    rows = [pick("subscription_id", "AZURE_SUBSCRIPTION_ID", getattr(ws, "subscription_id", None)),
            pick("resource_group", "AZURE_RESOURCE_GROUP", getattr(ws, "resource_group", None)),
            pick("location", "AZURE_LOCATION", getattr(ws, "location", None), DEFAULT_LOCATION),
            pick("registry", "ACI_WIDGETS_REGISTRY", saved.get("registry"))]
    registry = rows[-1][1] if rows[-1][2] != "set $ACI_WIDGETS_REGISTRY or the workspace" else ""
    user = os.environ.get("ACI_WIDGETS_REGISTRY_USERNAME", "").strip()
    password = os.environ.get("ACI_WIDGETS_REGISTRY_PASSWORD", "")
    if user and password:
        rows += [("registry username", user, "$ACI_WIDGETS_REGISTRY_USERNAME"),
                 ("registry password", _mask(password), "$ACI_WIDGETS_REGISTRY_PASSWORD")]
    else:
        stored = registry_credentials(registry) if registry else None
        how = "Docker credential store (docker login)"
        rows += [("registry username", stored[0] if stored else "(not set)",
                  how if stored else "set $ACI_WIDGETS_REGISTRY_USERNAME or run docker login"),
                 ("registry password", _mask(stored[1]) if stored else "(not set)",
                  how if stored else "set $ACI_WIDGETS_REGISTRY_PASSWORD or run docker login")]
    rows.append(pick("ARM endpoint", "ACI_WIDGETS_ARM_ENDPOINT", None, DEFAULT_ENDPOINT))
    token = _token()
    rows.append(("ARM token", _mask(token), "$ACI_WIDGETS_ARM_TOKEN") if token else
                ("ARM token", "(none: azure-identity's DefaultAzureCredential, e.g. az login)", "default"))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE", "").strip()
    rows.append(("TLS trust", bundle, "$REQUESTS_CA_BUNDLE") if bundle else
                ("TLS trust", "(the system's certificates)", "default"))
    return rows
