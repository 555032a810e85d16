"""What ``azureml.core.webservice.LocalWebservice`` adds to a web service: lowercase states, the state gate,
``port``, ``reload``, ``update`` that rebuilds and restarts, and ``deploy_to_cloud``.

azureml's local states are ``deploying``, ``running``, ``failed``, ``unknown`` and ``deleted``; a call a state does
not allow raises ``Cannot call X() when service is Y.`` (azureml's words), followed here by what to do.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import UserErrorException, WebserviceException

if TYPE_CHECKING:
    from .image import ContainerImageConfig
    from .inference_config import InferenceConfig
    from .webservice import LocalWebserviceDeploymentConfiguration, Webservice

DEPLOYING, RUNNING, FAILED, UNKNOWN, DELETED = "deploying", "running", "failed", "unknown", "deleted"
# The engine's states (Transitioning, Healthy, Unhealthy, Failed) as azureml names them for a local service.
LOCAL_STATE = {"Transitioning": DEPLOYING, "Healthy": RUNNING, "Unhealthy": FAILED, "Failed": FAILED}
CLOUD_TARGET = "aci"

F = TypeVar("F", bound=Callable[..., Any])


def in_state(*states: str) -> Callable[[F], F]:
    """azureml's gate: the method runs only in ``states``; otherwise one line says why and what to do."""

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def gated(self: LocalServiceMixin, *args: Any, **kwargs: Any) -> Any:
            state = self.state
            if state not in states:
                hint = {DELETED: " It was deleted: deploy it again with Model.deploy(...).",
                        DEPLOYING: " Wait for it: service.wait_for_deployment().",
                        UNKNOWN: " Deploy it with Model.deploy(...)."}.get(state, "")
                if state == FAILED:
                    hint = f" {self.error} See service.get_logs(); fix score.py and call service.update() or " \
                           "deploy again."
                raise WebserviceException(f"Cannot call {func.__name__}() when service is {state}.{hint}".rstrip())
            return func(self, *args, **kwargs)

        return gated  # type: ignore[return-value]

    return decorator


