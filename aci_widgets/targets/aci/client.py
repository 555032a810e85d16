"""One ContainerInstanceManagementClient per workspace settings, made on first use.

The credential is a static bearer token when ``ACI_WIDGETS_ARM_TOKEN`` is set (what ``az account
get-access-token`` prints; CI uses it), else azure-identity's DefaultAzureCredential (az login, environment,
managed identity). TLS trust follows ``REQUESTS_CA_BUNDLE``, as requests does.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .settings import AciSettings

POLLING_INTERVAL = 2.0   # seconds between polls when ARM sends no Retry-After (the SDK's default is 30)

_clients: dict[tuple[str, str, str | None], Any] = {}
_lock = threading.Lock()


class StaticToken:
    """A credential handing out a token obtained elsewhere (``az account get-access-token``)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3600)


def aci_client(settings: AciSettings) -> Any:
    key = (settings.endpoint, settings.subscription_id, settings.token)
    with _lock:
        client = _clients.get(key)
        if client is None:
            from azure.mgmt.containerinstance import ContainerInstanceManagementClient

            if settings.token:
                credential: Any = StaticToken(settings.token)
            else:
                from azure.identity import DefaultAzureCredential

                credential = DefaultAzureCredential()
            client = ContainerInstanceManagementClient(
                credential, settings.subscription_id, base_url=settings.endpoint,
                credential_scopes=[f"{_audience(settings.endpoint)}/.default"], polling_interval=POLLING_INTERVAL)
            _clients[key] = client
        return client


def _audience(endpoint: str) -> str:
    """The token audience of an ARM endpoint: management.azure.com for the public cloud and its stand-ins."""
    return "https://management.azure.com" if not endpoint.startswith("https://management.") else endpoint
