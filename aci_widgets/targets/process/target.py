"""The process target: an image is a cached virtualenv plus a folder; a service is the scoring server
running from that folder as a local process on 127.0.0.1. The embedded default when no Docker engine answers.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import aci_widgets

from ...core import events
from ...core.errors import OperationCancelled, WebserviceException
from ...core.operation import Reporter
from ...core.target import ImageSpec, Running, ServiceSpec, ServiceStatus, Target
from ...core.usage import Usage
from ...core.uvtool import LOCK_NAME
from ...core.workspace import Workspace
from . import housekeeping, prewarm
from .envs import ensure_env, env_python
from .processes import LogFollower, answers, is_running, start_ticks, stop_servers_in, tail, terminate
from .usage import tree_usage
from .user_python import check_user_python

RUNTIME_COPY = ".aci_widgets"  # the package copy inside each image, on the server's PYTHONPATH
_SCRUBBED_ENV = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")


class ProcessTarget(Target):
    name = "process"

    # --- images --------------------------------------------------------------------------------------------

    def build_image(self, ws: Workspace, spec: ImageSpec, report: Reporter) -> dict[str, Any]:
        with report.step(events.BUILD, f"{spec.tag} on the process target"):
            if spec.base_image:
                report.notice(f"base_image {spec.base_image!r} is used by the Docker target only.", "warning")
            if spec.base_dockerfile:
                report.notice("env.docker.base_dockerfile is used by the Docker target only.", "warning")
            if spec.python:  # user-managed dependencies: that Python as it is, nothing installed
                check_user_python(spec.python, report)
                env, key = Path(spec.python), f"user-managed {spec.python}"
                report.notice(f"Using {spec.python} and its own packages (user_managed_dependencies=True).")
            else:
                env, key = ensure_env(spec.requirements, report, spec.lock, spec.python_version)
            report.check_cancelled()
            image_dir = ws.root / "process" / "images" / spec.name / str(spec.version)
            staging = image_dir.with_name(f"{spec.version}.staging")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(spec.context_dir, staging)
            _copy_runtime(staging / RUNTIME_COPY / "aci_widgets")
            # Byte-compile now (this machine may set PYTHONDONTWRITEBYTECODE): a cold server start then skips
            # compiling the runtime and score.py every time. Same interpreter as the env, so the .pyc files fit.
            compileall.compile_dir(str(staging), quiet=2, workers=1)
            shutil.rmtree(image_dir, ignore_errors=True)
            os.replace(staging, image_dir)
            report.log(f"Image {spec.tag}: environment {key}, files in {image_dir}")
        return {"env": str(env), "env_key": key, "image_dir": str(image_dir), "script": spec.execution_script,
                "requirements": spec.requirements, **({"python": spec.python} if spec.python else {}),
                **_lock(env, spec)}

    def remove_image(self, ws: Workspace, image: dict[str, Any]) -> None:
        shutil.rmtree(image.get("image_dir", ""), ignore_errors=True)

    # --- services ------------------------------------------------------------------------------------------

    def start_service(self, ws: Workspace, spec: ServiceSpec, report: Reporter) -> dict[str, Any]:
        image = spec.image
        service_dir = ws.root / "process" / "services" / spec.name
        shutil.rmtree(service_dir, ignore_errors=True)
        app_dir = service_dir / "app"
        shutil.copytree(image["image_dir"], app_dir, copy_function=_link_or_copy)
        workers = max(1, round(spec.cpu_cores))
        if spec.cpu_cores != 1 or spec.memory_gb != 1:
            report.notice(f"cpu_cores={spec.cpu_cores:g} runs {workers} worker process(es); cpu_cores and memory_gb "
                          "are enforced as limits on the Docker target only.")
        launch = {
            "python": image.get("python") or str(env_python(Path(image["env"]))),
            "app_dir": str(app_dir), "script": image["script"], "name": spec.name,
            "max_body_bytes": spec.max_body_bytes, "keys": list(spec.auth_keys or ()),
            "scoring_timeout_ms": spec.scoring_timeout_ms, "allowed_hosts": list(spec.allowed_hosts),
            "cors_origins": list(spec.cors_origins),
            "environment": dict(spec.environment), "workers": workers, "user_managed": bool(image.get("python")),
        }
        return self._launch(service_dir, launch, spec.port or 0, report)

    def _launch(self, service_dir: Path, launch: dict[str, Any], port: int, report: Reporter) -> dict[str, Any]:
        app_dir = Path(launch["app_dir"])
        log_path, ready_path = service_dir / "service.log", service_dir / "ready.json"
        ready_path.unlink(missing_ok=True)
        command = [launch["python"], "-m", "aci_widgets.runtime", "--score", str(app_dir / launch["script"]),
                   "--model-dir", str(app_dir / "azureml-models"), "--host", "127.0.0.1", "--port", str(port),
                   "--ready-file", str(ready_path), "--name", launch["name"],
                   "--max-body-bytes", str(launch["max_body_bytes"]), "--workers", str(launch.get("workers", 1))]
        command += _limit_flags(launch, app_dir, log_path)
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
        if not launch.get("user_managed"):
            # Our cached environment: let its first start write the bytecode it compiles (uv installs none), so
            # later starts skip compiling (scikit-learn's imports: about 3 s of CPU) even where the machine sets
            # PYTHONDONTWRITEBYTECODE. A deployment's own environment variables still win.
            env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(launch["environment"], PYTHONPATH=str(app_dir / RUNTIME_COPY), PYTHONNOUSERSITE="1",
                   PYTHONUNBUFFERED="1")
        if launch["keys"]:
            env["ACI_WIDGETS_AUTH_KEYS"] = ",".join(launch["keys"])
        handle = {"pid": None, "ticks": None, "service_dir": str(service_dir), "log": str(log_path),
                  "launch": launch}
        # The start token first: a deployer killed between spawning the server and recording its pid leaves a
        # server that stop_service still finds, by the folder it works in (servers_in).
        report.started({**handle, "port": port or None})
        with report.step(events.START, f"scoring server for {launch['name']!r} on 127.0.0.1"), \
                open(log_path, "ab", opener=_private) as log:
            # A fork of the environment's warm process when possible (it announces why not), else a fresh one.
            # Not for a user-managed Python: its pre-warmed process would live in the user's own interpreter prefix.
            proc: subprocess.Popen[bytes] | prewarm.ForkedServer | None = None if launch.get("user_managed") \
                else prewarm.start(command, app_dir, env, launch["environment"], log_path, report)
            if proc is None:
                proc = subprocess.Popen(command, cwd=app_dir, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
            ticks = start_ticks(proc.pid)
        handle.update(pid=proc.pid, ticks=ticks)
        try:
            report.started({**handle, "port": port or None})  # recorded before it answers: never untracked
            with report.step(events.HEALTH, "init() runs, then the server answers"):
                ready = _wait_ready(proc, ready_path, LogFollower(log_path), report)
        except BaseException:
            terminate(proc.pid, ticks)
            raise
        base = f"http://127.0.0.1:{ready['port']}"
        handle.update(port=ready["port"], scoring_uri=f"{base}/score", swagger_uri=f"{base}/swagger.json")
        return handle

    def status(self, ws: Workspace, handle: dict[str, Any]) -> ServiceStatus:
        if handle.get("pid") is None:  # only its start token is recorded yet
            return ServiceStatus("Transitioning")
        if not is_running(handle["pid"], handle.get("ticks")):
            return ServiceStatus("Unhealthy", "The service's process has exited; redeploy it or look at "
                                              "service.get_logs().", tail(Path(handle["log"]), 20))
        if answers(f"http://127.0.0.1:{handle['port']}/"):
            return ServiceStatus("Healthy")
        return ServiceStatus("Unhealthy", f"The service's process runs but does not answer on port "
                                          f"{handle['port']}.", tail(Path(handle["log"]), 20))

    def logs(self, ws: Workspace, handle: dict[str, Any], tail_lines: int | None = None,
             tail: int | None = None) -> str:
        return _tail(Path(handle["log"]), tail if tail is not None else tail_lines)

    def usage(self, ws: Workspace, handle: dict[str, Any]) -> Usage | None:
        """The server's process tree (supervisor, workers, log writer): CPU over a quarter second, memory (PSS)."""
        if handle.get("pid") is None or not is_running(handle["pid"], handle.get("ticks")):
            return Usage(0.0, 0)  # it exited: nothing in use (its state says Unhealthy)
        return tree_usage(handle["pid"]) or Usage(0.0, 0)

    def running(self, ws: Workspace, services: dict[str, dict[str, Any]]) -> list[Running]:
        return housekeeping.running(ws, services, self.status)

    def stop_unused(self, ws: Workspace, services: dict[str, dict[str, Any]]) -> list[Running]:
        return housekeeping.stop_unused(ws, services)

    def stop_service(self, ws: Workspace, handle: dict[str, Any]) -> None:
        if handle.get("pid") is not None:
            terminate(handle["pid"], handle.get("ticks"))
        stop_servers_in(Path(handle["service_dir"]))  # one whose pid was never recorded, too (its start token)
        shutil.rmtree(handle["service_dir"], ignore_errors=True)

    def reload_service(self, ws: Workspace, handle: dict[str, Any], files: dict[str, Path],
                       report: Reporter) -> dict[str, Any]:
        """Restart on the same port with ``files`` put over the service's copy of its image."""
        if handle.get("pid") is not None:
            terminate(handle["pid"], handle.get("ticks"))
        stop_servers_in(Path(handle["service_dir"]))
        app_dir = Path(handle["launch"]["app_dir"])
        for rel, source in files.items():
            target = app_dir / rel
            target.unlink(missing_ok=True)  # the old one may be a hard link into the image: never write through
            shutil.copyfile(source, target)
            report.log(f"Updated {rel} from {source}", "service")
        return self._launch(Path(handle["service_dir"]), handle["launch"], handle["port"], report)


