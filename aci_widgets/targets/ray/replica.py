"""A Ray Serve replica that runs the scoring runtime's own semantics: ``init()`` once per replica (the runtime's
loader), every request answered by the runtime's ``ScoringApp`` (routes, key auth, 500 with the message,
/swagger.json), so a service answers the same on Ray as on every other target. Serve's HTTP proxy is the server.

Loaded by Serve from the application config (``import_path: aci_widgets.targets.ray.replica:build``): the cluster's
Python needs aci_widgets installed, as it needs the same Ray version.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from ray import serve
from starlette.requests import Request
from starlette.responses import Response

from aci_widgets.runtime.handlers import ScoringApp
from aci_widgets.runtime.loader import ScoreScriptError, call_init, get_run, load_score, set_model_dir
from aci_widgets.runtime.swagger import build_swagger
from aci_widgets.runtime.tracebacks import user_traceback


@serve.deployment
class ScoringReplica:
    """``__init__`` is the user's ``init()``; ``__call__`` is one HTTP request."""

    def __init__(self, app: dict[str, Any]) -> None:
        os.environ.update(app.get("environment") or {})
        os.chdir(app["dir"])
        set_model_dir(os.path.join(app["dir"], "azureml-models"))
        try:
            module = load_score(os.path.join(app["dir"], app["script"]))
            call_init(module)
        except ScoreScriptError as exc:
            # Serve shows the constructor's exception as the deployment's message: make it the user's traceback.
            raise RuntimeError(f"{exc}\n{user_traceback(exc.error)}") from None
        keys: tuple[str, ...] = ()
        if app.get("keys_file"):  # the keys are in a file, never in the config the dashboard shows
            with open(app["keys_file"]) as f:
                keys = tuple(line for line in f.read().splitlines() if line)
        self._app = ScoringApp(get_run(module), swagger=build_swagger(app["name"], auth=bool(keys)), auth_keys=keys)
        self._timeout = app.get("scoring_timeout_ms", 60000) / 1000
        self._stuck = threading.Event()  # a run() past its timeout still holds a thread: replace this replica
        self._version = app.get("version", "")

    async def __call__(self, request: Request) -> Response:
        path = request.url.path[len(request.scope.get("root_path", "")):] or "/"
        query = f"?{request.url.query}" if request.url.query else ""
        auth = request.headers.get("authorization")
        answer = self._app.resolve(request.method.encode(), (path + query).encode(),
                                   auth.encode("latin-1") if auth is not None else None)
        if callable(answer):
            body = await request.body()
            task = asyncio.get_running_loop().run_in_executor(None, answer, body)
            try:
                answer = await asyncio.wait_for(asyncio.shield(task), self._timeout)
            except asyncio.TimeoutError:
                self._stuck.set()
                return Response(b'{"error": "run() did not finish within scoring_timeout_ms"}', 504,
                                media_type="application/json")
        headers = dict(line.split(": ", 1) for line in answer.headers.decode("latin-1").split("\r\n") if line) \
            if getattr(answer, "headers", b"") else {}
        return Response(answer.body, answer.status, headers=headers, media_type=answer.content_type.decode())

    def check_health(self) -> None:
        """Serve replaces a replica whose health check raises: one whose run() outlived scoring_timeout_ms."""
        if self._stuck.is_set():
            raise RuntimeError("run() outlived scoring_timeout_ms; this replica is replaced")


def build(args: dict[str, Any]) -> Any:
    """The application builder named in the Serve config: one ScoringReplica deployment."""
    return ScoringReplica.bind(args["app"])
