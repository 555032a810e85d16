"""The small interface every deployment target implements, and how a workspace picks one.

Targets live in ``aci_widgets.targets`` (one package each) and are found through the ``aci_widgets.targets``
entry-point group, so the core never imports them by name and a third party can add one.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import BaseImageUnavailable, TargetUnavailable, UserErrorException

if TYPE_CHECKING:
    from .operation import Reporter
    from .usage import Usage
    from .workspace import Workspace

TARGET_ENV = "ACI_WIDGETS_TARGET"
# Entry points of the targets shipped with the package, used when it runs from a source tree without metadata.
_BUILTIN = {
    "process": "aci_widgets.targets.process:ProcessTarget",
    "docker": "aci_widgets.targets.docker:DockerTarget",
    "aci": "aci_widgets.targets.aci:AciTarget",
    "ray": "aci_widgets.targets.ray:RayTarget",
}


@dataclass
class ImageSpec:
    """Everything a target needs to build an image, prepared by the core in ``context_dir``.

    ``context_dir`` holds the execution script and ``azureml-models/<name>/<version>/<files>``; targets copy it
    as it is, so ``Model.get_model_path`` answers the same on every target.
    """

    name: str
    version: int
    context_dir: Path
    execution_script: str                     # path relative to context_dir, e.g. "score.py"
    requirements: list[str]                   # pip requirement lines, mapped from the conda file
    python_version: str | None = None         # what the conda file asked for, if anything
    base_image: str | None = None
    models: list[tuple[str, int]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    python: str | None = None                 # user-managed dependencies: run this interpreter, install nothing
    interpreter: str | None = None            # user-managed: env.python.interpreter_path as set (image targets)
    environment_variables: dict[str, str] = field(default_factory=dict)  # the Environment's, for a saved context
    base_dockerfile: str | None = None        # env.docker.base_dockerfile: the Docker target builds on it
    lock: str | None = None                   # the environment's lock from an earlier build: install exactly it

    @property
    def tag(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass
class ServiceSpec:
    """A service to start: its name, its image, and the deployment configuration's settings."""

    name: str
    image: dict[str, Any]                     # the target's record of the image (from build_image)
    cpu_cores: float = 1.0
    memory_gb: float = 1.0
    auth_keys: tuple[str, str] | None = None  # (primary, secondary) when auth is enabled
    port: int | None = None                   # None: a free port on 127.0.0.1
    max_body_bytes: int = 100 * 1024 * 1024
    environment: dict[str, str] = field(default_factory=dict)
    scoring_timeout_ms: int = 60000           # a longer run() gets 504 (runtime --scoring-timeout-ms)
    allowed_hosts: tuple[str, ...] = ()       # Host names beside loopback's (runtime --allowed-hosts)
    cors_origins: tuple[str, ...] = ()        # runtime --cors-origins
    options: dict[str, Any] = field(default_factory=dict)  # target-specific: the ray target's cluster, replicas


@dataclass
class ServiceStatus:
    state: str                                # Transitioning, Healthy, Unhealthy, Failed
    error: str = ""
    detail: str = ""


@dataclass
class Running:
    """Something that runs on this machine for a workspace: a service, a pre-warmed process, a container."""

    kind: str                                 # "service", "pre-warmed process", "container"
    target: str
    name: str
    state: str = ""
    pid: int | None = None
    port: int | None = None
    detail: str = ""


@dataclass
class TargetChoice:
    """The target picked for an operation, why, and whether ``auto`` picked it (then it may give way)."""

    target: Target
    reason: str
    auto: bool = False


