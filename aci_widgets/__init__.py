"""aci_widgets: deploy a trained model from a notebook to a running web service, and watch it happen.

``from aci_widgets.core import Workspace`` and friends are the Python API (the azureml SDK's names);
``%load_ext aci_widgets`` loads the notebook magics and live panels.
"""

__version__ = "0.1.0"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt Deployments sidebar (built into ``aci_widgets/labextension`` by the wheel's build hook)."""
    return [{"src": "labextension", "dest": "aci_widgets"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """The sidebar's REST handlers (``aci_widgets.server``), enabled by the installed jupyter-config file."""
    return [{"module": "aci_widgets.server"}]


def load_ipython_extension(ipython):  # noqa: ANN001 - IPython's own signature
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython):  # noqa: ANN001
    from .magics import unload_ipython_extension as unload

    unload(ipython)
