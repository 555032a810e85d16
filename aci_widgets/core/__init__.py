"""The deployment engine: workspace, model registry, images, web services and their progress events.

Imports here are the seed's (``from aci_widgets.core import Workspace``); nothing in this package imports
IPython, ipywidgets, docker or a target. Names are loaded on first use (PEP 562): a service's score.py that does
``from aci_widgets.core.model import Model`` then pays for the model module only, not the whole engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "AciWebservice": "webservice", "LocalWebservice": "webservice", "Webservice": "webservice",
    "CondaDependencies": "conda_dependencies", "ContainerImage": "image", "Image": "image", "Model": "model",
    "Workspace": "workspace", "AciWidgetsError": "errors", "ImageBuildError": "errors",
    "ModelNotFoundException": "errors", "TargetUnavailable": "errors", "UserErrorException": "errors",
    "WebserviceException": "errors", "Environment": "environment", "InferenceConfig": "inference_config",
    "ResourceConfiguration": "resource_configuration",
    "Experiment": "experiment", "Run": "run", "Datastore": "datastore", "Dataset": "dataset",
    "ComputeTarget": "compute",
}

__all__ = [
    "VERSION", "AciWebservice", "AciWidgetsError", "CondaDependencies", "ContainerImage", "Environment", "Image",
    "ImageBuildError", "InferenceConfig", "ResourceConfiguration",
    "LocalWebservice", "Model", "ModelNotFoundException", "TargetUnavailable", "UserErrorException",
    "Webservice", "WebserviceException", "Workspace", "Experiment", "Run", "Datastore", "Dataset", "ComputeTarget",
]


def __getattr__(name: str) -> Any:
    if name == "VERSION":  # azureml.core.VERSION: notebooks print it first thing
        from .. import __version__

        return __version__
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE) | {"VERSION"})


if TYPE_CHECKING:
    from .conda_dependencies import CondaDependencies
    from .environment import Environment
    from .errors import (
        AciWidgetsError,
        ImageBuildError,
        ModelNotFoundException,
        TargetUnavailable,
        UserErrorException,
        WebserviceException,
    )
    from .image import ContainerImage, Image
    from .inference_config import InferenceConfig
    from .model import Model
    from .resource_configuration import ResourceConfiguration
    from .webservice import AciWebservice, LocalWebservice, Webservice
    from .workspace import Workspace

    VERSION: str
