"""A local stand-in of Azure Resource Manager for container groups, and a private image registry, for tests.

``ArmStub`` serves the Microsoft.ContainerInstance container-group operations (api-version 2023-05-01) over https
on 127.0.0.1 as the REST specification describes them: asynchronous PUT and DELETE (``Azure-AsyncOperation`` with
a short ``Retry-After``), instance views, logs, list with paging, and ARM error bodies. Each group's container runs
on the local Docker engine, pulled from the group's registry with its ``imageRegistryCredentials``, on a loopback
address of its own (127.0.0.X), as ACI gives every group its own IP. ``ImageRegistry`` runs Debian's
``docker-registry`` on 127.0.0.1 with htpasswd auth.
"""

from .registry import ImageRegistry
from .server import ArmStub

__all__ = ["ArmStub", "ImageRegistry"]
