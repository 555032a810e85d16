"""Web services, with the names of ``azureml.core.webservice``: deploy, wait, call, inspect, update, delete.

A deployment runs as an :class:`~aci_widgets.core.operation.Operation`: ``deploy*`` validates everything it can
at once (names, files, the target) and returns; the work (register, build, start, wait for health) goes on in a
thread whose events ``wait_for_deployment(show_output=True)`` shows live. The registry keeps each service's
handle, so ``Webservice(ws, name)`` finds it again from any process.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import select
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import filelock

from . import events
from .errors import OperationCancelled, UserErrorException, WebserviceException
from .image import ContainerImageConfig, Image, _alive, _register_image, build_for_target
from .local_webservice import LocalServiceMixin
from .model import Model
from .names import check_service_name
from .operation import Operation, Reporter, running
from .progress import journal_path
from .target import ServiceSpec, Target, choose, settle, target_class
from .usage import Usage

if TYPE_CHECKING:
    from .workspace import Workspace

STATES = ("Transitioning", "Healthy", "Unhealthy", "Failed")
_DNS_LABEL = re.compile(r"[a-z][a-z0-9-]{3,61}[a-z0-9]")  # ACI's rule for dns_name_label


@dataclass
class AciServiceDeploymentConfiguration:
    """What ``AciWebservice.deploy_configuration`` returns. Limits are real on the Docker target."""

    cpu_cores: float = 1.0
    memory_gb: float = 1.0
    tags: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    location: str | None = None
    auth_enabled: bool = False
    max_request_mb: float = 100.0
    port: int | None = None
    primary_key: str | None = None  # azureml's: the service's keys, when auth_enabled (else random ones)
    secondary_key: str | None = None
    azure_settings: dict[str, Any] = field(default_factory=dict)  # Azure-only settings, kept for a cloud target
    scoring_timeout_ms: int = 60000  # azureml's name: a longer run() gets 504 and its worker is replaced
    allowed_hosts: list[str] = field(default_factory=list)  # Host names beside loopback's; ["*"]: any
    cors_origins: list[str] = field(default_factory=list)  # origins whose pages may call the service; ["*"]: any
    dns_name_label: str | None = None  # the aci target's public name: <label>.<location>.azurecontainer.io
    compute_type = "ACI"

    def validate(self) -> None:
        if not (isinstance(self.cpu_cores, (int, float)) and 0 < self.cpu_cores <= 4):
            raise UserErrorException(f"cpu_cores must be a number above 0 and at most 4, got {self.cpu_cores!r}.")
        if not (isinstance(self.memory_gb, (int, float)) and 0 < self.memory_gb <= 16):
            raise UserErrorException(f"memory_gb must be a number above 0 and at most 16, got {self.memory_gb!r}.")
        if not (isinstance(self.max_request_mb, (int, float)) and self.max_request_mb > 0):
            raise UserErrorException(f"max_request_mb must be above 0, got {self.max_request_mb!r}.")
        if self.port is not None and not (isinstance(self.port, int) and 0 < self.port < 65536):
            raise UserErrorException(f"port must be between 1 and 65535, got {self.port!r}.")
        if self.dns_name_label is not None and not (isinstance(self.dns_name_label, str)
                                                    and _DNS_LABEL.fullmatch(self.dns_name_label)):
            raise UserErrorException(f"dns_name_label must be 5 to 63 lowercase letters, digits and '-', starting with "
                                     f"a letter and ending with a letter or digit (ACI's rule), got "
                                     f"{self.dns_name_label!r}.")
        if not (isinstance(self.scoring_timeout_ms, int) and self.scoring_timeout_ms > 0):
            raise UserErrorException(f"scoring_timeout_ms must be a whole number of milliseconds above 0, got "
                                     f"{self.scoring_timeout_ms!r}.")
        for name in ("allowed_hosts", "cors_origins"):
            value = getattr(self, name)
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() and "," not in v
                                                               and not any(c.isspace() for c in v) for v in value):
                raise UserErrorException(f"{name} must be a list of names without spaces or commas, got {value!r}.")
        bad = [o for o in self.cors_origins if o != "*" and not o.startswith(("http://", "https://"))]
        if bad:
            raise UserErrorException(f"cors_origins are origins like 'https://app.example.com', got {bad[0]!r}.")


@dataclass
class LocalWebserviceDeploymentConfiguration(AciServiceDeploymentConfiguration):
    compute_type = "Local"


class Webservice:
    """A deployed service. ``Webservice(ws, name)`` reattaches to one, from any process."""

    _DEFAULT_TIMEOUT = 600.0

    def __init__(self, workspace: Workspace, name: str) -> None:
        self.workspace = workspace
        row = workspace.registry.get("services", name=name)
        if row is None:
            names = [r["name"] for r in workspace.registry.select("services")]
            known = f" Services: {', '.join(names)}." if names else " No service is deployed."
            raise WebserviceException(f"Service {name!r} not found in workspace {workspace.name!r}.{known}")
        self._row = row
        self._operation: Operation | None = running(_op_key(workspace, name))
        self._conn: http.client.HTTPConnection | None = None
        self._conn_lock = threading.Lock()

    # --- attributes ----------------------------------------------------------------------------------------

    name = property(lambda self: self._row["name"])
    tags = property(lambda self: dict(self._row["tags"]))
    description = property(lambda self: self._row["description"])
    properties = property(lambda self: dict(self._row["config"].get("properties") or {}))

    @property
    def compute_type(self) -> str:
        return self._row["config"].get("compute_type", "ACI")

    @property
    def target(self) -> str | None:
        return self._row.get("target")

    @property
    def image_id(self) -> str | None:
        return f"{self._row['image_name']}:{self._row['image_version']}" if self._row["image_name"] else None

    @property
    def image(self) -> Image | None:
        return Image(self.workspace, self._row["image_name"], version=self._row["image_version"]) \
            if self._row["image_name"] else None

    @property
    def models(self) -> list[Model]:
        image = self.image
        return image.models if image else []

    @property
    def created_time(self) -> datetime:
        return datetime.fromtimestamp(self._row["created"], tz=timezone.utc)

    @property
    def updated_time(self) -> datetime:
        return datetime.fromtimestamp(self._row["updated"], tz=timezone.utc)

    @property
    def scoring_uri(self) -> str | None:
        return (self._handle() or {}).get("scoring_uri")

    @property
    def swagger_uri(self) -> str | None:
        return (self._handle() or {}).get("swagger_uri")

    @property
    def auth_enabled(self) -> bool:
        return bool(self._row.get("keys"))

    @property
    def operation(self) -> Operation | None:
        """The deployment in progress in this process, if any: subscribe to it for live events."""
        return self._operation

    @property
    def state(self) -> str:
        """Transitioning, Healthy, Unhealthy or Failed: asked of the target each time it is read."""
        return self._status()[0]

    @property
    def error(self) -> str:
        """Why the service is not Healthy ('' when it is)."""
        return self._status()[1]

    def _handle(self) -> dict[str, Any] | None:
        self._refresh()
        return self._row.get("handle")

    def _refresh(self) -> None:
        row = self.workspace.registry.get("services", name=self._row["name"])
        if row is None:
            raise WebserviceException(f"Service {self._row['name']!r} was deleted.")
        self._row = row

    def _status(self) -> tuple[str, str, str]:
        self._operation = self._operation or running(_op_key(self.workspace, self.name))
        if self._operation is not None and not self._operation.done():
            return "Transitioning", "", ""
        self._refresh()
        row = self._row
        if row["state"] == "Transitioning":
            owner = row.get("owner_pid")
            in_progress = running(_op_key(self.workspace, self.name)) if owner == os.getpid() else _alive(owner)
            if in_progress:
                return "Transitioning", "", ""
            return "Failed", "The deployment was interrupted (its process ended). Deploy again.", ""
        if row["state"] == "Failed" or not row.get("handle"):
            return "Failed", row.get("error") or "", row.get("detail") or ""
        status = target_class(row["target"])().status(self.workspace, row["handle"])
        return status.state, status.error, status.detail

    def update_deployment_state(self) -> None:
        self._refresh()

    # --- deployment ----------------------------------------------------------------------------------------

    @staticmethod
    def deploy(workspace: Workspace, name: str, model_paths: list[str], image_config: ContainerImageConfig,
               deployment_config: AciServiceDeploymentConfiguration | None = None,
               deployment_target: Any = None, overwrite: bool = False) -> Webservice:
        """Register the model files (named after the files), build an image named after the service, deploy."""
        if isinstance(model_paths, (str, os.PathLike)):
            model_paths = [model_paths]
        for path in model_paths:
            if not Path(path).exists():
                raise UserErrorException(f"Model file {str(path)!r} not found (relative to {Path.cwd()}).")
        return _deploy(workspace, name, deployment_config, overwrite, image_config=image_config,
                       model_paths=[str(p) for p in model_paths], deployment_target=deployment_target)

    @staticmethod
    def deploy_from_model(workspace: Workspace, name: str, models: list[Model],
                          image_config: ContainerImageConfig,
                          deployment_config: AciServiceDeploymentConfiguration | None = None,
                          deployment_target: Any = None, overwrite: bool = False) -> Webservice:
        """Build an image from registered models (named after the service) and deploy it."""
        return _deploy(workspace, name, deployment_config, overwrite, image_config=image_config,
                       models=list(models), deployment_target=deployment_target)

    @staticmethod
    def deploy_from_image(workspace: Workspace, name: str, image: Image,
                          deployment_config: AciServiceDeploymentConfiguration | None = None,
                          deployment_target: Any = None, overwrite: bool = False) -> Webservice:
        """Deploy an existing image (built on the chosen target first if it was built on another one)."""
        if not isinstance(image, Image):
            raise UserErrorException(f"image must be an Image (from ContainerImage.create), got {image!r}.")
        return _deploy(workspace, name, deployment_config, overwrite, image=image,
                       deployment_target=deployment_target)

    def wait_for_deployment(self, show_output: bool = False, timeout_sec: float | None = None) -> None:
        """Block until the deployment ends; ``show_output=True`` shows its steps and logs live.

        Raises ``WebserviceException`` if it failed, with the init() traceback or the build error in the message.
        Ctrl-C cancels the deployment and removes what it had started. When it succeeded, prints azureml's last
        line, with or without show_output: ``ACI service creation operation finished, operation "Succeeded"``
        (azureml's "Tips: ..." line about Azure's debugging pages is left out: the live output shows the logs).
        """
        self._wait(show_output, timeout_sec)
        print(f'{self.compute_type} service creation operation finished, operation "Succeeded"')

    def _wait(self, show_output: bool = False, timeout_sec: float | None = None) -> None:
        """wait_for_deployment without azureml's printed line (for waits the user did not ask for)."""
        timeout = timeout_sec or self._DEFAULT_TIMEOUT
        self._operation = self._operation or running(_op_key(self.workspace, self.name))
        shown = False
        if self._operation is not None:
            if show_output:
                events.present(self._operation)
                shown = self._operation.done()
            if not self._operation.wait(timeout):
                # As in azureml, a deployment that overruns its wait ends Failed; here its server is stopped too.
                reason = (f"The deployment did not become Healthy within {timeout:g} s (timeout_sec); it was "
                          "stopped. Look at init() in score.py, or deploy again with a longer timeout_sec.")
                self._operation.cancel(reason)
                self._operation.wait()
                raise WebserviceException(f"Service {self.name!r}: {reason}")
        deadline = time.monotonic() + timeout
        state, error, detail = self._status()
        while state == "Transitioning":  # deployed by another process: follow it through the registry
            if time.monotonic() > deadline:
                raise WebserviceException(f"Service {self.name!r} is still deploying after {timeout} s.")
            time.sleep(0.25)
            state, error, detail = self._status()
        if state == "Failed":
            message = f"Service {self.name!r} deployment failed: {error}"
            if detail and shown:  # the presenter has just shown it: once is enough (it stays in .detail)
                message += "\n(Its traceback or build log is shown above; this exception's .detail holds it.)"
            elif detail:
                message += f"\n{detail}"
            raise WebserviceException(message, detail, detail_shown=bool(detail and shown))

    # --- use -----------------------------------------------------------------------------------------------

    def run(self, input_data: str | bytes | Any, *, timeout: float = 60.0) -> Any:
        """POST ``input_data`` to the scoring URI; returns the decoded JSON answer (or the text).

        At most once: the request is sent again only if it surely did not leave (the connection failed first).
        ``timeout`` (seconds) bounds the wait for the answer; after it the error says the request may have run.
        """
        uri = self.scoring_uri
        if not uri:
            state, error, _ = self._status()
            raise WebserviceException(f"Service {self.name!r} has no scoring URI (state {state}). {error}".strip())
        if isinstance(input_data, str):
            body = input_data.encode("utf-8")
        elif isinstance(input_data, (bytes, bytearray)):
            body = bytes(input_data)
        else:
            body = json.dumps(input_data).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        keys = self._row.get("keys")
        if keys:
            headers["Authorization"] = f"Bearer {keys[0]}"
        status, reason, payload = self._post(uri, body, headers, timeout)
        text = payload.decode("utf-8", errors="replace")
        if status != 200:
            raise WebserviceException(f"Received bad response from service {self.name!r}: {status} {reason}\n{text}")
        try:
            return json.loads(text)
        except ValueError:
            return text

    def _post(self, uri: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str, bytes]:
        parts = urlsplit(uri)
        with self._conn_lock:
            for attempt in (1, 2):
                conn = self._connection(parts.hostname or "127.0.0.1", parts.port or 80, timeout)
                try:
                    if conn.sock is None:
                        conn.connect()
                except OSError as exc:  # refused or unreachable: nothing was sent, one more try is safe
                    self._drop_connection()
                    if attempt == 1:
                        time.sleep(0.2)
                        continue
                    raise self._unreachable(uri, exc) from None
                try:
                    conn.request("POST", parts.path or "/", body, headers)
                except OSError as exc:
                    # The send failed: on a kept-alive connection the server had closed it before reading any of
                    # this request (it answers every request it reads), so sending it again cannot run it twice.
                    self._drop_connection()
                    if attempt == 1:
                        continue
                    raise self._unreachable(uri, exc) from None
                try:
                    response = conn.getresponse()
                    return response.status, response.reason, response.read()
                except TimeoutError:
                    self._drop_connection()
                    raise WebserviceException(
                        f"Service {self.name!r} sent no answer within {timeout:g} s. The request was not sent again: "
                        "it may have run (or still be running) on the service. Pass a larger run(..., timeout=...) "
                        "if run() is slow.") from None
                except (OSError, http.client.HTTPException) as exc:
                    self._drop_connection()
                    state, error, _ = self._status()
                    raise WebserviceException(
                        f"Service {self.name!r} closed the connection without an answer ({exc}); its state is "
                        f"{state}. The request was not sent again: it may have run on the service. "
                        f"{error} See service.get_logs().".strip()) from None
        raise AssertionError("unreachable")

    def _connection(self, host: str, port: int, timeout: float) -> http.client.HTTPConnection:
        """The kept-alive connection, unless the server has closed it meanwhile (then a new one)."""
        conn = self._conn
        if conn is not None and ((conn.host, conn.port) != (host, port) or _closed_by_peer(conn)):
            self._drop_connection()
            conn = None
        if conn is None:
            conn = self._conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _unreachable(self, uri: str, exc: BaseException) -> WebserviceException:
        state, error, _ = self._status()
        return WebserviceException(f"Service {self.name!r} did not answer at {uri} ({exc}); its state is {state}. "
                                   f"{error} See service.get_logs().".strip())

    def get_logs(self, num_lines: int = 5000, init: bool = False) -> str:
        """The service's own output (the scoring server's log); for a failed deployment, why it failed.

        ``init=True``: only the start-up part, up to the line saying the server is ready (or all of it if it
        never got there), as azureml's init-container log.
        """
        self._refresh()
        handle = self._row.get("handle")
        if not handle:
            return "\n".join(filter(None, [self._row.get("error"), self._row.get("detail")]))
        target = target_class(self._row["target"])()
        if not init:
            return target.logs(self.workspace, handle, tail=num_lines)
        lines = target.logs(self.workspace, handle).splitlines()
        ready = next((i for i, line in enumerate(lines) if " ready on http" in line), len(lines) - 1)
        return "\n".join(lines[: ready + 1][-num_lines:])

    def usage(self) -> Usage | None:
        """CPU and memory of the running service now (``Usage.measured``), or the size its deployment requested
        where the target cannot measure it (aci); None while it deploys or after it failed."""
        self._refresh()
        handle = self._row.get("handle")
        if not handle or self._row["state"] in ("Transitioning", "Failed"):
            return None
        measured = target_class(self._row["target"])().usage(self.workspace, handle)
        if measured is not None:
            return measured
        config = self._row["config"]
        return Usage(float(config.get("cpu_cores", 1.0)), int(float(config.get("memory_gb", 1.0)) * 2**30),
                     measured=False)

    def get_keys(self) -> tuple[str, str]:
        keys = self._row.get("keys")
        if not keys:
            raise WebserviceException(f"Service {self.name!r} has no keys: deploy it with auth_enabled=True "
                                      "in AciWebservice.deploy_configuration(...).")
        return keys[0], keys[1]

    def regen_key(self, key: str, set_key: str | None = None) -> None:
        """As in azureml: give the ``"Primary"`` or ``"Secondary"`` key a new random value (or ``set_key``).

        The server is restarted with the new keys on the same port before this returns: from then on the old key
        gets 401.
        """
        if key not in ("Primary", "Secondary"):
            raise UserErrorException(f"key must be 'Primary' or 'Secondary', got {key!r}.")
        if set_key is not None and not (isinstance(set_key, str) and set_key.strip() and "," not in set_key
                                        and set_key.isprintable()):
            raise UserErrorException("set_key must be a non-empty printable string without commas.")
        self._refresh()
        keys = list(self.get_keys())
        keys[0 if key == "Primary" else 1] = set_key or secrets.token_urlsafe(24)
        image = self.image
        if image is None:
            raise WebserviceException(f"Service {self.name!r} has no image to restart with; deploy it again.")
        config = dict(self._row["config"])
        port = (self._row.get("handle") or {}).get("port")
        if config.get("port") is None and port:
            config["port"] = int(port)  # the scoring URI stays the same
        replacement = _deploy(self.workspace, self.name, _config_from_dict(config), True, image=image,
                              tags=self.tags, description=self.description, auth_keys=(keys[0], keys[1]))
        self._operation = replacement._operation
        self._wait()
        self._refresh()

    def update(self, image: Image | None = None, tags: dict[str, str] | None = None,
               properties: dict[str, str] | None = None, description: str | None = None,
               auth_enabled: bool | None = None, ssl_enabled: bool | None = None, ssl_cert_pem_file: str | None = None,
               ssl_key_pem_file: str | None = None, ssl_cname: str | None = None,
               enable_app_insights: bool | None = None, models: list[Model] | None = None,
               inference_config: Any = None, *, cpu_cores: float | None = None, memory_gb: float | None = None,
               _image_config: ContainerImageConfig | None = None, _deployment_config: Any = None,
               **others: Any) -> None:
        """azureml's update: tags, properties and description change at once; a new image, models, inference
        config, auth or limits rebuild what they must and restart the service under its name and port.

        An argument that cannot be applied here raises, naming it; nothing is dropped silently.
        """
        from .service_update import redeploy, refuse_unavailable

        refuse_unavailable(self, others, ssl_enabled=ssl_enabled, ssl_cert_pem_file=ssl_cert_pem_file,
                           ssl_key_pem_file=ssl_key_pem_file, ssl_cname=ssl_cname,
                           enable_app_insights=enable_app_insights)
        if image is not None and (models is not None or inference_config is not None or _image_config is not None):
            raise UserErrorException("update() got image together with models/inference_config: pass either a "
                                     "built image, or the models and inference_config to build one from.")
        self._refresh()
        fields: dict[str, Any] = {}
        if tags is not None:
            fields["tags"] = dict(tags)
        if description is not None:
            fields["description"] = description
        if properties is not None:
            fields["config"] = {**self._row["config"], "properties": {**self.properties, **properties}}
        if fields:
            self.workspace.registry.update("services", {"name": self.name}, **fields)
            self._refresh()
        redeploy(self, image=image, models=models, inference_config=inference_config, image_config=_image_config,
                 deployment_config=_deployment_config,
                 changes={"auth_enabled": auth_enabled, "cpu_cores": cpu_cores, "memory_gb": memory_gb})
        self._refresh()

    def reload(self, wait: bool = True, show_output: bool = False) -> None:
        """Restart the service with its score.py as it is now on disk, without rebuilding the image."""
        self._refresh()
        image = self.image
        handle = self._row.get("handle")
        if image is None or not handle:
            raise WebserviceException(f"Service {self.name!r} is not running; deploy it again instead.")
        source = image._row["spec"].get("script_path")
        if not source or not Path(source).is_file():
            raise WebserviceException(f"The original script of image {image.id} ({source}) is gone; deploy again.")
        script = image._row["spec"]["execution_script"]
        target = target_class(self._row["target"])()
        ws, name = self.workspace, self.name

        def work(report: Reporter) -> None:
            with service_lock(ws, name, report):
                reload_locked(report)

        def reload_locked(report: Reporter) -> None:
            ws.registry.update("services", {"name": name}, state="Transitioning", owner_pid=os.getpid())
            report.on_started = lambda new: _record_started(ws, name, new)
            current = (ws.registry.get("services", name=name) or {}).get("handle")
            if not current:
                raise WebserviceException(f"Service {name!r} was deleted or stopped; deploy it again instead.")
            try:
                new_handle = target.reload_service(ws, current, {script: Path(source)}, report)
            except BaseException as exc:
                ws.registry.update("services", {"name": name}, state="Failed", handle=None,
                                   error=str(exc), detail=getattr(exc, "detail", ""))
                raise
            ws.registry.update("services", {"name": name}, state="Healthy", handle=new_handle, error=None,
                               detail=None)

        self._operation = Operation(f"service {name}", work, final_state=lambda _: "Healthy",
                                    key=_op_key(ws, name)).start()
        if wait:
            self.wait_for_deployment(show_output=show_output)

    def delete(self) -> None:
        """Stop the service and remove it from the workspace. Its image and models stay."""
        if self._operation is not None and not self._operation.done():
            self._operation.cancel()
            self._operation.wait()
        # Under the service's lock, the row names exactly what runs. If another process holds it (deploying, maybe
        # stuck in init()), take the row away at once: its deployment finds it gone and stops its own server.
        lock = service_lock(self.workspace, self.name)
        locked = lock.acquire(timeout=0.5)
        try:
            row = self.workspace.registry.pop("services", name=self.name)
            if row and row.get("handle"):
                target_class(row["target"])().stop_service(self.workspace, row["handle"])
        finally:
            if locked:
                lock.release()
        if self._conn is not None:
            self._conn.close()

    @staticmethod
    def list(workspace: Workspace, compute_type: str | None = None, image_name: str | None = None,
             image_id: str | None = None, model_name: str | None = None, tags: list[Any] | None = None,
             **_: Any) -> list[Webservice]:
        from .model import _match

        services = []
        for row in workspace.registry.select("services"):
            if compute_type and row["config"].get("compute_type") != compute_type:
                continue
            if image_name and row["image_name"] != image_name:
                continue
            if image_id and f"{row['image_name']}:{row['image_version']}" != image_id:
                continue
            if not _match(row["tags"], tags):
                continue
            service = Webservice(workspace, row["name"])
            if model_name and all(m.name != model_name for m in service.models):
                continue
            services.append(service)
        return services

    def serialize(self) -> dict[str, Any]:
        state, error, _ = self._status()
        return {"name": self.name, "state": state, "error": error, "computeType": self.compute_type,
                "target": self.target, "imageId": self.image_id, "scoringUri": self.scoring_uri,
                "swaggerUri": self.swagger_uri, "tags": self.tags, "description": self.description,
                "properties": self.properties, "workspaceName": self.workspace.name,
                "modelIds": [m.id for m in self.models],
                "createdTime": self.created_time.isoformat(), "updatedTime": self.updated_time.isoformat()}

    @classmethod
    def deserialize(cls, workspace: Workspace, webservice_payload: dict[str, Any]) -> Webservice:
        """The service a ``serialize()`` payload names, reattached in ``workspace`` (it must still exist)."""
        name = webservice_payload.get("name") if isinstance(webservice_payload, dict) else None
        if not name:
            raise UserErrorException("deserialize() needs a payload from service.serialize() (with its 'name').")
        return cls(workspace, name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workspace={self.workspace.name!r}, name={self.name!r})"


