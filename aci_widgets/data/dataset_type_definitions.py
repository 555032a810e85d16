"""``azureml.data.dataset_type_definitions``: the names notebooks import from it."""

from .dataset_factory import PromoteHeadersBehavior

__all__ = ["PromoteHeadersBehavior"]
