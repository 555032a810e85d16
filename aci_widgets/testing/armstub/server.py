"""``ArmStub``: the https server and the container groups it holds (state in memory, containers on Docker).

Checks in ARM's order: bearer token (401), api-version (400), subscription (404 SubscriptionNotFound), resource
group (404 ResourceGroupNotFound), then the operation. PUT and DELETE are asynchronous: the answer carries an
``Azure-AsyncOperation`` URL (built from the request's own Host) and ``Retry-After``; a worker thread pulls and
starts the containers (or removes them) and then settles the operation to Succeeded or Failed.
"""

from __future__ import annotations

import copy
import json
import re
import ssl
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import docker

from . import engine
from .certs import self_signed
from .errors import ArmError, not_found
from .validation import MAX_CPU, MAX_MEMORY_GB, check_group

API_VERSION = "2023-05-01"
OPERATION_API_VERSION = "2018-06-01"
PROVIDER = "providers/Microsoft.ContainerInstance"
_SUB = r"/subscriptions/(?P<sub>[^/]+)"
_RG = _SUB + r"/resourceGroups/(?P<rg>[^/]+)"
ROUTES = [  # (method, pattern, handler name)
    ("GET", _SUB + rf"/{PROVIDER}/locations/(?P<loc>[^/]+)/operations/(?P<op>[^/]+)", "get_operation"),
    ("GET", _SUB + rf"/{PROVIDER}/containerGroups", "list_subscription"),
    ("GET", _RG + rf"/{PROVIDER}/containerGroups", "list_group"),
    ("GET", _RG + rf"/{PROVIDER}/containerGroups/(?P<name>[^/]+)", "get_group"),
    ("PUT", _RG + rf"/{PROVIDER}/containerGroups/(?P<name>[^/]+)", "put_group"),
    ("DELETE", _RG + rf"/{PROVIDER}/containerGroups/(?P<name>[^/]+)", "delete_group"),
    ("GET", _RG + rf"/{PROVIDER}/containerGroups/(?P<name>[^/]+)/containers/(?P<container>[^/]+)/logs", "get_logs"),
    ("POST", _RG + rf"/{PROVIDER}/containerGroups/(?P<name>[^/]+)/stop", "stop_group"),
]
PAGE = 2  # groups per list page: small, so that nextLink is exercised
HANDSHAKE_TIMEOUT = 30.0  # seconds a client has to complete its TLS handshake
STOP_JOIN_LIMIT = 60.0  # seconds stop() waits, in all, for the operations under way
CREATE_JOIN_LIMIT = 300.0  # seconds a delete waits for the create under way (its pull) before it goes on


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Group:
    sub: str
    rg: str
    name: str
    body: dict[str, Any]                      # location, tags, properties as PUT (secrets included, never shown)
    ip: str
    state: str = "Pending"                    # provisioningState
    container_ids: dict[str, str] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    stopped: bool = False
    worker: threading.Thread | None = None  # the create operation's thread

    @property
    def resource_id(self) -> str:
        return f"/subscriptions/{self.sub}/resourceGroups/{self.rg}/{PROVIDER}/containerGroups/{self.name}"