def _name_list(value: Any) -> Any:
    """None -> []; a list or tuple copied; anything else kept for validate() to refuse by name."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else value


class AciWebservice(Webservice):
    @staticmethod
    def deploy_configuration(cpu_cores: float | None = None, memory_gb: float | None = None,
                             tags: dict[str, str] | None = None, properties: dict[str, str] | None = None,
                             description: str | None = None, location: str | None = None,
                             auth_enabled: bool | None = None, max_request_mb: float | None = None,
                             scoring_timeout_ms: int | None = None, allowed_hosts: list[str] | None = None,
                             cors_origins: list[str] | None = None, dns_name_label: str | None = None,
                             **_azure: Any) -> AciServiceDeploymentConfiguration:
        config = AciServiceDeploymentConfiguration(
            cpu_cores=1.0 if cpu_cores is None else cpu_cores, memory_gb=1.0 if memory_gb is None else memory_gb,
            tags=dict(tags or {}), properties=dict(properties or {}), description=description,
            location=location, auth_enabled=bool(auth_enabled),
            max_request_mb=100.0 if max_request_mb is None else max_request_mb,
            scoring_timeout_ms=60000 if scoring_timeout_ms is None else scoring_timeout_ms,
            allowed_hosts=_name_list(allowed_hosts), cors_origins=_name_list(cors_origins),
            dns_name_label=dns_name_label)
        config.primary_key, config.secondary_key = _azure.pop("primary_key", None), _azure.pop("secondary_key", None)
        from .service_update import azure_only

        config.azure_settings = azure_only("AciWebservice.deploy_configuration", _azure)
        config.validate()
        return config


class LocalWebservice(LocalServiceMixin, Webservice):
    """A service on this machine, with azureml's local states (``running``...) and methods (see local_webservice)."""

    @staticmethod
    def deploy_configuration(port: int | None = None, *, scoring_timeout_ms: int | None = None,
                             allowed_hosts: list[str] | None = None,
                             cors_origins: list[str] | None = None) -> LocalWebserviceDeploymentConfiguration:
        """A service on this machine, on ``port`` (a free one if None); ``service.reload()`` picks up score.py."""
        config = LocalWebserviceDeploymentConfiguration(
            port=port, scoring_timeout_ms=60000 if scoring_timeout_ms is None else scoring_timeout_ms,
            allowed_hosts=_name_list(allowed_hosts), cors_origins=_name_list(cors_origins))
        config.validate()
        return config


