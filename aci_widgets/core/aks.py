"""``azureml.core.webservice.AksWebservice``: AKS-style deployments (replicas, autoscaling, rolling updates), run
on a Ray cluster by the ``ray`` target. azureml's names and defaults; each AKS knob maps to its Ray Serve setting,
and a knob with no meaning on Ray raises, saying so, instead of being dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .errors import UserErrorException, WebserviceException
from .image import Image
from .target import target_class
from .webservice import AciServiceDeploymentConfiguration, Webservice

# AKS-only settings: what each would mean, and why it has no Ray Serve equivalent.
NO_RAY_MEANING = {
    "namespace": "Kubernetes namespaces do not exist on Ray; one cluster serves each application under /<name>",
    "initial_delay_seconds": "Serve probes a replica once its init() has returned, so no delay is needed",
    "success_threshold": "Serve counts a replica healthy at its first passing check",
    "failure_threshold": "Serve replaces a replica at its first failed health check",
    "max_request_wait_time": "Serve queues by count, not time (requests wait until a replica has room)",
    "cpu_cores_limit": "Ray reserves cpu_cores per replica but does not cap it",
    "memory_gb_limit": "Ray reserves memory_gb per replica but does not cap it",
    "collect_model_data": "model data collection goes to Azure storage; print in run() and read get_logs()",
    "enable_app_insights": "Application Insights is Azure's; every replica's output is in service.get_logs()",
    "token_auth_enabled": "Azure ML token auth needs Azure AD; use auth_enabled=True (keys) instead",
}


@dataclass
class AksServiceDeploymentConfiguration(AciServiceDeploymentConfiguration):
    """What ``AksWebservice.deploy_configuration`` returns; ``target_options`` is its Ray Serve form."""

    autoscale_enabled: bool = True
    autoscale_min_replicas: int = 1
    autoscale_max_replicas: int = 10
    autoscale_refresh_seconds: int = 1
    autoscale_target_utilization: int = 70
    replica_max_concurrent_requests: int = 1
    num_replicas: int | None = None
    gpu_cores: int = 0
    period_seconds: int | None = None
    timeout_seconds: int | None = None
    compute_target_name: str | None = None
    compute_type = "AKS"

    def validate(self) -> None:
        super().validate()
        for name in ("autoscale_min_replicas", "autoscale_max_replicas", "replica_max_concurrent_requests",
                     "autoscale_refresh_seconds"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise UserErrorException(f"{name} must be a whole number of at least 1, got {getattr(self, name)!r}.")
        if self.autoscale_min_replicas > self.autoscale_max_replicas:
            raise UserErrorException("autoscale_min_replicas must not exceed autoscale_max_replicas.")
        if not (isinstance(self.autoscale_target_utilization, int) and 0 < self.autoscale_target_utilization <= 100):
            raise UserErrorException("autoscale_target_utilization is a percentage: 1 to 100.")
        if self.num_replicas is not None and not (isinstance(self.num_replicas, int) and self.num_replicas >= 1):
            raise UserErrorException(f"num_replicas must be a whole number of at least 1, got {self.num_replicas!r}.")
        if self.autoscale_enabled and self.num_replicas is not None:
            raise UserErrorException("num_replicas cannot be used with autoscale_enabled=True; pass one of them.")

    def target_options(self) -> dict[str, Any]:
        """The Serve deployment options: concurrency, resources, health checks, and replicas or autoscaling.

        autoscale_target_utilization is the share of replica_max_concurrent_requests a replica should be busy
        with on average: Serve's target_ongoing_requests."""
        actor: dict[str, Any] = {"num_cpus": float(self.cpu_cores), "memory": int(self.memory_gb * 2**30)}
        if self.gpu_cores:
            actor["num_gpus"] = self.gpu_cores
        options: dict[str, Any] = {"max_ongoing_requests": self.replica_max_concurrent_requests,
                                   "ray_actor_options": actor}
        if self.period_seconds is not None:
            options["health_check_period_s"] = self.period_seconds
        if self.timeout_seconds is not None:
            options["health_check_timeout_s"] = self.timeout_seconds
        if self.autoscale_enabled:
            options["autoscaling_config"] = {
                "min_replicas": self.autoscale_min_replicas, "max_replicas": self.autoscale_max_replicas,
                "initial_replicas": self.autoscale_min_replicas,
                "target_ongoing_requests": self.replica_max_concurrent_requests
                * self.autoscale_target_utilization / 100,
                "upscale_delay_s": float(self.autoscale_refresh_seconds)}
        else:
            options["num_replicas"] = self.num_replicas or 1
        return options


