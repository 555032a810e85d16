"""``Model.deploy``: models, an InferenceConfig and a deployment configuration, through the same core path as the
seed's ``Webservice.deploy_from_model`` (an image named after the service, then the service), on every target.

``show_output=True`` does what azureml-core's does: for a service deployed locally (LocalWebservice), the deployment
is followed and shown in the call; otherwise the call prints "Request submitted, please run
wait_for_deployment(show_output=True) to get deployment status." and returns while it deploys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import UserErrorException

if TYPE_CHECKING:
    from .inference_config import InferenceConfig
    from .model import Model
    from .webservice import Webservice
    from .workspace import Workspace


def deploy(workspace: Workspace, name: str, models: list[Model], inference_config: InferenceConfig | None = None,
           deployment_config: Any = None, deployment_target: Any = None, overwrite: bool = False,
           show_output: bool = False) -> Webservice:
    from . import no_code
    from .inference_config import InferenceConfig
    from .model import Model
    from .webservice import _deploy

    if isinstance(models, Model):
        models = [models]
    models = list(models or [])
    bad = [m for m in models if not isinstance(m, Model)]
    if bad:
        raise UserErrorException(f"models must be registered Model objects, got {bad[0]!r}; use Model.register() "
                                 "or Model(ws, name).")
    if inference_config is None:
        inference_config = no_code.inference_config(workspace, name, models)
    elif not isinstance(inference_config, InferenceConfig):
        raise UserErrorException("inference_config must be an InferenceConfig(entry_script=..., environment=...), "
                                 f"got {inference_config!r}.")
    service = _deploy(workspace, name, deployment_config, overwrite, image_config=inference_config._image_config(),
                      models=models, deployment_target=deployment_target)
    if show_output:
        if service.compute_type == "Local":  # azureml deploys locally in the call, showing its progress
            service.wait_for_deployment(show_output=True)
        else:  # azureml submits and returns: the notebook then calls wait_for_deployment(show_output=True)
            print("Request submitted, please run wait_for_deployment(show_output=True) to get deployment status.")
    return service
