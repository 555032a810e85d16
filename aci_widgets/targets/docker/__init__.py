"""The Docker target: build a service image with the local engine and run one container per service.

``find_services`` lets the core reattach to running services after a kernel restart; ``cleanup`` removes
everything carrying a label (tests use it with their own workspace name).
"""

from .containers import find_services
from .images import cleanup
from .target import DockerTarget

__all__ = ["DockerTarget", "cleanup", "find_services"]
