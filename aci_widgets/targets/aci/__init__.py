"""The ACI target: images pushed to a container registry, one Azure Container Instances group per service.

Everything Azure goes through the Azure SDK (azure-mgmt-containerinstance, azure-identity); the image is built by
the Docker target's builder and pushed with docker-py.
"""

from .target import AciTarget

__all__ = ["AciTarget"]
