"""Which Host and Origin a request may carry: where DNS rebinding and cross-site requests stop.

Any web page can make a browser send requests to 127.0.0.1:PORT (a cross-site POST runs run() even though the
page cannot read the answer), or re-point its own name at 127.0.0.1 (DNS rebinding: the browser then sends
``Host: evil.example:PORT`` and lets the page read the answers). So, like Django's ALLOWED_HOSTS and Jupyter
server's origin check: a Host that is not one of the service's names gets 421, and an Origin that is neither the
service itself nor listed in ``cors_origins`` gets 403. Loopback names are the service's own on any port (a
published Docker port differs from the one inside; rebinding needs a foreign name, so this opens nothing). A request
with no Host (HTTP/1.0 tools) or no Origin (anything but a browser) passes. ``GET /`` is never refused: probes
address a service by whatever name they know it by, and the answer tells nothing.

CORS headers are sent only to origins listed in ``cors_origins`` (azmlinfsrv's AML_CORS_ORIGINS; Starlette's
CORSMiddleware defaults: preflight cached 600 s, ``Vary: Origin``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .responses import Response, json_error

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
_CACHE_LIMIT = 1024
_PREFLIGHT = (b"Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
              b"Access-Control-Allow-Headers: Authorization, Content-Type\r\nAccess-Control-Max-Age: 600\r\n")


def _hostname(host: bytes) -> bytes:
    """``name:port`` -> ``name``; ``[v6]:port`` -> ``[v6]``; a trailing dot dropped."""
    if host.startswith(b"["):
        return host[: host.find(b"]") + 1]
    name, sep, port = host.rpartition(b":")
    return (name if sep and port.isdigit() else host).rstrip(b".")


class HostPolicy:
    """Built once per server; ``ok_hosts`` caches accepted Host values so a request pays one set lookup."""

    def __init__(self, allowed_hosts: Iterable[str] = (), cors_origins: Iterable[str] = ()) -> None:
        allowed = [h.strip().lower() for h in allowed_hosts if h.strip()]
        origins = [o.strip().lower().rstrip("/") for o in cors_origins if o.strip()]
        self.any_host = "*" in allowed
        self.names = frozenset(n.encode() for n in (*LOOPBACK, *allowed) if n != "*")
        self.shown = ", ".join(n for n in (*LOOPBACK, *allowed))
        self.any_origin = "*" in origins
        self.cors = frozenset(o.encode() for o in origins if o != "*")
        self.ok_hosts: set[bytes] = set()

    def host_ok(self, host: bytes) -> bool:
        if self.any_host or host in self.ok_hosts:
            return True
        lower = host.lower()
        ok = lower in self.names or _hostname(lower) in self.names
        if ok and len(self.ok_hosts) < _CACHE_LIMIT:
            self.ok_hosts.add(host)
        return ok

    def misdirected(self, host: bytes) -> Response:
        shown = host.decode("latin-1")[:100]
        return json_error(421, f"This service does not answer to the host name {shown!r} (it answers to "
                               f"{self.shown}); if this name is yours, add it to the deployment configuration's "
                               "allowed_hosts.")

    def for_origin(self, origin: bytes, method: bytes, target: Response | Callable[[bytes], Response]) -> \
            Response | Callable[[bytes], Response]:
        """The request's target as a browser request from ``origin`` should get it."""
        lower = origin.lower().rstrip(b"/")
        if self.any_origin or lower in self.cors:
            allow = b"*" if self.any_origin else origin
            headers = b"Access-Control-Allow-Origin: " + allow + b"\r\nVary: Origin\r\n"
            if method == b"OPTIONS":
                return Response(204, b"", target.content_type if type(target) is Response else b"text/plain",
                                headers + _PREFLIGHT)
            return _with_headers(target, headers)
        scheme, sep, rest = lower.partition(b"://")
        if sep and _hostname(rest) in self.names:
            return target  # the service's own origin: same-origin, no CORS headers needed
        shown = origin.decode("latin-1")[:100]
        return json_error(403, f"Requests from web pages at {shown} are refused; to allow them, list the origin in "
                               "the deployment configuration's cors_origins.")


def _with_headers(target: Response | Callable[[bytes], Response], headers: bytes) -> \
        Response | Callable[[bytes], Response]:
    if type(target) is Response:
        return target._replace(headers=target.headers + headers)

    def handler(body: bytes) -> Response:
        response = target(body)  # type: ignore[operator]
        return response._replace(headers=response.headers + headers)

    return handler
