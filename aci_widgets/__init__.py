"""aci_widgets: deploy a trained model from a notebook to a running web service, and watch it happen.

``from aci_widgets.core import Workspace`` and friends are the Python API (the azureml SDK's names);
``%load_ext aci_widgets`` loads the notebook magics and live panels.
"""

__version__ = "0.1.0"


def load_ipython_extension(ipython):  # noqa: ANN001 - IPython's own signature
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython):  # noqa: ANN001
    from .magics import unload_ipython_extension as unload

    unload(ipython)
