"""The ``ray`` target: services as Ray Serve applications on a Ray cluster (a compute target of kind AKS).

Each service is one Serve application (route ``/<name>``) of one deployment whose replicas run the scoring
runtime (replica.py); every deployment of a name replaces the application in place, so Serve rolls replicas over
one by one (new ones start before old ones stop: ``max_surge_percent``) and a failed new version leaves the old one
serving. The image is the build context copied into the workspace; its requirements that the cluster's Python does
not already meet become the replicas' ``runtime_env`` (uv), which every node installs for itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from aci_widgets.core import events
from aci_widgets.core.errors import OperationCancelled, TargetUnavailable, WebserviceException
from aci_widgets.core.operation import Reporter
from aci_widgets.core.target import ImageSpec, Running, ServiceSpec, ServiceStatus, Target
from aci_widgets.core.workspace import Workspace

from . import cluster, serve_api

DEPLOYMENT = "ScoringReplica"
DEPLOY_TIMEOUT = 600.0
_STATES = {"RUNNING": "Healthy", "DEPLOYING": "Transitioning", "DELETING": "Transitioning",
           "DEPLOY_FAILED": "Failed", "UNHEALTHY": "Unhealthy", "NOT_STARTED": "Transitioning"}


class RayTarget(Target):
    name = "ray"
    replaces_in_place = True  # the core deploys over a running service without stopping it first

    @classmethod
    def unavailable_reason(cls) -> str | None:
        import importlib.util

        if importlib.util.find_spec("ray") is None or importlib.util.find_spec("ray.serve") is None:
            return "Ray Serve is not installed; pip install 'aci_widgets[ray]'"
        return None

    # --- compute targets (the core's ComputeTarget of kind AKS) --------------------------------------------

    def create_compute(self, ws: Workspace, name: str, settings: dict[str, Any], report: Reporter) -> dict[str, Any]:
        """Start a local Ray cluster (head node) for compute target ``name``, or check an existing one's address."""
        if settings.get("address"):
            return attach(settings)
        folder = ws.root / "ray" / "clusters" / name
        shutil.rmtree(folder, ignore_errors=True)
        with report.step("start cluster", f"local Ray head node for {name!r}"):
            record = cluster.start_head(folder, settings.get("num_cpus"))
            report.log(f"Ray cluster {name!r}: {record['address']}, dashboard {record['dashboard_url']}, "
                       f"pid {record['pid']}", source="server")
        return {**record, "lock": str(folder / "serve.lock")}

    def compute_status(self, record: dict[str, Any]) -> str:
        try:
            cluster.wait_dashboard(record, timeout=3)
            return "Succeeded"
        except TargetUnavailable:
            return "Failed"

    def delete_compute(self, record: dict[str, Any]) -> None:
        """Stop the cluster this target started (by its pid); an attached cluster is left as it is."""
        if record.get("started_here"):
            cluster.stop_head(record)

    # --- images ------------------------------------------------------------------------------------------

    def build_image(self, ws: Workspace, spec: ImageSpec, report: Reporter) -> dict[str, Any]:
        with report.step(events.BUILD, f"{spec.tag} for Ray Serve"):
            image_dir = ws.root / "ray" / "images" / spec.name / str(spec.version)
            shutil.rmtree(image_dir, ignore_errors=True)
            shutil.copytree(spec.context_dir, image_dir)
            requirements = _requirements(spec)
            report.log(f"Image {spec.tag}: files in {image_dir}; requires "
                       f"{', '.join(requirements) or 'nothing beyond the cluster Python'}")
        return {"image_dir": str(image_dir), "script": spec.execution_script, "requirements": requirements,
                "image": [spec.name, spec.version]}

    def remove_image(self, ws: Workspace, image: dict[str, Any]) -> None:
        shutil.rmtree(image.get("image_dir", ""), ignore_errors=True)

    # --- services ----------------------------------------------------------------------------------------

    def start_service(self, ws: Workspace, spec: ServiceSpec, report: Reporter) -> dict[str, Any]:
        record = spec.options.get("compute")
        if not record:
            raise TargetUnavailable("The ray target deploys to a Ray cluster: pass deployment_target=ComputeTarget(ws, "
                                    "name) with an AksWebservice.deploy_configuration(...).")
        app = application(spec, write_keys(ws, spec))
        report.log("Replicas install " + (", ".join(app["runtime_env"].get("uv", [])) or
                                          "nothing: the cluster's Python has every requirement"), source="server")
        replicas = spec.options.get("deployment", {}).get("num_replicas") or \
            spec.options.get("deployment", {}).get("autoscaling_config", {}).get("min_replicas", 1)
        base = f"http://{record.get('http_host', '127.0.0.1')}:{record.get('http_port', 8000)}/{spec.name}"
        # "image": the version this handle's replicas serve. The registry keeps the handle of the last deployment
        # that became Healthy until a new one does (see below), so after a failed update it names the version still
        # serving, which AksWebservice.scale() and update() without new code deploy again (core/aks.py).
        handle = {"cluster": record, "app": spec.name, "scoring_uri": f"{base}/score",
                  "swagger_uri": f"{base}/swagger.json", "port": record.get("http_port"),
                  "image": spec.image.get("image")}
        before = serve_api.details(record).get("applications", {}).get(spec.name)
        since = time.time()
        with report.step(events.START, f"Serve application {spec.name!r} on {record.get('address', '')}"):
            serve_api.put_application(record, app, spec.name)
        if before is None:
            report.started(handle)  # a new application: tracked from now on
        # else: an update in place of the application the registry already tracks (its old handle stays there, so
        # a failed update still names the version that keeps serving).
        with report.step(events.HEALTH, f"{replicas} replica(s) run init(), then answer"):
            _wait_running(record, spec.name, replicas, report, first=before is None, since=since,
                          serving=_serving(before))
        return handle

    def status(self, ws: Workspace, handle: dict[str, Any]) -> ServiceStatus:
        try:
            app = serve_api.details(handle["cluster"]).get("applications", {}).get(handle["app"])
        except WebserviceException as exc:
            return ServiceStatus("Unhealthy", str(exc))
        if app is None:
            return ServiceStatus("Unhealthy", f"Application {handle['app']!r} is not on the Ray cluster any more; "
                                              "deploy it again.")
        return ServiceStatus(_STATES.get(app.get("status", ""), "Unhealthy"), app.get("message", ""))

    def replicas(self, handle: dict[str, Any]) -> list[dict[str, Any]]:
        """The service's replicas now: replica_id, state, pid, node_id (from Serve's status)."""
        app = serve_api.details(handle["cluster"]).get("applications", {}).get(handle["app"]) or {}
        return list((app.get("deployments", {}).get(DEPLOYMENT) or {}).get("replicas") or [])

    def logs(self, ws: Workspace, handle: dict[str, Any], tail: int | None = None) -> str:
        """The replicas' own logs (Serve writes one file per replica under the cluster's session folder)."""
        folder = Path(handle["cluster"].get("ray_dir", "")) / "session_latest" / "logs" / "serve"
        parts = []
        for path in sorted(folder.glob(f"replica_{handle['app']}_*.log")):
            lines = path.read_text(errors="replace").splitlines()
            parts.append(f"== {path.name} ==\n" + "\n".join(lines[-tail:] if tail else lines))
        return "\n".join(parts) or f"No replica logs under {folder} (an attached cluster keeps them on its nodes)."

    def stop_service(self, ws: Workspace, handle: dict[str, Any]) -> None:
        with contextlib.suppress(WebserviceException):  # the cluster is gone: so is the application
            serve_api.put_application(handle["cluster"], None, handle["app"])
        shutil.rmtree(ws.root / "ray" / "services" / handle["app"], ignore_errors=True)

    def running(self, ws: Workspace, services: dict[str, dict[str, Any]]) -> list[Running]:
        return [Running("service", self.name, name, self.status(ws, h).state if h else "Transitioning",
                        None, h.get("port") if h else None) for name, h in services.items()]


