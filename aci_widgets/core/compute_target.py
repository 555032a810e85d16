"""``azureml.core.compute_target``: where notebooks import ComputeTargetException from."""

from .compute import ComputeTargetException

__all__ = ["ComputeTargetException"]
