"""The deployment engine: workspace, model registry, images, web services and their progress events.

Imports here are the seed's (``from aci_widgets.core import Workspace``); nothing in this package imports
IPython, ipywidgets, docker or a target. Heavy modules (yaml) are imported on first use.
"""

from .conda import CondaDependencies
from .errors import (
    AciWidgetsError,
    ImageBuildError,
    ModelNotFoundException,
    TargetUnavailable,
    UserErrorException,
    WebserviceException,
)
from .image import ContainerImage, Image
from .model import Model
from .webservice import AciWebservice, LocalWebservice, Webservice
from .workspace import Workspace

__all__ = [
    "AciWebservice", "AciWidgetsError", "CondaDependencies", "ContainerImage", "Image", "ImageBuildError",
    "LocalWebservice", "Model", "ModelNotFoundException", "TargetUnavailable", "UserErrorException",
    "Webservice", "WebserviceException", "Workspace",
]
