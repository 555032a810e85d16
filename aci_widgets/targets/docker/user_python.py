"""``user_managed_dependencies=True`` on the Docker target: the base image's own Python runs the scoring runtime.

As on Azure, nothing of the environment is installed: no venv, no conda file, no pip step. Azure's inference
server needs ``azureml-defaults`` in such an image; ours needs only what ``aci_widgets.runtime`` needs
(:data:`aci_widgets.runtime.REQUIREMENTS`: httptools, orjson, pysimdjson). The image's interpreter is asked once,
in a throw-away container, for its version and for those modules. When some are missing they are installed into a
folder of their own (:data:`DEPS`, on ``PYTHONPATH``), never into the image's Python, and a notice says so and how
to make the base image provide them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from docker.errors import APIError, ContainerError, ImageNotFound

from ... import runtime
from ...core.errors import ImageBuildError
from .client import docker_client
from .dockerfile import DEPS

DEFAULT_INTERPRETER = "python"  # azureml's default interpreter_path
# The runtime's distributions and the module each one provides.
_MODULES = {"httptools": "httptools", "orjson": "orjson", "pysimdjson": "simdjson"}
_PROBE = ("import importlib.util, json, sys; print(json.dumps({'executable': sys.executable, "
          "'version': '%d.%d.%d' % sys.version_info[:3], "
          "'missing': [m for m in sys.argv[1:] if importlib.util.find_spec(m) is None]}))")


@dataclass(frozen=True)
class UserPython:
    """The base image's interpreter: what to run (``command``), its version, the runtime modules it lacks."""

    command: str
    executable: str
    version: str
    missing: tuple[str, ...]

    @property
    def missing_requirements(self) -> list[str]:
        """The runtime's requirement lines whose module this Python lacks."""
        wanted = {dist for dist, module in _MODULES.items() if module in self.missing}
        return [req for req in runtime.REQUIREMENTS if _dist(req) in wanted]

    def notice(self, base: str) -> str:
        needed = " ".join(f"'{req}'" for req in runtime.REQUIREMENTS)
        return (f"user_managed_dependencies=True: the service runs {self.executable} (Python {self.version}) of "
                f"{base} and nothing of the environment is installed. That Python lacks "
                f"{', '.join(self.missing_requirements)}, which the scoring runtime needs: installed into {DEPS}, "
                f"apart from the image's own packages. To have nothing installed at all, make the base image "
                f"provide them: RUN {self.command} -m pip install {needed}")


def probe(base: str, interpreter_path: str | None) -> UserPython:
    """Run ``interpreter_path`` (azureml's default ``python``, else ``python3``) of ``base`` once and ask it."""
    wanted = interpreter_path or DEFAULT_INTERPRETER
    candidates = [wanted] + (["python3"] if wanted == DEFAULT_INTERPRETER else [])
    failures = []
    for command in candidates:
        try:
            out = _run_once(base, command, ["-c", _PROBE, *_MODULES.values()])
        except ImageNotFound as exc:
            raise ImageBuildError(f"Base image {base} is not on the Docker engine: {exc.explanation}") from exc
        except (ContainerError, APIError) as exc:
            failures.append(f"{command}: {_reason(exc)}")
            continue
        try:
            found = json.loads(out.decode("utf-8", "replace").strip().splitlines()[-1])
        except (ValueError, IndexError):
            failures.append(f"{command}: it printed {out[-300:]!r}, not its version")
            continue
        return UserPython(command, found["executable"], found["version"], tuple(found["missing"]))
    raise ImageBuildError(
        f"user_managed_dependencies=True runs the base image's own Python, but {base} has none that runs "
        f"({'; '.join(failures)}). Set env.python.interpreter_path to the image's Python (e.g. "
        "'/opt/conda/bin/python'), use a base image with Python 3 (env.docker.base_image), or set "
        "user_managed_dependencies=False to have the environment installed.")


def assume(interpreter_path: str | None) -> UserPython:
    """Without an engine to ask (a build context saved for later): the interpreter as given, lacking everything."""
    command = interpreter_path or DEFAULT_INTERPRETER
    return UserPython(command, command, "3", tuple(_MODULES.values()))


def _run_once(base: str, executable: str, args: list[str]) -> bytes:
    """The output of ``executable args`` in a fresh container of ``base``, removed afterwards whatever happened
    (the engine leaves a container whose executable is not found in the ``created`` state)."""
    container = docker_client().containers.create(base, args, entrypoint=[executable], network_disabled=True)
    try:
        container.start()
        status = container.wait().get("StatusCode", 1)
        out = container.logs(stdout=True, stderr=True)
        if status != 0:
            raise ContainerError(container, status, [executable, *args], base, out)
        return out
    finally:
        container.remove(force=True)


def _dist(requirement: str) -> str:
    return requirement.split(">")[0].split("=")[0].split("<")[0].strip().lower()


def _reason(exc: Exception) -> str:
    text = getattr(exc, "explanation", None) or getattr(exc, "stderr", None) or str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())[:300]