class Target(ABC):
    """A place where images are built and services run. All methods may block; they report through ``report``."""

    name: str = ""

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """None if this target can be used here, else one line saying why not and how to fix it."""
        return None

    @abstractmethod
    def build_image(self, ws: Workspace, spec: ImageSpec, report: Reporter) -> dict[str, Any]:
        """Build the image inside ``report.step(events.BUILD, ...)``; return the target's record of it
        (JSON-able), kept in the registry."""

    @abstractmethod
    def remove_image(self, ws: Workspace, image: dict[str, Any]) -> None:
        """Remove what build_image made (idempotent)."""

    @abstractmethod
    def start_service(self, ws: Workspace, spec: ServiceSpec, report: Reporter) -> dict[str, Any]:
        """Start the service (step ``events.START``) and wait until it answers (step ``events.HEALTH``); return its
        handle (JSON-able: scoring_uri, ids...).

        Call ``report.started(handle)`` as soon as the server exists (a pid, a container id), before waiting for it
        to answer, and earlier still with a start token if the target has one (something ``stop_service`` can find
        the server by before its id is known): a deployment killed at any moment then leaves nothing that
        ``delete()`` and the next open of the workspace cannot stop. ``status`` and ``stop_service`` must accept
        every handle so recorded.

        Raise ``WebserviceException`` (with the init() traceback as ``detail``) if it does not come up, after
        removing whatever was started. If ``report.cancelled`` becomes true, clean up and raise.
        """

    @abstractmethod
    def status(self, ws: Workspace, handle: dict[str, Any]) -> ServiceStatus:
        """The service's state now: Healthy when it answers, Unhealthy when it stopped answering, Failed."""

    @abstractmethod
    def logs(self, ws: Workspace, handle: dict[str, Any], tail: int | None = None) -> str:
        """The service's own output (the scoring server's log)."""

    @abstractmethod
    def stop_service(self, ws: Workspace, handle: dict[str, Any]) -> None:
        """Stop and remove the service (idempotent)."""

    def usage(self, ws: Workspace, handle: dict[str, Any]) -> Usage | None:
        """The running service's CPU and memory now, or None when this target cannot measure them (the service's
        requested size is shown instead)."""
        return None

    def reload_service(self, ws: Workspace, handle: dict[str, Any], files: dict[str, Path],
                       report: Reporter) -> dict[str, Any]:
        """Restart the service with ``files`` (path inside the app directory -> file on the host) put over its
        image's files, without rebuilding the image; wait for health; return the (possibly new) handle."""
        raise TargetUnavailable(f"The {self.name} target cannot reload a service; deploy it again instead.")

    def write_build_context(self, ws: Workspace, spec: ImageSpec, dest: Path) -> str | None:
        """Write into ``dest`` (a folder that must not exist) a build context that ``docker build dest`` accepts,
        the one ``build_image`` would build; return its Dockerfile text, or None if this target has none."""
        return None

    def check_base_image(self, ws: Workspace, base_image: str | None, report: Reporter) -> None:
        """Raise ``BaseImageUnavailable`` early if an image on ``base_image`` (None: the target's default) cannot
        be built here, naming the image, the target's own reason and the ways out. Targets without base images
        accept anything."""
        return None

    def running(self, ws: Workspace, services: dict[str, dict[str, Any]]) -> list[Running]:
        """What runs for ``ws`` on this target: each of ``services`` (name -> handle, ``{}`` while it deploys: the
        workspace's services here) and whatever else this target started for them (pre-warmed processes,
        containers)."""
        return [Running("service", self.name, name, self.status(ws, handle).state if handle else "Transitioning",
                        handle.get("pid"), handle.get("port")) for name, handle in services.items()]

    def stop_unused(self, ws: Workspace, services: dict[str, dict[str, Any]]) -> list[Running]:
        """Stop what this target runs for ``ws`` that none of ``services`` (as in ``running``) needs: a pre-warmed
        process with no server left, a server or container no service names. Return what was stopped."""
        return []


def target_class(name: str) -> type[Target]:
    """The target class registered under ``name``."""
    for ep in metadata.entry_points(group="aci_widgets.targets"):
        if ep.name == name:
            return ep.load()
    if name in _BUILTIN:
        module, _, attr = _BUILTIN[name].partition(":")
        return getattr(__import__(module, fromlist=[attr]), attr)
    known = sorted({ep.name for ep in metadata.entry_points(group="aci_widgets.targets")} | set(_BUILTIN))
    raise UserErrorException(f"Unknown target {name!r}; choose one of: auto, {', '.join(known)}.")


def choose_target(configured: str | None, explicit: str | None = None) -> tuple[Target, str]:
    """Pick the target: the one asked for in the call, else ``$ACI_WIDGETS_TARGET``, else the workspace's
    setting, else auto. Returns it with the reason, which the first progress event shows."""
    choice = choose(configured, explicit)
    return choice.target, choice.reason


def choose(configured: str | None, explicit: str | None = None) -> TargetChoice:
    """``choose_target``, also saying whether ``auto`` chose (see ``settle``)."""
    from_env = os.environ.get(TARGET_ENV, "").strip()
    if explicit:
        wanted, why = explicit, "asked for by deployment_target"
    elif from_env:
        wanted, why = from_env, f"set by ${TARGET_ENV}"
    elif configured and configured != "auto":
        wanted, why = configured, "set in the workspace configuration"
    else:
        wanted, why = "auto", ""
    if wanted == "auto":
        docker_reason = _reason_or_missing("docker")
        if docker_reason is None:
            return TargetChoice(target_class("docker")(), "auto: a Docker engine answered", auto=True)
        return TargetChoice(target_class("process")(), f"auto: {docker_reason}; using local processes", auto=True)
    cls = target_class(wanted)
    reason = cls.unavailable_reason()
    if reason is not None:
        raise TargetUnavailable(f"Target {wanted!r} ({why}) cannot be used: {reason}")
    return TargetChoice(cls(), why)


def settle(choice: TargetChoice, ws: Workspace, base_image: str | None, report: Reporter,
           build: bool = True) -> Target:
    """Emit the operation's first event (``TargetChosen``) and return the target to use.

    When ``auto`` chose a target that cannot build on ``base_image`` here (checked before anything is built, when
    ``build``), the process target takes over and the first notice says why. A target asked for by name is not
    checked here: its build fails with ``BaseImageUnavailable``, whose message says what to do.
    """
    from . import events

    target, reason, notice = choice.target, choice.reason, None
    if choice.auto and build and target.name != "process":
        try:
            target.check_base_image(ws, base_image, report)
        except BaseImageUnavailable as exc:
            notice = (f"The {target.name} target cannot get base image {exc.image}: {exc.reason}. It runs on the "
                      f"process target instead (auto). To build on {target.name}: {exc.fix}; to "
                      "choose the process target for good: ws.target = \"process\".")
            reason = f"auto: the {target.name} target cannot get base image {exc.image}; using local processes"
            target = target_class("process")()
    report.emit(events.TargetChosen, target=target.name, reason=reason)
    if notice:
        report.notice(notice, "warning")
    return target


def _reason_or_missing(name: str) -> str | None:
    try:
        return target_class(name).unavailable_reason()
    except (ImportError, UserErrorException) as exc:
        return f"the {name} target is not installed ({exc})"