# --- the deployment itself -------------------------------------------------------------------------------------

def __getattr__(name: str) -> Any:
    """azureml's path ``aci_widgets.core.webservice.AksWebservice``, imported lazily (aks.py builds on this module)."""
    if name == "AksWebservice":
        from .aks import AksWebservice

        return AksWebservice
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _config_from_dict(config: dict[str, Any]) -> AciServiceDeploymentConfiguration:
    from .aks import AksServiceDeploymentConfiguration

    cls = LocalWebserviceDeploymentConfiguration if config.get("compute_type") == "Local" \
        else AksServiceDeploymentConfiguration if config.get("compute_type") == "AKS" \
        else AciServiceDeploymentConfiguration
    known = {k: v for k, v in config.items() if k in cls.__dataclass_fields__}
    return cls(**known)


def _deploy(workspace: Workspace, name: str, config: AciServiceDeploymentConfiguration | None, overwrite: bool,
            *, image_config: ContainerImageConfig | None = None, model_paths: list[str] | None = None,
            models: list[Model] | None = None, image: Image | None = None,
            tags: dict[str, str] | None = None, description: str | None = None,
            deployment_target: Any = None, auth_keys: tuple[str, str] | None = None) -> Webservice:
    check_service_name(name)
    config = config or AciWebservice.deploy_configuration()
    if not isinstance(config, AciServiceDeploymentConfiguration):
        raise UserErrorException("deployment_config must come from AciWebservice.deploy_configuration(...) or "
                                 "LocalWebservice.deploy_configuration(...).")
    config.validate()
    if image_config is not None and not isinstance(image_config, ContainerImageConfig):
        raise UserErrorException("image_config must come from ContainerImage.image_configuration(...).")
    if models is not None:
        bad = [m for m in models if not isinstance(m, Model)]
        if bad:
            raise UserErrorException(f"models must be registered Model objects, got {bad[0]!r}; "
                                     "use Model.register() or Webservice.deploy(model_paths=...).")
    from .compute import resolve_target

    deployment_target, target_options = resolve_target(workspace, deployment_target, config)
    # Fails now, clearly, if the target cannot run here.
    choice = choose(workspace.target, explicit=deployment_target)

    previous = workspace.registry.get("services", name=name)
    if previous is not None and not overwrite:  # at once when it is clear; checked again under the lock
        _refuse_existing(workspace, previous, Webservice(workspace, name)._status()[0])

    keys = auth_keys or ((config.primary_key or secrets.token_urlsafe(24), config.secondary_key
                          or secrets.token_urlsafe(24)) if config.auth_enabled else None)
    config_dict = {k: getattr(config, k) for k in config.__dataclass_fields__} | {"compute_type": config.compute_type}
    registered = threading.Event()
    replaced: list[dict[str, Any]] = []

    def work(report: Reporter) -> None:
        # Under the service's lock (see serialized): the row read here is no other live deployment's.
        previous = workspace.registry.get("services", name=name)
        if previous is not None and not overwrite:
            _refuse_existing(workspace, previous, _settled_state(workspace, previous))
        old_handle = (previous or {}).get("handle")
        old_target = (previous or {}).get("target")
        now = time.time()
        # The row keeps naming the server it replaces (and its keys) until that is stopped: killed or failing before
        # then, this deployment leaves it tracked (reap_interrupted, delete() stop it), not running with no row.
        new_keys = list(keys) if keys else None
        keep_keys = previous["keys"] if previous and old_handle else new_keys
        workspace.registry.upsert("services", {
            "name": name, "state": "Transitioning", "target": old_target if old_handle else choice.target.name,
            "image_name": image.name if image else None, "image_version": image.version if image else None,
            "config": config_dict, "handle": old_handle, "keys": keep_keys,
            "tags": dict(tags if tags is not None else config.tags),
            "description": description if description is not None else config.description,
            "error": None, "detail": None, "owner_pid": os.getpid(),
            "created": (previous or {}).get("created") or now, "updated": now})
        registered.set()
        report.on_started = lambda handle: _record_started(workspace, name, handle)
        try:
            # auto gives way to the process target when Docker cannot get the base image (first notice says so).
            target = settle(choice, workspace, _base_image(image, image_config), report,
                            build=not (image and image.built_on(choice.target.name)))
            if target is not choice.target and not old_handle:
                workspace.registry.update("services", {"name": name}, target=target.name)
            built = _ensure_image(workspace, name, target, report, image, image_config, models, model_paths)
            spec = ServiceSpec(name=name, image=built[1], cpu_cores=float(config.cpu_cores),
                               memory_gb=float(config.memory_gb), auth_keys=keys, port=config.port,
                               max_body_bytes=int(config.max_request_mb * 1024 * 1024),
                               environment=_environment_variables(built[0]),
                               scoring_timeout_ms=config.scoring_timeout_ms,
                               allowed_hosts=tuple(config.allowed_hosts), cors_origins=tuple(config.cors_origins),
                               options=target_options)
            if old_handle and old_target == target.name and getattr(target, "replaces_in_place", False):
                report.notice(f"Rolling out the new version of {name!r} over the running one.")
            elif old_handle:
                report.notice(f"Replacing the existing service {name!r}.")
                target_class(old_target)().stop_service(workspace, old_handle)
                workspace.registry.update("services", {"name": name}, handle=None, target=target.name, keys=new_keys)
                replaced.append(old_handle)
            handle = target.start_service(workspace, spec, report)
        except OperationCancelled:
            # Ctrl-C or Cancel: the target removed what it had started; leave no half-written entry either. A
            # service this one was to replace and that still runs keeps its row (else nothing would stop it).
            if old_handle and not replaced:
                workspace.registry.upsert("services", previous)
            elif report.operation.cancel_reason:  # wait_for_deployment(timeout_sec) ran out: Failed, as in azureml
                workspace.registry.update_if("services", {"name": name}, _ours(), state="Failed", handle=None,
                                             error=report.operation.cancel_reason, detail="")
            else:
                workspace.registry.delete("services", name=name)
            raise
        except BaseException as exc:
            workspace.registry.update("services", {"name": name}, state="Failed", error=str(exc),
                                      detail=getattr(exc, "detail", "") or "")
            raise
        if not workspace.registry.update_if("services", {"name": name}, _ours(), state="Healthy", handle=handle,
                                            keys=new_keys, image_name=built[0].name, image_version=built[0].version):
            target.stop_service(workspace, handle)
            raise WebserviceException(f"Service {name!r} was deleted while it was deploying; its server was stopped.")

    def serialized(report: Reporter) -> None:
        with service_lock(workspace, name, report):
            work(report)

    operation = Operation(f"service {name}", serialized, final_state=lambda _: "Healthy",
                          key=_op_key(workspace, name), journal=journal_path(workspace, name)).start()
    # A second deployment of the name waits here until the first has ended, then goes on (or is refused).
    try:
        while not registered.wait(0.1):
            if operation.done():
                operation.result()
    except KeyboardInterrupt:
        operation.cancel()
        operation.wait()
        raise
    service = (LocalWebservice if config.compute_type == "Local" else
               __getattr__("AksWebservice") if config.compute_type == "AKS" else Webservice)(workspace, name)
    service._operation = operation
    return service




