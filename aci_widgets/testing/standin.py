"""``AciStandIn``: the registry and the Resource Manager stand-in started together, and the environment a user of
the aci target would set for them (endpoint, token, CA bundle, registry and its credentials, subscription)."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from types import TracebackType

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000aa"
RESOURCE_GROUP = "ml-rg"
LOCATION = "westeurope"


class AciStandIn:
    """``start()`` runs Debian's docker-registry (htpasswd auth) and the ARM stand-in on 127.0.0.1; ``env`` is what
    to set; ``apply()`` sets it in ``os.environ`` until ``stop()``. Usable as a context manager.

    ``folder`` holds the certificate, the registry's data and logs (a temp folder removed at ``stop()`` if None).
    """

    def __init__(self, folder: Path | None = None, *, subscription: str = SUBSCRIPTION,
                 resource_group: str = RESOURCE_GROUP, location: str = LOCATION) -> None:
        self._own_folder = folder is None
        self.folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="aci-standin-"))
        self.subscription, self.resource_group, self.location = subscription, resource_group, location
        self.token = "token-" + uuid.uuid4().hex
        self.stub = None
        self.registry = None
        self.bundle: Path | None = None
        self._saved: dict[str, str | None] | None = None

    @staticmethod
    def missing() -> str | None:
        """Why the stand-in cannot run here (None when it can)."""
        from ..targets.docker.client import unavailable_reason

        reason = unavailable_reason()
        if reason is not None:
            return reason
        if shutil.which("docker-registry") is None or shutil.which("htpasswd") is None:
            return "docker-registry and htpasswd are needed (apt-get install docker-registry apache2-utils)"
        return None

    def start(self) -> AciStandIn:
        from .armstub import ArmStub, ImageRegistry
        from .armstub.certs import bundle_with

        reason = self.missing()
        if reason is not None:
            raise RuntimeError(f"The ACI stand-in cannot start: {reason}.")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.registry = ImageRegistry(self.folder).start()
        try:
            self.stub = ArmStub(self.folder, {self.subscription: {self.resource_group}}, token=self.token).start()
        except BaseException:
            self.registry.stop()
            raise
        self.bundle = bundle_with(self.stub.cert, self.folder, os.environ.get("REQUESTS_CA_BUNDLE"))
        return self

    @property
    def env(self) -> dict[str, str]:
        assert self.stub is not None and self.registry is not None and self.bundle is not None, "start() first"
        return {"ACI_WIDGETS_ARM_ENDPOINT": self.stub.endpoint, "ACI_WIDGETS_ARM_TOKEN": self.token,
                "REQUESTS_CA_BUNDLE": str(self.bundle), "ACI_WIDGETS_REGISTRY": self.registry.server,
                "ACI_WIDGETS_REGISTRY_USERNAME": self.registry.username,
                "ACI_WIDGETS_REGISTRY_PASSWORD": self.registry.password,
                "AZURE_SUBSCRIPTION_ID": self.subscription, "AZURE_RESOURCE_GROUP": self.resource_group,
                "AZURE_LOCATION": self.location}

    def apply(self) -> AciStandIn:
        """Set ``env`` in this process's environment (restored by ``stop()``)."""
        if self._saved is None:
            self._saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        return self

    def stop(self) -> None:
        """Stop the stand-in (removing every container it ran) and the registry; restore the environment."""
        try:
            if self.stub is not None:
                self.stub.stop()
        finally:
            if self.registry is not None:
                self.registry.stop()
            if self._saved is not None:
                for key, value in self._saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
                self._saved = None
            if self._own_folder:
                shutil.rmtree(self.folder, ignore_errors=True)
            self.stub = self.registry = None

    def __enter__(self) -> AciStandIn:
        return self.start().apply()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
