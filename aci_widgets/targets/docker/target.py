"""``DockerTarget``: images built by a local Docker engine, one container per service, on 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import json
import shutil
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docker.errors import APIError, NotFound

from ...core.errors import WebserviceException
from ...core.events import BUILD, HEALTH, START
from ...core.target import ImageSpec, Running, ServiceSpec, ServiceStatus, Target
from ...core.usage import Usage
from . import client as engine
from .build import stream_build
from .containers import (
    IMAGE_LABEL,
    WORKSPACE_LABEL,
    create_and_start,
    find_services,
    get_container,
    make_handle,
    port_of,
    published_port,
    put_files,
    remove_quietly,
)
from .dockerfile import AZURE_DEFAULT_BASES, DEFAULT_BASE, base_stage, prepare_context
from .health import exit_failure, http_ok, wait_for_health
from .images import ensure_base_image, remove_image
from .installer import choose_deps_installer, choose_installer
from .logstream import LogFollower
from .pipconf import build_pip_settings
from .stats import usage_from_stats
from .user_python import UserPython, assume, probe

if TYPE_CHECKING:
    from ...core.operation import Reporter
    from ...core.workspace import Workspace

VERSION_LABEL = "aci_widgets.version"


class DockerTarget(Target):
    """Builds with the local engine's classic builder and runs the scoring runtime in a container per service.

    Steps reported: ``BUILD`` in build_image, ``START`` then ``HEALTH`` in start_service and reload_service.
    """

    name = "docker"

    def __init__(self, health_timeout: float = 600.0) -> None:
        self.health_timeout = health_timeout

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return engine.unavailable_reason()

    # --- images ---

    def build_image(self, ws: Workspace, spec: ImageSpec, report: Reporter) -> dict[str, Any]:
        """Build ``<name>:<version>`` from a fresh context, streaming the engine's output line by line."""
        tag = spec.tag
        with report.step(BUILD, tag):
            spec = self._with_base_dockerfile(spec, report)
            self.check_base_image(ws, spec.base_image, report)
            user_python = self._user_python(spec, report)
            if user_python is None and spec.python_version and not spec.base_image \
                    and not spec.python_version.startswith("3.11"):
                report.notice(f"The environment asks for Python {spec.python_version}; the image uses the "
                              f"Python 3.11 of {DEFAULT_BASE}. Set a base image to choose another.")
            pip = build_pip_settings()
            if pip.skipped:
                report.notice("pip settings of this machine not passed to the build: " + "; ".join(pip.skipped))
            unique = f"{spec.name}-{spec.version}-{uuid.uuid4().hex[:8]}"
            context = Path(ws.root) / "docker" / "contexts" / unique
            installer = choose_deps_installer(spec, user_python, pip, report) if user_python is not None \
                else choose_installer(spec, pip, report)
            try:
                dockerfile = prepare_context(spec, context, pip, installer, user_python)
                labels = {WORKSPACE_LABEL: ws.name, IMAGE_LABEL: spec.name, VERSION_LABEL: str(spec.version)}
                image_id = stream_build(context, tag, labels, report)
            finally:
                shutil.rmtree(context, ignore_errors=True)
            image = engine.docker_client().images.get(image_id)
            return {"tag": tag, "id": image.id, "size": image.attrs.get("Size"), "dockerfile": dockerfile,
                    **({"lock": installer.lock} if installer.lock else {})}

    def write_build_context(self, ws: Workspace, spec: ImageSpec, dest: Path) -> str | None:
        """The context build_image builds from, for a user's own ``docker build`` (Model.package().save())."""
        spec = self._with_base_dockerfile(spec)
        user_python = None
        if spec.python is not None:  # user-managed: the base image's Python, as build_image would find it
            try:
                ensure_base_image(spec.base_image or DEFAULT_BASE)
                user_python = probe(spec.base_image or DEFAULT_BASE, spec.interpreter)
            except Exception:  # noqa: BLE001 - no engine here: a context that installs what may be missing
                user_python = assume(spec.interpreter)
        dockerfile = prepare_context(spec, dest, build_pip_settings(), user_python=user_python)
        if spec.environment_variables:  # set per container by start_service; a plain `docker run` needs them here
            env = "".join(f"ENV {k}={json.dumps(str(v))}\n" for k, v in spec.environment_variables.items())
            dockerfile += env
            with open(dest / "Dockerfile", "a") as file:
                file.write(env)
        return dockerfile

    @staticmethod
    def _with_base_dockerfile(spec: ImageSpec, report: Reporter | None = None) -> ImageSpec:
        """With ``env.docker.base_dockerfile``: the image its ``FROM`` names is the base (checked, pulled, asked
        for its Python), and its steps come first in the image's Dockerfile."""
        if not spec.base_dockerfile:
            return spec
        lines, image = base_stage(spec.base_dockerfile)
        if report is not None:
            report.notice(f"Building on env.docker.base_dockerfile ({len(lines)} line(s), FROM {image})"
                          + (f"; its Azure ML base image stands in as {DEFAULT_BASE}"
                             if AZURE_DEFAULT_BASES in spec.base_dockerfile else "") + ".")
        return replace(spec, base_image=None if image == DEFAULT_BASE else image)

    @staticmethod
    def _user_python(spec: ImageSpec, report: Reporter) -> UserPython | None:
        """User-managed dependencies (``spec.python`` set): the base image's own Python, asked what it lacks."""
        if spec.python is None:
            return None
        base = spec.base_image or DEFAULT_BASE
        user_python = probe(base, spec.interpreter)
        if user_python.missing:
            report.notice(user_python.notice(base))
        else:
            report.notice(f"user_managed_dependencies=True: the service runs {user_python.executable} (Python "
                          f"{user_python.version}) of {base}, as it is; nothing is installed.")
        return user_python

    def check_base_image(self, ws: Workspace, base_image: str | None, report: Reporter) -> None:
        """The engine has the base image, or pulls it now; else ``BaseImageUnavailable`` says what to do."""
        base = base_image or DEFAULT_BASE
        ensure_base_image(base, lambda: report.log(f"Pulling base image {base} (not on this Docker engine yet)."))

    def remove_image(self, ws: Workspace, image: dict[str, Any]) -> None:
        remove_image(ws.name, image)

    # --- services ---

    def start_service(self, ws: Workspace, spec: ServiceSpec, report: Reporter) -> dict[str, Any]:
        """Run the container and wait until ``GET /`` answers; on failure or cancel remove it, then raise."""
        container = None
        follower = None
        try:
            with report.step(START, spec.name):
                container = create_and_start(ws.name, spec,
                                             on_created=lambda created: report.started(make_handle(created, None)))
                follower = LogFollower(container, report).start()
                port = self._port_or_exit_failure(container, spec.name)
            with report.step(HEALTH, f"http://127.0.0.1:{port}/"):
                wait_for_health(container, port, spec.name, report, self.health_timeout)
            follower.stop()
            return make_handle(container, port)
        except BaseException:
            if follower is not None:
                follower.stop(drain=True)
            if container is not None:
                remove_quietly(container)
            raise

    def reload_service(self, ws: Workspace, handle: dict[str, Any], files: dict[str, Path],
                       report: Reporter) -> dict[str, Any]:
        """Put ``files`` into the container and restart it, without a rebuild: LocalWebservice.reload()."""
        service = self._service_name(handle)
        with report.step(START, f"reload {service}"):
            container = self._container(handle)
            put_files(container, files)
            since = time.time()
            container.restart(timeout=2)
            follower = LogFollower(container, report, since=since).start()
        try:
            port = self._port_or_exit_failure(container, service)
            with report.step(HEALTH, f"http://127.0.0.1:{port}/"):
                wait_for_health(container, port, service, report, self.health_timeout)
        finally:
            follower.stop()
        return make_handle(container, port)

    def status(self, ws: Workspace, handle: dict[str, Any]) -> ServiceStatus:
        try:
            container = get_container(handle)
        except NotFound:
            return ServiceStatus("Failed", "the container was removed outside aci_widgets")
        state = container.status
        if state == "running":
            port = port_of(container) or handle.get("port")  # a restart may have moved it
            if port and http_ok(int(port), timeout=2.0):
                return ServiceStatus("Healthy")
            return ServiceStatus("Unhealthy", f"the container runs but does not answer on port {port}")
        if state in ("created", "restarting"):
            return ServiceStatus("Transitioning")
        if state == "paused":
            return ServiceStatus("Unhealthy", "the container is paused")
        failure = exit_failure(container, self._service_name(handle, container))
        return ServiceStatus("Failed", failure.message, failure.detail)

    def logs(self, ws: Workspace, handle: dict[str, Any], tail: int | None = None) -> str:
        try:
            container = get_container(handle)
        except NotFound:
            raise WebserviceException(f"No logs: the container {handle.get('container_name')} was removed "
                                      "outside aci_widgets.") from None
        raw = container.logs(stdout=True, stderr=True, tail=tail if tail else "all")
        return raw.decode("utf-8", "replace")

    def usage(self, ws: Workspace, handle: dict[str, Any]) -> Usage | None:
        """The container's CPU and memory from one non-streaming stats call (the engine's own two samples)."""
        try:
            container = get_container(handle)
            if container.status != "running":
                return Usage(0.0, 0)
            return usage_from_stats(container.stats(stream=False))
        except NotFound:
            return Usage(0.0, 0)  # removed outside aci_widgets: its state says so

    def stop_service(self, ws: Workspace, handle: dict[str, Any]) -> None:
        with contextlib.suppress(NotFound):
            remove_quietly(get_container(handle))

    def running(self, ws: Workspace, services: dict[str, dict[str, Any]]) -> list[Running]:
        """Every container of the workspace (running or not), whether a service row names it or not."""
        return [Running("container", self.name, found["service"] or found["container_name"], found["state"],
                        None, found["port"], found["container_name"]
                        + ("" if found["service"] in services else " (no service row names it)"))
                for found in find_services(ws.name)]

    def stop_unused(self, ws: Workspace, services: dict[str, dict[str, Any]]) -> list[Running]:
        """Remove the workspace's containers that no service row names (left by a crashed kernel)."""
        stopped = []
        for found in find_services(ws.name):
            if found["service"] not in services:
                with contextlib.suppress(NotFound):
                    remove_quietly(get_container(found))
                stopped.append(Running("container", self.name, found["service"] or found["container_name"],
                                       "removed (no service row named it)", None, found["port"],
                                       found["container_name"]))
        return stopped

    # --- helpers ---

    @staticmethod
    def _port_or_exit_failure(container: Any, service: str) -> int:
        """The published port; a container that already exited (a fast init() failure) has none: say why."""
        port = published_port(container)
        if port is None:
            raise exit_failure(container, service)
        return port

    @staticmethod
    def _container(handle: dict[str, Any]) -> Any:
        try:
            return get_container(handle)
        except NotFound:
            raise WebserviceException(f"The container {handle.get('container_name')} was removed outside "
                                      "aci_widgets; deploy the service again.") from None

    @staticmethod
    def _service_name(handle: dict[str, Any], container: Any = None) -> str:
        if container is not None:
            with contextlib.suppress(APIError, AttributeError):
                return container.labels.get("aci_widgets.service") or container.name
        return str(handle.get("service") or handle.get("container_name") or "?")

