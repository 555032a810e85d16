"""``Webservice.update``: what it can apply (a rebuild and a restart under the same name and port), and a clear
refusal, naming the argument, for what it cannot. azureml's update takes Azure-only settings (TLS, Application
Insights); taking them without doing anything was the bug this module exists to prevent."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from .errors import UserErrorException, WebserviceException

if TYPE_CHECKING:
    from .image import ContainerImageConfig, Image
    from .model import Model
    from .webservice import Webservice

APP_INSIGHTS = ("Application Insights is not available on this machine: every request the service answers and "
                "everything score.py prints are in service.get_logs()")
TLS = ("HTTPS is not available on the local targets: services answer plain HTTP on 127.0.0.1; put a TLS proxy in "
       "front of the scoring URI if you need one")


def refuse_unavailable(service: Webservice, others: dict[str, Any], **azure: Any) -> None:
    """Raise for an unknown argument, or an Azure-only setting asked for (False/None ask for nothing)."""
    if others:
        name = sorted(others)[0]
        raise UserErrorException(f"{type(service).__name__}.update() got an argument it does not know: {name}=. "
                                 "See help(service.update) for what it accepts.")
    for name, value in azure.items():
        if value:
            why = APP_INSIGHTS if name == "enable_app_insights" else TLS
            raise UserErrorException(f"update() cannot apply {name}={value!r}: {why}. Leave {name} out.")


def redeploy(service: Webservice, *, image: Image | None, models: list[Model] | None, inference_config: Any,
             image_config: ContainerImageConfig | None, deployment_config: Any, changes: dict[str, Any]) -> None:
    """Restart ``service`` with what changed (rebuilding its image if models or the script/environment changed);
    nothing to do when nothing changed. Keys, tags, description and port stay unless changed."""
    from .inference_config import InferenceConfig
    from .model import Model
    from .webservice import AciServiceDeploymentConfiguration, _config_from_dict, _deploy

    if deployment_config is not None and not isinstance(deployment_config, AciServiceDeploymentConfiguration):
        raise UserErrorException("deployment_config must come from LocalWebservice.deploy_configuration(...) or "
                                 "AciWebservice.deploy_configuration(...).")
    if inference_config is not None:
        if not isinstance(inference_config, InferenceConfig):
            raise UserErrorException(f"inference_config must be an InferenceConfig, got {inference_config!r}.")
        image_config = inference_config._image_config()
    if models is not None:
        models = [models] if isinstance(models, Model) else list(models)
        bad = [m for m in models if not isinstance(m, Model)]
        if bad:
            raise UserErrorException(f"models must be registered Model objects, got {bad[0]!r}.")
    row = service._row
    config = dict(row["config"])
    if deployment_config is not None:
        config = {k: getattr(deployment_config, k) for k in deployment_config.__dataclass_fields__} | {
            "compute_type": deployment_config.compute_type, "properties": config.get("properties") or {}}
    changed = deployment_config is not None
    for key, value in changes.items():
        if value is not None and config.get(key) != value:
            config[key], changed = value, True
    if image is None and models is None and image_config is None and not changed:
        return
    port = (row.get("handle") or {}).get("port")
    if config.get("port") is None and port:
        config["port"] = int(port)  # the scoring URI stays the same
    current = service.image
    if image is None and image_config is None:
        if current is None:
            raise WebserviceException(f"Service {service.name!r} has no image to rebuild; deploy it again.")
        image = current if models is None else derived_image(current, service.name, models)
    keys = tuple(row["keys"]) if row.get("keys") and config.get("auth_enabled") else None
    replacement = _deploy(service.workspace, service.name, _config_from_dict(config), True, image=image,
                          image_config=image_config, models=models if models is not None else
                          (current.models if current is not None else []),
                          tags=service.tags, description=service.description, auth_keys=keys,
                          deployment_target=service.target)
    service._operation = replacement._operation


def derived_image(image: Image, name: str, models: list[Model]) -> Image:
    """The next version of image ``name``: ``image``'s script, files and environment with other models. Built
    by the deployment that uses it (state NotStarted until then)."""
    from .image import Image

    ws = image.workspace
    row = {"state": "NotStarted", "spec": image._row["spec"], "record": {}, "models": [[m.name, m.version]
                                                                                      for m in models],
           "tags": image.tags, "description": image.description, "owner_pid": os.getpid(),
           "created": time.time(), "updated": time.time()}
    with ws.artifacts.storing():  # the spec's files stay referenced: no collection between read and insert
        version = ws.registry.insert_versioned("images", name, row)
    return Image(ws, name, version=version)


# What each Azure-only deployment setting would have done, for the one line that says it does nothing here.
_AZURE_ONLY = {
    "enable_app_insights": APP_INSIGHTS, "ssl_enabled": TLS, "ssl_cert_pem_file": TLS, "ssl_key_pem_file": TLS,
    "ssl_cname": TLS, "collect_model_data": "model data collection to blob storage is not available on this "
                                            "machine; log inputs and outputs from run() (see service.get_logs())",
}


def azure_only(where: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Keep Azure-only deployment settings for a cloud target; say, once per call, which do nothing here."""
    import warnings

    kept = {k: v for k, v in settings.items() if v not in (None, False, "", [], {})}
    for name, value in kept.items():
        why = _AZURE_ONLY.get(name, "it only applies on Azure, which this machine does not deploy to")
        warnings.warn(f"{where}: {name}={value!r} does nothing on the local targets: {why}. It is kept for a "
                      "cloud target.", UserWarning, stacklevel=3)
    return kept