def _refuse_existing(workspace: Workspace, row: dict[str, Any], state: str) -> None:
    """Refuse to replace a live service without overwrite=True, naming the deployment that holds the name."""
    name = row["name"]
    if state == "Transitioning":
        raise WebserviceException(
            f"Service {name!r} is being deployed by process {row.get('owner_pid')} (started "
            f"{datetime.fromtimestamp(row['updated']).strftime('%H:%M:%S')}). Wait for it and pass overwrite=True "
            "to replace it, or choose another name.")
    if state in ("Healthy", "Unhealthy"):
        raise WebserviceException(
            f"Service {name!r} already exists (state {state}, deployed by process {row.get('owner_pid')}, "
            f"scoring URI {(row.get('handle') or {}).get('scoring_uri')}). Pass overwrite=True to replace it, or "
            "choose another name.")


def _settled_state(workspace: Workspace, row: dict[str, Any]) -> str:
    """The state of a row read under the service's lock: Transitioning there means its deployer died."""
    if row["state"] in ("Failed", "Transitioning") or not row.get("handle"):
        return "Failed"
    return target_class(row["target"])().status(workspace, row["handle"]).state


def _record_started(workspace: Workspace, name: str, handle: dict[str, Any]) -> None:
    """Called by the target as soon as the server exists, before it answers: nothing runs untracked."""
    if not workspace.registry.update_if("services", {"name": name}, _ours(), handle=handle):
        raise OperationCancelled(f"Service {name!r} was deleted while it was deploying; its server was stopped.")