class AksWebservice(Webservice):
    """A service on a Ray cluster: ``scale(n)``, and ``update`` with azureml's AKS arguments."""

    @staticmethod
    def deploy_configuration(autoscale_enabled: bool | None = None, autoscale_min_replicas: int | None = None,
                             autoscale_max_replicas: int | None = None, autoscale_refresh_seconds: int | None = None,
                             autoscale_target_utilization: int | None = None, collect_model_data: bool | None = None,
                             auth_enabled: bool | None = None, cpu_cores: float | None = None,
                             memory_gb: float | None = None, enable_app_insights: bool | None = None,
                             scoring_timeout_ms: int | None = None, replica_max_concurrent_requests: int | None = None,
                             max_request_wait_time: int | None = None, num_replicas: int | None = None,
                             primary_key: str | None = None, secondary_key: str | None = None,
                             tags: dict[str, str] | None = None, properties: dict[str, str] | None = None,
                             description: str | None = None, gpu_cores: int | None = None,
                             period_seconds: int | None = None, initial_delay_seconds: int | None = None,
                             timeout_seconds: int | None = None, success_threshold: int | None = None,
                             failure_threshold: int | None = None, namespace: str | None = None,
                             token_auth_enabled: bool | None = None, compute_target_name: str | None = None,
                             cpu_cores_limit: float | None = None,
                             memory_gb_limit: float | None = None) -> AksServiceDeploymentConfiguration:
        """azureml's defaults: autoscaling 1 to 10 replicas at 70 % unless num_replicas is given, key auth on,
        0.1 CPU and 0.5 GB per replica, one request at a time per replica, 60 s scoring timeout."""
        refuse_no_meaning(collect_model_data=collect_model_data, enable_app_insights=enable_app_insights,
                          max_request_wait_time=max_request_wait_time, initial_delay_seconds=initial_delay_seconds,
                          success_threshold=success_threshold, failure_threshold=failure_threshold,
                          namespace=namespace, token_auth_enabled=token_auth_enabled,
                          cpu_cores_limit=cpu_cores_limit, memory_gb_limit=memory_gb_limit)
        config = AksServiceDeploymentConfiguration(
            autoscale_enabled=num_replicas is None if autoscale_enabled is None else bool(autoscale_enabled),
            autoscale_min_replicas=_or(autoscale_min_replicas, 1),
            autoscale_max_replicas=_or(autoscale_max_replicas, 10),
            autoscale_refresh_seconds=_or(autoscale_refresh_seconds, 1),
            autoscale_target_utilization=_or(autoscale_target_utilization, 70),
            auth_enabled=_or(auth_enabled, True), cpu_cores=_or(cpu_cores, 0.1), memory_gb=_or(memory_gb, 0.5),
            scoring_timeout_ms=_or(scoring_timeout_ms, 60000),
            replica_max_concurrent_requests=_or(replica_max_concurrent_requests, 1), num_replicas=num_replicas,
            primary_key=primary_key, secondary_key=secondary_key, tags=dict(tags or {}),
            properties=dict(properties or {}), description=description, gpu_cores=_or(gpu_cores, 0),
            period_seconds=period_seconds, timeout_seconds=timeout_seconds, compute_target_name=compute_target_name)
        config.validate()
        return config

    def scale(self, num_replicas: int) -> None:
        """Run exactly ``num_replicas`` replicas (autoscaling off); Serve adds or removes replicas, no restart.

        After a failed update (the old version still serving, the service Failed with init()'s traceback), this
        scales the version that serves, the last one that became Healthy, never the one that failed: as azureml's
        AKS keeps the last good version, and as Ray Serve, whose config is the one truth, needs the last good
        config written back (it would otherwise keep retrying the failed one)."""
        self.update(num_replicas=num_replicas)

    def update(self, *args: Any, autoscale_enabled: bool | None = None, autoscale_min_replicas: int | None = None,
               autoscale_max_replicas: int | None = None, autoscale_refresh_seconds: int | None = None,
               autoscale_target_utilization: int | None = None, num_replicas: int | None = None,
               replica_max_concurrent_requests: int | None = None, scoring_timeout_ms: int | None = None,
               cpu_cores: float | None = None, memory_gb: float | None = None, **kwargs: Any) -> None:
        """azureml's AKS update: the scaling arguments change the Serve deployment (scaling alone restarts no
        replica); a new image, models or inference_config roll out replica by replica."""
        changes = {k: v for k, v in {
            "autoscale_enabled": autoscale_enabled, "autoscale_min_replicas": autoscale_min_replicas,
            "autoscale_max_replicas": autoscale_max_replicas, "autoscale_refresh_seconds": autoscale_refresh_seconds,
            "autoscale_target_utilization": autoscale_target_utilization, "num_replicas": num_replicas,
            "replica_max_concurrent_requests": replica_max_concurrent_requests,
            "scoring_timeout_ms": scoring_timeout_ms, "cpu_cores": cpu_cores, "memory_gb": memory_gb}.items()
            if v is not None}
        if num_replicas is not None and autoscale_enabled is None:
            changes["autoscale_enabled"] = False
        if changes and "_deployment_config" not in kwargs:
            self._refresh()
            current = {f.name: self._row["config"][f.name] for f in fields(AksServiceDeploymentConfiguration)
                       if f.name in self._row["config"]}
            config = AksServiceDeploymentConfiguration(**{**current, **changes})
            if config.autoscale_enabled:
                config.num_replicas = None
            config.validate()
            kwargs["_deployment_config"] = config
        new_code = (args and args[0] is not None) or any(kwargs.get(k) is not None for k in (
            "image", "models", "inference_config", "_image_config"))
        if "_deployment_config" in kwargs and not new_code:
            serving = self.serving_image()
            if serving is not None:
                kwargs["image"] = serving
        super().update(*args, **kwargs)

    def replicas(self) -> list[dict[str, Any]]:
        """The service's replicas now, as Ray Serve reports them: ``replica_id``, ``state`` (``RUNNING`` once its
        init() has returned, ``STARTING``, ``STOPPING``...), ``node_id``, ``pid``."""
        handle = self._handle()
        return target_class(self._row["target"])().replicas(handle) if handle else []

    def serving_image(self) -> Image | None:
        """The image the running replicas serve: the last version that became Healthy. It differs from
        ``image`` only after a failed update, when the failed image is recorded but the old one still serves."""
        self._refresh()
        serving = (self._row.get("handle") or {}).get("image")
        if not serving or [self._row.get("image_name"), self._row.get("image_version")] == list(serving):
            return None if not serving else self.image
        try:
            return Image(self.workspace, serving[0], version=int(serving[1]))
        except Exception as exc:  # noqa: BLE001 - any lookup failure gets the same advice
            raise WebserviceException(
                f"Service {self.name!r} serves image {serving[0]}:{serving[1]}, which is gone ({exc}); its last "
                f"update ({self._row.get('image_name')}:{self._row.get('image_version')}) failed. Pass "
                "image=... to update() to deploy a version that works.") from exc


def refuse_no_meaning(**given: Any) -> None:
    for name, value in given.items():
        if value not in (None, False):
            raise UserErrorException(f"{name}={value!r} has no meaning on a Ray cluster: {NO_RAY_MEANING[name]}. "
                                     f"Leave {name} out.")


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


__all__ = ["AksServiceDeploymentConfiguration", "AksWebservice"]