def attach(settings: dict[str, Any]) -> dict[str, Any]:
    """An existing cluster: its dashboard address (``http://host:8265``, or ``ray://host:10001`` read as the same
    host's dashboard) and the Serve HTTP port."""
    address = settings["address"]
    host = "127.0.0.1" if address == "auto" else address.split("://")[-1].rsplit(":", 1)[0]
    dashboard = settings.get("dashboard_url") or (address if address.startswith("http") else f"http://{host}:8265")
    record = {"address": address, "dashboard_url": dashboard, "http_host": settings.get("http_host") or host,
              "http_port": int(settings.get("http_port") or 8000), "token_path": settings.get("token_path"),
              "started_here": False}
    cluster.wait_dashboard(record, timeout=15)
    return record


def write_keys(ws: Workspace, spec: ServiceSpec) -> str | None:
    """The service's keys in a file only its owner reads (None: no key auth).

    The application config is public to anyone who can see the Ray dashboard (Serve shows it whole), so it names
    this file, not the keys; the file's name carries a digest of the keys, so new keys (``regen_key``) change the
    config and Serve rolls the replicas over to them. Like the image's folder, the file must be readable by the
    cluster's nodes (a shared filesystem, or the same machine)."""
    if not spec.auth_keys:
        return None
    keys = "\n".join(spec.auth_keys)
    folder = ws.root / "ray" / "services" / spec.name
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"keys-{hashlib.sha256(keys.encode()).hexdigest()[:16]}"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(keys)
    return str(path)