def _lock(env: Path, spec: ImageSpec) -> dict[str, str]:
    """The environment's lock for the registry (core keeps it with the image; a rebuild installs exactly it)."""
    if spec.python:
        return {}
    lock = env / LOCK_NAME
    return {"lock": lock.read_text()} if lock.is_file() else {}


def _limit_flags(launch: dict[str, Any], app_dir: Path, log_path: Path) -> list[str]:
    """The runtime flags of issue 11, only where the image's copy of the runtime knows them (an image built by an
    older version has no logfile.py, and its argparse would refuse them): the rest keep their old defaults."""
    if not (app_dir / RUNTIME_COPY / "aci_widgets" / "runtime" / "logfile.py").is_file():
        return []
    flags = ["--log-file", str(log_path)]  # the runtime rotates it; stdout below catches what comes before
    if launch.get("scoring_timeout_ms", 60000) != 60000:
        flags += ["--scoring-timeout-ms", str(launch["scoring_timeout_ms"])]
    for name in ("allowed_hosts", "cors_origins"):
        if launch.get(name):
            flags += ["--" + name.replace("_", "-"), ",".join(launch[name])]
    return flags


def _tail(path: Path, lines: int | None) -> str:
    return tail(path, lines)


def _wait_ready(proc: subprocess.Popen[bytes] | prewarm.ForkedServer, ready_path: Path, log: LogFollower,
                report: Reporter) -> dict[str, Any]:
    """Until the server writes its ready file: stream its log, watch for its exit, honour cancellation."""
    while True:
        for line in log.new_lines():
            report.log(line, "service")
        if ready_path.is_file():
            ready = json.loads(ready_path.read_text())
            if ready.get("status") == "ready":
                return ready
            proc.wait(timeout=10)
            for line in log.rest():
                report.log(line, "service")
            raise WebserviceException(f"init() failed in score.py: {ready.get('error', 'unknown error')}",
                                      ready.get("traceback", ""))
        if proc.poll() is not None:
            for line in log.rest():
                report.log(line, "service")
            raise WebserviceException(
                f"The scoring server exited with status {proc.returncode} before it was ready.",
                tail(log.path, 30))
        if report.cancelled:
            raise OperationCancelled("The deployment was cancelled; the server process was stopped.")
        time.sleep(0.01)


def _copy_runtime(dest: Path) -> None:
    """Copy what a service imports (the runtime, and the core for ``Model.get_model_path``), so the image runs
    the code it was built with whatever happens to the installed package later."""
    source = Path(aci_widgets.__file__).parent
    dest.mkdir(parents=True)
    shutil.copyfile(source / "__init__.py", dest / "__init__.py")
    for package in ("core", "runtime"):
        shutil.copytree(source / package, dest / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _private(path: str, flags: int) -> int:
    """Open a service log readable by its owner only (it may hold what run() prints)."""
    return os.open(path, flags, 0o600)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
