"""``azureml.data``'s names that deployment notebooks import (datasets live in ``aci_widgets.core.dataset``)."""

from ..core.dataset import FileDataset, TabularDataset

__all__ = ["FileDataset", "TabularDataset"]