def application(spec: ServiceSpec, keys_file: str | None = None) -> dict[str, Any]:
    """The Serve application config of a service (the ``applications`` entry of ``serve deploy``'s YAML)."""
    image = spec.image
    app = {"dir": image["image_dir"], "script": image["script"], "name": spec.name, "keys_file": keys_file,
           "scoring_timeout_ms": spec.scoring_timeout_ms, "environment": dict(spec.environment),
           "image": image.get("image")}
    runtime_env: dict[str, Any] = {}
    missing = to_install(image.get("requirements") or [], (spec.options.get("compute") or {}).get("python"))
    if missing:
        runtime_env["uv"] = missing
    deployment = {"name": DEPLOYMENT, "max_surge_percent": 100, **spec.options.get("deployment", {})}
    return {"name": spec.name, "route_prefix": f"/{spec.name}", "import_path": "aci_widgets.targets.ray.replica:build",
            "args": {"app": app}, "runtime_env": runtime_env, "deployments": [deployment]}


def _requirements(spec: ImageSpec) -> list[str]:
    """The image's pinned set when it has a lock, else its requirement lines (``to_install`` keeps what the
    cluster lacks)."""
    lines = [ln.split("#")[0].strip().split(" \\")[0] for ln in (spec.lock or "").splitlines()]
    pinned = [ln for ln in lines if ln and not ln.startswith(("-", "#"))]
    return pinned or [r for r in spec.requirements if r.strip()]


def to_install(requirements: list[str], cluster_python: str | None) -> list[str]:
    """What the replicas' ``runtime_env`` must install (an empty list: the replicas run in the cluster's Python as
    it is, with no per-replica virtualenv, which took 90 s for the runtime's lock alone).

    Never the runtime's own packages (``runtime.REQUIREMENTS``): a replica serves through Serve's proxy with the
    cluster's aci_widgets, which brings them. On a cluster this Python started (its workers run ``sys.executable``'s
    environment) also none of the lines this environment already satisfies; of any other cluster's Python nothing
    is known, so the rest is installed."""
    from aci_widgets.runtime import REQUIREMENTS

    runtime = {_name(r) for r in REQUIREMENTS}
    wanted = [line for line in requirements if _name(line) not in runtime]
    if cluster_python != sys.executable:
        return wanted
    return [line for line in wanted if not _satisfied(line)]


def _name(line: str) -> str:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        return canonicalize_name(Requirement(line).name)
    except InvalidRequirement:
        return line


def _satisfied(line: str) -> bool:
    """A requirement line this Python's installed distributions meet (a line it cannot read counts as unmet)."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(line)
    except InvalidRequirement:
        return False
    if req.marker is not None and not req.marker.evaluate():
        return True  # a line for another platform or Python: nothing to install here
    if req.url:
        return False
    try:
        return req.specifier.contains(version(req.name), prereleases=True)
    except PackageNotFoundError:
        return False


def _serving(app: dict[str, Any] | None) -> str:
    """Which version an application serves, as ``name:version`` ('' when Serve does not say: not running)."""
    if not app or app.get("status") != "RUNNING":
        return ""
    image = ((app.get("deployed_app_config") or {}).get("args") or {}).get("app", {}).get("image")
    return f"{image[0]}:{image[1]}" if image else ""


def _wait_running(record: dict[str, Any], name: str, replicas: int, report: Reporter, first: bool,
                  since: float, serving: str = "") -> None:
    """Until Serve has taken the new config (``last_deployed_time_s``) and runs it, or failed it."""
    deadline, shown = time.monotonic() + DEPLOY_TIMEOUT, ""
    while time.monotonic() < deadline:
        try:
            report.check_cancelled()
        except OperationCancelled:
            if first:
                serve_api.put_application(record, None, name)
            raise
        try:
            app = serve_api.details(record).get("applications", {}).get(name) or {}
        except WebserviceException:  # the dashboard restarting (a loaded machine): wait for it, else fail
            cluster.wait_dashboard(record, timeout=120)
            continue
        deployment = (app.get("deployments") or {}).get(DEPLOYMENT) or {}
        running = sum(r.get("state") == "RUNNING" for r in deployment.get("replicas") or [])
        line = f"{running} of {replicas} replicas Healthy ({app.get('status', 'NOT_STARTED')})"
        if line != shown:
            report.log(line, source="server")
            shown = line
        if app.get("last_deployed_time_s", 0) < since - 1:
            time.sleep(0.2)
            continue
        if app.get("status") == "RUNNING":
            return
        if app.get("status") == "DEPLOY_FAILED" or deployment.get("status") == "DEPLOY_FAILED":
            message = deployment.get("message") or app.get("message") or ""
            if first:
                serve_api.put_application(record, None, name)
            raise WebserviceException(
                f"Service {name!r} failed to start on Ray: its replicas' init() raised" + ("" if first else
                f"; the previous version{f' ({serving})' if serving else ''} keeps serving, and scale() or "
                "update() without a new image deploy that version again (never this one). Fix score.py and "
                "update(image=...) again."), message)
        time.sleep(0.5)
    raise WebserviceException(f"Service {name!r} was not running on Ray after {DEPLOY_TIMEOUT:.0f} s.")
