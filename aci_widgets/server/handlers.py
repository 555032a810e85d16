"""Thin REST handlers for the Deployments sidebar: each one calls the core's public API and returns JSON.

Routes, under the server's base URL::

    GET    /aci-widgets/workspaces                                  names, and which one to show first
    GET    /aci-widgets/workspaces/<ws>/services                    each service, its state, progress, CPU and memory
    GET    /aci-widgets/workspaces/<ws>/services/<name>/logs?tail=N the service's log (ANSI codes kept)
    POST   /aci-widgets/workspaces/<ws>/services/<name>/test        body sent to the service as it is
    GET    /aci-widgets/workspaces/<ws>/services/<name>/swagger     the service's swagger.json
    DELETE /aci-widgets/workspaces/<ws>/services/<name>

Core calls block (SQLite, the service's HTTP), so they run in a worker thread and the server stays responsive.
A user's mistake (no such workspace or service) is a 404 whose ``message`` says what to do.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import tornado
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from ..core import AciWidgetsError, Webservice, WebserviceException, Workspace
from ..core.progress import deployment_progress

NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"


class _Handler(APIHandler):
    async def call(self, fn: Callable[[], Any], missing: int = 404) -> Any:
        """``fn()`` in a thread; a core error becomes a JSON error (``missing`` for not found, else 400)."""
        try:
            return await asyncio.to_thread(fn)
        except WebserviceException as exc:
            raise _error(missing if "not found" in str(exc) else 400, exc) from None
        except AciWidgetsError as exc:
            raise _error(404 if "does not exist" in str(exc) else 400, exc) from None

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None))[1]
        if isinstance(exc, _UserError):  # the core's whole message, as JSON like every Jupyter API error
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"message": exc.message, "reason": None}))
            return
        super().write_error(status_code, **kwargs)

    def send(self, payload: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload))


class WorkspacesHandler(_Handler):
    @tornado.web.authenticated
    async def get(self) -> None:
        names = await self.call(lambda: sorted(Workspace.list()))
        self.send({"workspaces": names})


class ServicesHandler(_Handler):
    @tornado.web.authenticated
    async def get(self, workspace: str) -> None:
        self.send({"workspace": workspace, "services": await self.call(lambda: _services(workspace))})


class LogsHandler(_Handler):
    @tornado.web.authenticated
    async def get(self, workspace: str, name: str) -> None:
        tail = self.get_argument("tail", "500")
        if not tail.isdigit():
            raise tornado.web.HTTPError(400, reason="tail must be a whole number of lines")
        tail = int(tail)
        text = await self.call(lambda: _service(workspace, name).get_logs(num_lines=tail))
        self.send({"name": name, "logs": text})


class RunHandler(_Handler):
    """POST the body to the service as it is (its answer or its error, and the round trip's seconds)."""

    @tornado.web.authenticated
    async def post(self, workspace: str, name: str) -> None:
        body = self.request.body.decode("utf-8", errors="replace")

        def run() -> dict[str, Any]:
            service = _service(workspace, name)
            started = time.perf_counter()
            try:
                answer = service.run(body)
            except WebserviceException as exc:
                return {"ok": False, "error": str(exc), "seconds": time.perf_counter() - started}
            return {"ok": True, "answer": answer, "seconds": time.perf_counter() - started}

        self.send(await self.call(run))


class SwaggerHandler(_Handler):
    @tornado.web.authenticated
    async def get(self, workspace: str, name: str) -> None:
        def fetch() -> Any:
            uri = _service(workspace, name).swagger_uri
            if not uri:
                raise WebserviceException(f"Service {name!r} has no swagger URI (is it Healthy?).")
            with urllib.request.urlopen(uri, timeout=10) as answer:  # the service's own, on this machine
                return json.loads(answer.read())

        self.send(await self.call(fetch))


class ServiceHandler(_Handler):
    @tornado.web.authenticated
    async def delete(self, workspace: str, name: str) -> None:
        await self.call(lambda: _service(workspace, name).delete())
        self.send({"deleted": name})


def _service(workspace: str, name: str) -> Webservice:
    return Webservice(Workspace(workspace), name)


def _services(workspace: str) -> list[dict[str, Any]]:
    return [_describe(service) for service in Webservice.list(Workspace(workspace))]


def _describe(service: Webservice) -> dict[str, Any]:
    """What one row of the sidebar shows."""
    state, error = service.state, service.error
    uri = service.scoring_uri
    curl = None
    if uri:
        auth = f" -H {shlex.quote('Authorization: Bearer ' + service.get_keys()[0])}" if service.auth_enabled else ""
        curl = f"curl -X POST {shlex.quote(uri)} -H 'Content-Type: application/json'{auth} -d '{{\"data\": []}}'"
    return {
        "name": service.name, "state": state, "error": error.splitlines()[0] if error else "",
        "target": service.target, "computeType": service.compute_type, "scoringUri": uri,
        "swaggerUri": service.swagger_uri, "curl": curl,
        "created": service.created_time.timestamp(), "updated": service.updated_time.timestamp(),
        "progress": deployment_progress(service.workspace, service.name) if state == "Transitioning" else None,
        "usage": usage.to_dict() if state != "Transitioning" and (usage := service.usage()) else None,
    }


class _UserError(tornado.web.HTTPError):
    """A core error the user can fix: its whole message in the JSON body, one line of it in the status line."""

    def __init__(self, status: int, exc: BaseException) -> None:
        self.message = str(exc)
        super().__init__(status, reason=" ".join(self.message.split())[:200])


def _error(status: int, exc: BaseException) -> _UserError:
    return _UserError(status, exc)


def setup_handlers(web_app: Any) -> None:  # noqa: ANN401 - tornado's Application
    base = url_path_join(web_app.settings["base_url"], "aci-widgets")
    service = url_path_join(base, "workspaces", f"({NAME})", "services", f"({NAME})")
    web_app.add_handlers(".*$", [
        (url_path_join(base, "workspaces"), WorkspacesHandler),
        (url_path_join(base, "workspaces", f"({NAME})", "services"), ServicesHandler),
        (service, ServiceHandler),
        (url_path_join(service, "logs"), LogsHandler),
        (url_path_join(service, "test"), RunHandler),
        (url_path_join(service, "swagger"), SwaggerHandler),
    ])