class LocalServiceMixin:
    """Mixed into ``LocalWebservice`` (before ``Webservice``): the behaviour azureml gives local services."""

    @property
    def state(self) -> str:
        try:
            return LOCAL_STATE[self._status()[0]]  # type: ignore[attr-defined]
        except WebserviceException:
            return DELETED

    @property
    def port(self) -> int | None:
        """The local port the service answers on (None until it has one)."""
        handle = self._handle()  # type: ignore[attr-defined]
        return int(handle["port"]) if handle and handle.get("port") else None

    @in_state(DEPLOYING, RUNNING)
    def run(self, input_data: Any, **kwargs: Any) -> Any:
        if self.state == DEPLOYING:
            self.wait_for_deployment()
        return super().run(input_data, **kwargs)  # type: ignore[misc]

    @in_state(DEPLOYING, RUNNING)
    def wait_for_deployment(self, show_output: bool = False, **kwargs: Any) -> None:
        self._wait(show_output, kwargs.get("timeout_sec"))  # type: ignore[attr-defined]
        print(f"Local webservice is {self.state} at {self._base_url()}")

    def _base_url(self) -> str | None:
        uri = self.scoring_uri  # type: ignore[attr-defined]
        return uri.rsplit("/", 1)[0] if uri else None

    @in_state(DEPLOYING, FAILED, RUNNING)
    def get_logs(self, num_lines: int = 5000, init: bool = False, raw: bool = False) -> str:
        return super().get_logs(num_lines, init=init)  # type: ignore[misc]

    @in_state(DEPLOYING, FAILED, RUNNING)
    def delete(self, delete_cache: bool = True, delete_image: bool = False, delete_volume: bool = True) -> None:
        """Stop and remove the service; ``delete_image=True`` also deletes its image (if nothing else uses it)."""
        image = self.image  # type: ignore[attr-defined]
        super().delete()  # type: ignore[misc]
        if delete_image and image is not None:
            image.delete()

    @in_state(DEPLOYING, FAILED, RUNNING)
    def reload(self, wait: bool = False) -> None:
        """Restart the service with its score.py as it is now on disk, without rebuilding its environment."""
        super().reload(wait=wait)  # type: ignore[misc]

    @in_state(DEPLOYING, FAILED, RUNNING, UNKNOWN)
    def update(self, models: list[Any] | None = None, image_config: ContainerImageConfig | None = None,
               deployment_config: LocalWebserviceDeploymentConfiguration | None = None, wait: bool = False,
               inference_config: InferenceConfig | None = None, **others: Any) -> None:
        """Rebuild with the new models / script / environment and restart; arguments left None stay as they are.

        Also takes the arguments of ``Webservice.update`` (tags, description, image...).
        """
        from .image import ContainerImageConfig
        from .inference_config import InferenceConfig
        from .webservice import LocalWebserviceDeploymentConfiguration

        if image_config is not None and not isinstance(image_config, ContainerImageConfig):
            raise WebserviceException("Error, provided image configuration must be of type ContainerImageConfig "
                                      "in order to update a local service.")
        if deployment_config is not None and not isinstance(deployment_config,
                                                            LocalWebserviceDeploymentConfiguration):
            raise WebserviceException("Error, provided deployment configuration must be of type "
                                      "LocalWebserviceDeploymentConfiguration in order to update a local service.")
        if inference_config is not None and not isinstance(inference_config, InferenceConfig):
            raise WebserviceException("Error, provided inference configuration must be of type InferenceConfig in "
                                      "order to update a local service.")
        if image_config is not None and inference_config is not None:
            raise WebserviceException("Error, an image configuration and an inference configuration cannot be "
                                      "provided at the same time.")
        super().update(models=models, inference_config=inference_config,  # type: ignore[misc]
                       _image_config=image_config, _deployment_config=deployment_config, **others)
        if wait:
            self.wait_for_deployment()

    def deploy_to_cloud(self, name: str | None = None, deployment_config: Any = None,
                        deployment_target: Any = None) -> Webservice:
        """Deploy this service's image (same models, script and environment) to the workspace's cloud target."""
        from .target import target_class
        from .webservice import AciWebservice, _deploy

        image = self.image  # type: ignore[attr-defined]
        if image is None:
            raise WebserviceException(f"The LocalWebservice is not deployable (state = {self.state}). Recreate it, "
                                      "or use the Model.deploy() method directly.")
        wanted = deployment_target if isinstance(deployment_target, str) else CLOUD_TARGET
        if deployment_target is not None and not isinstance(deployment_target, str):
            raise UserErrorException("deployment_target must be a target name here (e.g. 'aci'); AKS compute "
                                     "targets are not available yet.")
        try:
            reason = target_class(wanted).unavailable_reason()
        except UserErrorException:
            reason = (f"no {wanted!r} target is installed in this version of aci_widgets (installed targets: "
                      "process, docker)")
        missing = [k for k in ("subscription_id", "resource_group") if not getattr(self.workspace, k, None)]  # type: ignore[attr-defined]
        if wanted == CLOUD_TARGET and missing:
            reason = "; ".join(filter(None, [reason, f"the workspace has no {' or '.join(missing)} (write them in "
                                                     "config.json and open it with Workspace.from_config())"]))
        if reason:
            raise WebserviceException(f"Cannot deploy {self.name!r} to the cloud: {reason}. The local "  # type: ignore[attr-defined]
                                      "service keeps running.")
        name = name or self.name  # type: ignore[attr-defined]
        return _deploy(self.workspace, name, deployment_config or AciWebservice.deploy_configuration(),  # type: ignore[attr-defined]
                       False, image=image, deployment_target=wanted)

    @classmethod
    def deserialize(cls, workspace: Any, webservice_payload: dict[str, Any]) -> Any:
        raise NotImplementedError("Local web services cannot be deserialized.")

    def serialize(self) -> dict[str, Any]:
        return {**super().serialize(), "state": self.state, "port": self.port}  # type: ignore[misc]