class service_lock:  # noqa: N801 - used as a context manager, like a function
    """The lock that serializes deployments (and deletes, reloads) of one service name across processes.

    A file lock (``flock``) per name under the workspace: held for the whole deployment and dropped on every
    path; the OS drops it when its process dies, even by SIGKILL. Waiting honours the operation's cancellation.
    """

    def __init__(self, workspace: Workspace, name: str, report: Reporter | None = None) -> None:
        folder = workspace.root / "locks"
        folder.mkdir(mode=0o700, exist_ok=True)
        self.lock = filelock.FileLock(folder / f"service-{name}.lock", mode=0o600)
        self.name, self.report, self.workspace = name, report, workspace

    def acquire(self, timeout: float | None = None) -> bool:
        """Take the lock, waiting at most ``timeout`` seconds (None: as long as needed); False if not taken."""
        deadline = None if timeout is None else time.monotonic() + timeout
        told = False
        while True:
            try:
                self.lock.acquire(timeout=0.1 if deadline is None else max(0.0, min(0.1, deadline - time.monotonic())))
                return True
            except filelock.Timeout:
                if deadline is not None and time.monotonic() >= deadline:
                    return False
                if self.report is not None:
                    self.report.check_cancelled()
                    if not told:
                        row = self.workspace.registry.get("services", name=self.name) or {}
                        self.report.notice(f"Waiting for the deployment of {self.name!r} by process "
                                           f"{row.get('owner_pid')} to end.")
                        told = True

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> service_lock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def reap_interrupted(workspace: Workspace) -> None:
    """Stop the servers of deployments whose process died (kill -9) and mark them Failed: run when a workspace is
    opened. A deployment in progress holds its service's lock, so a row found Transitioning under it is orphaned."""
    for row in workspace.registry.select("services", state="Transitioning"):
        lock = service_lock(workspace, row["name"])
        if not lock.acquire(timeout=0):
            continue
        try:
            row = workspace.registry.get("services", name=row["name"])
            if row is None or row["state"] != "Transitioning":
                continue
            if row.get("handle"):
                target_class(row["target"])().stop_service(workspace, row["handle"])
            workspace.registry.update("services", {"name": row["name"]}, state="Failed", handle=None,
                                      error="The deployment was interrupted (its process ended); its server was "
                                            "stopped. Deploy again.", detail="")
        finally:
            lock.release()


