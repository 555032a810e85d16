"""Routing and the /score handler: what each request gets, with no I/O, so the server stays a thin shell."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from .fastpath import BadRequest, FastScorer
from .responses import JSON, OCTETS, TEXT, Response, json_error
from .swagger import with_schemas
from .tracebacks import describe, user_traceback

# What resolve() returns: a finished answer (the body is not needed), or a handler that wants the body.
Target = Response | Callable[[bytes], Response]

HEALTHY = Response(200, b"Healthy", TEXT)
_GET_ONLY = json_error(405, "Method not allowed here; use GET.", b"Allow: GET, HEAD\r\n")
_POST_ONLY = json_error(405, "Method not allowed here; /score takes POST.", b"Allow: POST\r\n")
_UNAUTHORIZED = json_error(
    401,
    "This service requires a key: send the header 'Authorization: Bearer <key>'.",
    b"WWW-Authenticate: Bearer\r\n",
)
_READ_METHODS = (b"GET", b"HEAD")


def parse_auth_keys(value: str | None) -> tuple[str, ...]:
    """Keys from ``ACI_WIDGETS_AUTH_KEYS="primary,secondary"``; unset or blank means no authentication."""
    return tuple(k.strip() for k in (value or "").split(",") if k.strip())


class ScoringApp:
    """Maps (method, path, Authorization) to an answer; calls the user's ``run`` only for ``POST /score``.

    ``run`` is the user's ``run(raw_data)``, or a FastScorer (loader.get_run) for a run() that declared its input.
    """

    def __init__(
        self,
        run: Callable[[str], Any],
        *,
        swagger: dict[str, Any],
        auth_keys: Sequence[str] = (),
        logger: logging.Logger | None = None,
    ) -> None:
        self._run = run
        self._fast = run if isinstance(run, FastScorer) else None
        if self._fast is not None and swagger:
            swagger = with_schemas(swagger, self._fast.declared.input_schema, self._fast.declared.output_schema)
        self._keys = tuple(k.encode() for k in auth_keys)
        self._log = logger or logging.getLogger("aci_widgets.runtime")
        self._swagger = Response(200, json.dumps(swagger, indent=2).encode(), JSON)

    def _authorized(self, authorization: bytes | None) -> bool:
        if not self._keys:
            return True
        if not authorization:
            return False
        scheme, _, token = authorization.strip().partition(b" ")
        if scheme.lower() != b"bearer":
            return False
        import hmac  # here, not at the top: it loads OpenSSL, and most local services have no keys

        token = token.strip()
        # Compare with every key (no early exit) so timing does not tell which key nearly matched.
        ok = False
        for key in self._keys:
            ok |= hmac.compare_digest(token, key)
        return ok

    def resolve(self, method: bytes, url: bytes, authorization: bytes | None) -> Target:
        """Decide from the request head alone, so rejected requests never have their body buffered."""
        path = url
        if b"?" in path or b"#" in path:
            path = path.split(b"?", 1)[0].split(b"#", 1)[0]
        if path == b"/score":
            if method != b"POST":
                return _POST_ONLY
            return self.score if self._authorized(authorization) else _UNAUTHORIZED
        if path == b"/" or path == b"/health":
            return HEALTHY if method in _READ_METHODS else _GET_ONLY
        if path == b"/swagger.json":
            if method not in _READ_METHODS:
                return _GET_ONLY
            return self._swagger if self._authorized(authorization) else _UNAUTHORIZED
        shown = path.decode("latin-1")[:200]
        return json_error(
            404, f"Not found: {shown}. This service answers GET /, POST /score, GET /swagger.json"
        )

    def score(self, body: bytes) -> Response:
        """``run(body as str)``; its result as ``json.dumps`` (bytes are sent raw); any exception is a 500."""
        if self._fast is not None:
            return self._score_fast(self._fast, body)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return json_error(400, f"The request body is not valid UTF-8 ({exc.reason} at byte {exc.start}).")
        try:
            result = self._run(text)
        except (Exception, SystemExit) as exc:
            return self._failed(exc)
        return self._answer(result)

    def _score_fast(self, fast: FastScorer, body: bytes) -> Response:
        """The body parsed by the server into run()'s declared arguments (400 when it does not fit them); an
        ndarray result written by orjson, any other result answered as the stock path answers it."""
        try:
            kwargs = fast.parse(body)
        except BadRequest as exc:
            return json_error(400, str(exc))
        try:
            result = fast.function(**kwargs)
        except (Exception, SystemExit) as exc:
            return self._failed(exc)
        try:
            encoded = fast.encode(result)
        except (TypeError, ValueError) as exc:
            return self._not_encodable(result, exc)
        return self._answer(result) if encoded is None else Response(200, encoded, JSON)

    def _failed(self, exc: BaseException) -> Response:
        self._log.error("run() raised %s\n%s", describe(exc), user_traceback(exc).rstrip())
        return json_error(500, describe(exc))

    def _answer(self, result: Any) -> Response:
        """run()'s result as the stock path sends it: bytes raw, anything else as ``json.dumps``."""
        if isinstance(result, (bytes, bytearray, memoryview)):
            return Response(200, bytes(result), OCTETS)
        try:
            return Response(200, json.dumps(result).encode(), JSON)
        except (TypeError, ValueError) as exc:
            return self._not_encodable(result, exc)

    def _not_encodable(self, result: Any, exc: Exception) -> Response:
        self._log.error(
            "run() returned a %s that json.dumps cannot encode (%s); return lists/dicts (array.tolist())",
            type(result).__name__,
            describe(exc),
        )
        return json_error(500, describe(exc))