class ArmStub:
    """Start with ``start()``; ``endpoint`` is ``https://127.0.0.1:PORT``, ``cert`` the certificate to trust.

    ``subscriptions`` maps each known subscription to its resource groups; ``quota`` bounds the container groups
    per subscription and location; ``token`` is the only bearer token accepted.
    """

    def __init__(self, folder: Path, subscriptions: dict[str, set[str]], token: str, quota: int = 10,
                 retry_after: str = "1") -> None:
        self.folder, self.token, self.quota, self.retry_after = folder, token, quota, retry_after
        self.max_cpu, self.max_memory_gb = MAX_CPU, MAX_MEMORY_GB   # the largest group this region offers
        self.subscriptions = {s.lower(): {rg.lower() for rg in rgs} for s, rgs in subscriptions.items()}
        self.id = uuid.uuid4().hex[:8]
        self.groups: dict[tuple[str, str, str], Group] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        self.lock = threading.RLock()
        self.docker = docker.from_env(timeout=120)
        self.requests: list[tuple[str, str]] = []    # (method, path) seen, for tests that check the protocol
        self._threads: list[threading.Thread] = []
        self.cert, key = self_signed(folder)
        self.httpd = _Server(("127.0.0.1", 0), _handler(self))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        # The TLS handshake happens in the connection's own thread (Handler.setup), not in accept() on the serving
        # thread: a client that connects and sends nothing would otherwise stall every request, and stop() too.
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True, do_handshake_on_connect=False)
        self.endpoint = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self._serving = threading.Thread(target=self.httpd.serve_forever, name="armstub", daemon=True)

    def start(self) -> ArmStub:
        self._serving.start()
        return self

    def stop(self) -> int:
        """Stop serving, wait for running operations, remove every container made; returns how many there were."""
        self.httpd.shutdown()
        self.httpd.server_close()
        give_up = time.monotonic() + STOP_JOIN_LIMIT
        for thread in list(self._threads):
            thread.join(max(0.0, give_up - time.monotonic()))
        removed = engine.remove_all(self.docker, self.id)
        self.docker.close()
        return removed

    # --- the operations -------------------------------------------------------------------------------------

    def _key(self, sub: str, rg: str, name: str) -> tuple[str, str, str]:
        return sub.lower(), rg.lower(), name.lower()

    def _find(self, sub: str, rg: str, name: str) -> Group:
        group = self.groups.get(self._key(sub, rg, name))
        if group is None:
            raise not_found("containerGroups", name, rg)
        return group

    def get_group(self, sub: str, rg: str, name: str, **_: Any) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            return 200, self.view(self._find(sub, rg, name)), {}

    def list_group(self, sub: str, rg: str, query: dict[str, str], base: str, **_: Any) -> tuple[int, Any, dict]:
        with self.lock:
            groups = [g for k, g in self.groups.items() if k[:2] == (sub.lower(), rg.lower())]
            return 200, self._page(groups, query, base), {}

    def list_subscription(self, sub: str, query: dict[str, str], base: str, **_: Any) -> tuple[int, Any, dict]:
        with self.lock:
            return 200, self._page([g for k, g in self.groups.items() if k[0] == sub.lower()], query, base), {}

    def _page(self, groups: list[Group], query: dict[str, str], base: str) -> dict[str, Any]:
        start = int(query.get("$skipToken") or 0)
        page: dict[str, Any] = {"value": [self.view(g) for g in groups[start:start + PAGE]]}
        if start + PAGE < len(groups):
            page["nextLink"] = f"{base}?api-version={API_VERSION}&$skipToken={start + PAGE}"
        return page

    def put_group(self, sub: str, rg: str, name: str, body: Any, host: str, **_: Any) -> tuple[int, Any, dict]:
        check_group(name, body, self.max_cpu, self.max_memory_gb)
        props = body["properties"]
        location = body["location"]
        with self.lock:
            key = self._key(sub, rg, name)
            existing = self.groups.get(key)
            if existing is not None and existing.state in ("Pending", "Creating", "Deleting"):
                raise ArmError(409, "ContainerGroupTransitioning",
                               f"The container group '{name}' is still transitioning, please retry later.")
            in_location = [g for k, g in self.groups.items() if k[0] == sub.lower()
                           and g.body["location"].lower() == location.lower() and k != key]
            if existing is None and len(in_location) >= self.quota:
                raise ArmError(409, "ContainerGroupQuotaReached",
                               f"Resource type 'Microsoft.ContainerInstance/containerGroups' container group quota "
                               f"'StandardCores' exceeded in region '{location}'. Limit: '{self.quota}', Usage: "
                               f"'{len(in_location)}'.")
            label = (props.get("ipAddress") or {}).get("dnsNameLabel")
            if label and any((g.body["properties"].get("ipAddress") or {}).get("dnsNameLabel") == label
                             and g.body["location"].lower() == location.lower()
                             for k, g in self.groups.items() if k != key):
                raise ArmError(400, "DnsNameLabelAlreadyTaken",  # code and text as az container create prints them
                               f"The DNS name label '{label}' in container group '{name}' is not available. Try "
                               "using a different label.")
            for container in props["containers"]:
                engine.check_accessible(container["properties"]["image"], name,
                                        props.get("imageRegistryCredentials") or [])
            ip = existing.ip if existing else self._free_ip()
            old_ids = list(existing.container_ids.values()) if existing else []
            group = Group(sub, rg, name, copy.deepcopy(body), ip)
            self.groups[key] = group
            op = self._operation(sub, location, group)
        group.worker = self._work(op, lambda: self._create(group, old_ids))
        status = 200 if existing else 201
        return status, self.view(group), self._async_headers(host, sub, location, op["name"])

    def delete_group(self, sub: str, rg: str, name: str, host: str, **_: Any) -> tuple[int, Any, dict]:
        with self.lock:
            group = self.groups.get(self._key(sub, rg, name))
            if group is None:
                return 204, None, {}
            group.state = "Deleting"
            op = self._operation(sub, group.body["location"], group)
        self._work(op, lambda: self._delete(group))
        return 202, None, self._async_headers(host, sub, group.body["location"], op["name"])

    def stop_group(self, sub: str, rg: str, name: str, **_: Any) -> tuple[int, Any, dict]:
        with self.lock:
            group = self._find(sub, rg, name)
            engine.remove_containers(self.docker, list(group.container_ids.values()))
            group.stopped = True
        return 204, None, {}

    def get_logs(self, sub: str, rg: str, name: str, container: str, query: dict[str, str],
                 **_: Any) -> tuple[int, Any, dict]:
        with self.lock:
            group = self._find(sub, rg, name)
            names = [c["name"] for c in group.body["properties"]["containers"]]
            if container not in names:
                raise ArmError(404, "ContainerNotFound",
                               f"The container '{container}' does not exist in container group '{name}'.")
            cid = group.container_ids.get(container)
        tail = int(query["tail"]) if query.get("tail") else None
        text = engine.container_logs(self.docker, cid, tail, query.get("timestamps") == "true")
        return 200, {"content": text}, {}

    def get_operation(self, sub: str, op: str, **_: Any) -> tuple[int, Any, dict]:
        with self.lock:
            record = self.operations.get(op)
            if record is None or record["sub"] != sub.lower():
                raise ArmError(404, "OperationNotFound", f"The operation '{op}' was not found.")
            body = {k: v for k, v in record.items() if k not in ("sub", "name") and v is not None}
            return 200, body, ({"Retry-After": self.retry_after} if record["status"] == "InProgress" else {})

    # --- the work behind the operations -------------------------------------------------------------------

    def _operation(self, sub: str, location: str, group: Group) -> dict[str, Any]:
        op_id = str(uuid.uuid4())
        record = {"id": group.resource_id, "name": op_id, "sub": sub.lower(), "status": "InProgress",
                  "startTime": _now(), "endTime": None, "properties": {"events": []}, "error": None}
        self.operations[op_id] = record
        return record

    def _work(self, op: dict[str, Any], work: Any) -> threading.Thread:
        def run() -> None:
            try:
                work()
                status, error = "Succeeded", None
            except ArmError as exc:
                status, error = "Failed", {"code": exc.code, "message": exc.message}
            except Exception as exc:  # noqa: BLE001 - reported through the operation, as ARM does
                status, error = "Failed", {"code": "InternalServerError", "message": str(exc)}
            with self.lock:
                op.update(status=status, error=error, endTime=_now())

        thread = threading.Thread(target=run, name=f"armstub op {op['name']}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return thread

    def _create(self, group: Group, old_ids: list[str]) -> None:
        engine.remove_containers(self.docker, old_ids)

        def on_event(container: str, name: str, message: str) -> None:
            with self.lock:
                now = _now()
                group.events.setdefault(container, []).append(
                    {"count": 1, "firstTimestamp": now, "lastTimestamp": now, "name": name, "message": message,
                     "type": "Normal"})

        with self.lock:
            group.state = "Creating"
        try:
            ids = engine.run_group(self.docker, self.id, group.resource_id, group.name, group.ip,
                                   group.body["properties"], on_event)
        except ArmError:
            with self.lock:
                group.state = "Failed"
            raise
        with self.lock:
            names = [c["name"] for c in group.body["properties"]["containers"]]
            group.container_ids = dict(zip(names, ids, strict=True))
            if self.groups.get(self._key(group.sub, group.rg, group.name)) is not group:
                engine.remove_containers(self.docker, ids)  # replaced or deleted meanwhile
                return
            group.state = "Succeeded"

    def _delete(self, group: Group) -> None:
        """As ACI: a delete during the create ends once the create's containers are gone too."""
        if group.worker is not None and group.worker is not threading.current_thread():
            group.worker.join(CREATE_JOIN_LIMIT)  # a create still stuck after that removes its own containers
        engine.remove_containers(self.docker, list(group.container_ids.values()))
        with self.lock:
            key = self._key(group.sub, group.rg, group.name)
            if self.groups.get(key) is group:
                del self.groups[key]

    def _free_ip(self) -> str:
        used = {g.ip for g in self.groups.values()}
        for last in range(2, 255):
            ip = f"127.0.0.{last}"
            if ip not in used:
                return ip
        raise ArmError(409, "ContainerGroupQuotaReached", "No loopback address is left for another group.")

    def _async_headers(self, host: str, sub: str, location: str, op_id: str) -> dict[str, str]:
        url = (f"https://{host}/subscriptions/{sub}/{PROVIDER}/locations/{location}/operations/{op_id}"
               f"?api-version={OPERATION_API_VERSION}")
        return {"Azure-AsyncOperation": url, "Retry-After": self.retry_after}

    # --- what a GET shows ---------------------------------------------------------------------------------

    def view(self, group: Group) -> dict[str, Any]:
        """The group as ARM shows it: secrets dropped, instance views and addresses filled in."""
        body = copy.deepcopy(group.body)
        props = body["properties"]
        for cred in props.get("imageRegistryCredentials") or []:
            cred.pop("password", None)
        states = []
        for container in props["containers"]:
            cprops = container["properties"]
            for var in cprops.get("environmentVariables") or []:
                var.pop("secureValue", None)
            view = None if group.stopped else engine.container_view(self.docker,
                                                                    group.container_ids.get(container["name"]))
            if view is not None:
                view["events"] = copy.deepcopy(group.events.get(container["name"], []))
                started = [e for e in view["events"] if e["name"] == "Started"]
                if started and view["restartCount"]:
                    started[-1]["count"] = 1 + view["restartCount"]
                cprops["instanceView"] = view
                states.append(view["currentState"]["state"])
        ip = props.get("ipAddress")
        if ip:
            ip["ip"] = group.ip
            if ip.get("dnsNameLabel"):
                ip["fqdn"] = f"{ip['dnsNameLabel']}.{body['location']}.azurecontainer.io"
        props.setdefault("sku", "Standard")
        props["provisioningState"] = group.state
        if group.stopped:
            overall = "Stopped"
        elif group.state == "Failed":
            overall = "Failed"
        elif states and all(s == "Running" for s in states):
            overall = "Running"
        else:
            overall = "Pending"
        props["instanceView"] = {"state": overall, "events": []}
        return {"id": group.resource_id, "name": group.name, "type": "Microsoft.ContainerInstance/containerGroups",
                **body}


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that left or failed its TLS handshake ends its own connection quietly; anything else is a bug
        of the stand-in and is printed."""
        if isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def _handler(stub: ArmStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            self.request.settimeout(HANDSHAKE_TIMEOUT)
            self.request.do_handshake()  # a failure ends this connection only (handle_error, then close)
            self.request.settimeout(None)
            super().setup()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            stub.requests.append((method, parts.path))
            try:
                status, body, headers = self._route(method, parts.path, query, raw)
            except ArmError as exc:
                status, body, headers = exc.status, exc.body(), {}
            self._answer(status, body, headers)

        def _route(self, method: str, path: str, query: dict[str, str], raw: bytes) -> tuple[int, Any, dict]:
            auth = self.headers.get("Authorization") or ""
            if not auth.startswith("Bearer "):
                raise ArmError(401, "AuthenticationFailed",
                               "Authentication failed. The 'Authorization' header is missing.")
            if auth[len("Bearer "):] != stub.token:
                raise ArmError(401, "InvalidAuthenticationToken",
                               "The access token is invalid.")
            if "api-version" not in query:
                raise ArmError(400, "MissingApiVersionParameter",
                               "The api-version query parameter (?api-version=) is required for all requests.")
            for verb, pattern, name in ROUTES:
                match = re.fullmatch(pattern, path, re.I)
                if match is None or verb != method:
                    continue
                args = match.groupdict()
                if args["sub"].lower() not in stub.subscriptions:
                    raise ArmError(404, "SubscriptionNotFound", f"The subscription '{args['sub']}' could not be "
                                                                "found.")
                if "rg" in args and args["rg"].lower() not in stub.subscriptions[args["sub"].lower()]:
                    raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{args['rg']}' could not be "
                                                                 "found.")
                if name != "get_operation" and query["api-version"] != API_VERSION:
                    raise ArmError(400, "NoRegisteredProviderFound",
                                   f"No registered resource provider found for API version "
                                   f"'{query['api-version']}'. The supported api-versions are '{API_VERSION}'.")
                body = None
                if raw:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could "
                                                                     "not be deserialized.") from None
                host = self.headers.get("Host") or f"127.0.0.1:{stub.httpd.server_address[1]}"
                base = f"https://{host}{path}"
                return getattr(stub, name)(**args, query=query, body=body, host=host, base=base)
            if any(re.fullmatch(p, path, re.I) for _, p, _ in ROUTES):
                raise ArmError(405, "MethodNotAllowed", f"The method {method} is not allowed here.")
            raise ArmError(404, "NotFound", f"No route for {path}.")

        def _answer(self, status: int, body: Any, headers: dict[str, str]) -> None:
            data = b"" if body is None else engine.dumps(body)
            self.send_response(status)
            self.send_header("x-ms-request-id", str(uuid.uuid4()))
            if data:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if data:
                self.wfile.write(data)

    return Handler
