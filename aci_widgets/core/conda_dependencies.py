"""``from aci_widgets.core.conda_dependencies import CondaDependencies``, as in azureml."""

from .conda import CondaDependencies

__all__ = ["CondaDependencies"]
