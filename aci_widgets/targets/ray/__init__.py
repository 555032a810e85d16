"""The ``ray`` target: AKS-style deployments (replicas, autoscaling, rolling updates) on Ray Serve."""

from .target import RayTarget

__all__ = ["RayTarget"]