def _closed_by_peer(conn: http.client.HTTPConnection) -> bool:
    """True if the server has closed a kept-alive connection (it is readable: EOF), as urllib3 checks."""
    if conn.sock is None:
        return False
    try:
        readable, _, _ = select.select([conn.sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _ours() -> dict[str, Any]:
    """What the row holds while it still belongs to this process's deployment (compare-and-set guard)."""
    return {"owner_pid": os.getpid(), "state": "Transitioning"}


def _op_key(workspace: Workspace, name: str) -> str:
    return f"{workspace.root}::service::{name}"


def _environment_variables(image: Image) -> dict[str, str]:
    """An Environment's ``environment_variables``, set in the service's process (InferenceConfig images)."""
    return dict((image._row["spec"].get("environment") or {}).get("environment_variables") or {})


def _base_image(image: Image | None, image_config: ContainerImageConfig | None) -> str | None:
    return image._row["spec"].get("base_image") if image is not None else getattr(image_config, "base_image", None)


def _ensure_image(workspace: Workspace, name: str, target: Target, report: Reporter, image: Image | None,
                  image_config: ContainerImageConfig | None, models: list[Model] | None,
                  model_paths: list[str] | None) -> tuple[Image, dict[str, Any]]:
    """The image to run, built on ``target``: given, or made now from models (registered first if files)."""
    if image is None:
        if model_paths is not None:
            with report.step(events.REGISTER, ", ".join(Path(p).name for p in model_paths)):
                models = [Model.register(workspace, p, Path(p).name) for p in model_paths]
        assert image_config is not None and models is not None
        image = _register_image(workspace, name, models, image_config)
        workspace.registry.update("services", {"name": name}, image_name=image.name, image_version=image.version)
    else:
        image.update_creation_state()
        if image.creation_state == "Running" and image.operation is not None:
            report.notice(f"Waiting for image {image.id} to finish building.")
            image.operation.wait()
            image.update_creation_state()
        if image.creation_state == "Failed":
            raise UserErrorException(f"Image {image.id} failed to build ({image.error}); create it again.")
    return image, build_for_target(image, target, report)
