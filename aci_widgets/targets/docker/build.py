"""Running a classic-builder ``docker build`` and turning its stream into log lines, an image id, or an error.

The engine does not raise when a step fails: the stream ends with a chunk holding ``error``. We read the
stream in a helper thread so that a cancel is seen at once even while a step is silent; cancelling closes the
connection (the engine then stops the build) and removes the layers this build had made, so nothing half-built
stays behind.
"""

from __future__ import annotations

import contextlib
import json
import queue
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docker
from docker.errors import APIError, NotFound

from ...core.errors import ImageBuildError, OperationCancelled
from ...core.piplog import root_cause
from ...core.uvtool import reason as uv_reason
from .client import api_kwargs, docker_client

if TYPE_CHECKING:
    from ...core.operation import Reporter

_STEP = re.compile(r"^Step \d+/\d+ : ")
_RUNNING = re.compile(r"^ ---> Running in ([0-9a-f]{12,64})\s*$")
_LAYER = re.compile(r"^ ---> ([0-9a-f]{12,64})\s*$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DONE = object()


class _BuildClient(docker.APIClient):
    """An APIClient that keeps the build's HTTP response, so that a cancel can close it."""

    response: Any = None

    def _stream_helper(self, response: Any, decode: bool = False) -> Iterator[Any]:
        self.response = response
        return super()._stream_helper(response, decode=decode)

    def cut(self) -> None:
        """Close the build connection: the engine cancels a build whose client went away."""
        if self.response is None:
            return
        with contextlib.suppress(Exception):
            sock = self._get_raw_response_socket(self.response)
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self.response.close()


@dataclass
class _Progress:
    """What the stream has told so far: the current step, its output, the layers made, the build container."""

    step: str = ""
    step_lines: list[str] = field(default_factory=list)
    new_layers: list[str] = field(default_factory=list)
    cached: bool = False
    running: str | None = None
    image_id: str | None = None
    partial: str = ""

    def feed(self, text: str) -> list[str]:
        """Add stream text; return the complete lines in it (a RUN step's output may arrive in pieces)."""
        self.partial += _ANSI.sub("", text)
        *lines, self.partial = self.partial.split("\n")
        for line in lines:
            self._note(line)
        return lines

    def flush(self) -> list[str]:
        rest, self.partial = self.partial, ""
        if rest:
            self._note(rest)
            return [rest]
        return []

    def _note(self, line: str) -> None:
        if _STEP.match(line):
            # A FROM step names the base image: never ours to remove, so count it as a cache hit.
            from_step = _STEP.sub("", line).upper().startswith("FROM ")
            self.step, self.step_lines, self.cached, self.running = line.strip(), [], from_step, None
            return
        if line.startswith(" ---> Using cache"):
            self.cached = True
        elif m := _RUNNING.match(line):
            self.running = m.group(1)
        elif m := _LAYER.match(line):
            if not self.cached:
                self.new_layers.append(m.group(1))
            self.running = None
        elif line.strip():
            self.step_lines.append(line)


def stream_build(context: Path, tag: str, labels: dict[str, str], report: Reporter) -> str:
    """Build ``context`` as ``tag``, logging every line; return the image id.

    Raises ImageBuildError on failure, OperationCancelled on cancel, in both cases after removing what this
    build had made.
    """
    api = _BuildClient(timeout=None, **api_kwargs())
    progress = _Progress()
    if labels:  # one LABEL step, not one per label as the API's labels make (each a container: ~0.2 s)
        with open(context / "Dockerfile", "a") as dockerfile:
            dockerfile.write("LABEL " + " ".join(f"{json.dumps(k)}={json.dumps(v)}" for k, v in labels.items()) + "\n")
    chunks: queue.Queue[Any] = queue.Queue()

    def read() -> None:
        try:
            for chunk in api.build(path=str(context), tag=tag, decode=True, rm=True, forcerm=True):
                chunks.put(chunk)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            chunks.put(exc)
        finally:
            chunks.put(_DONE)

    reader = threading.Thread(target=read, name=f"docker build {tag}", daemon=True)
    reader.start()
    try:
        while True:
            if report.cancelled:
                _abandon(api, reader, progress, tag)
                raise OperationCancelled(
                    f"The build of {tag} was cancelled; its partial layers were removed.")
            try:
                chunk = chunks.get(timeout=0.1)
            except queue.Empty:
                continue
            if chunk is _DONE:
                break
            if isinstance(chunk, BaseException):
                if report.cancelled:
                    continue
                _abandon(api, reader, progress, tag)
                raise ImageBuildError(f"The Docker engine stopped the build of {tag}: {chunk}") from chunk
            if "stream" in chunk:
                for line in progress.feed(chunk["stream"]):
                    report.log(line, "build")
            if "aux" in chunk and isinstance(chunk["aux"], dict) and chunk["aux"].get("ID"):
                progress.image_id = chunk["aux"]["ID"]
            if "error" in chunk or "errorDetail" in chunk:
                for line in progress.flush():
                    report.log(line, "build")
                _abandon(api, reader, progress, tag)
                raise _build_error(tag, progress, chunk)
        for line in progress.flush():
            report.log(line, "build")
        if progress.image_id is None:
            raise ImageBuildError(f"The build of {tag} ended without an image.",
                                  detail="\n".join(progress.step_lines[-20:]))
        return progress.image_id
    except KeyboardInterrupt:  # called outside an Operation and interrupted: leave nothing half-built either
        _abandon(api, reader, progress, tag)
        raise
    finally:
        api.close()


def _build_error(tag: str, progress: _Progress, chunk: dict[str, Any]) -> ImageBuildError:
    detail_msg = (chunk.get("errorDetail") or {}).get("message") or chunk.get("error") or "unknown error"
    step = progress.step or "the build"
    errors = [line for line in progress.step_lines if line.lstrip().startswith("ERROR:")]
    shown = errors or progress.step_lines[-20:]
    # uv's own reason (error: + cause:) when uv installed, else pip's root cause (its own last words are
    # "subprocess-exited-with-error").
    uv_step = " pip sync " in progress.step and "/uv " in progress.step
    cause = uv_reason(progress.step_lines) if uv_step else root_cause(progress.step_lines)
    return ImageBuildError(f"Building image {tag} failed at {step}" + (f"\n{cause}" if cause else ""),
                           detail="\n".join([*shown, detail_msg.strip()]))


def _abandon(api: _BuildClient, reader: threading.Thread, progress: _Progress, tag: str) -> None:
    """Stop the build and remove its build container and the layers it made (not the cached ones)."""
    api.cut()
    reader.join(timeout=10)
    client = docker_client()
    if progress.running:
        # forcerm makes the engine remove it; wait a little for that, then remove it ourselves.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.containers.get(progress.running)
            except NotFound:
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(APIError):
                client.containers.get(progress.running).remove(force=True)
    if progress.image_id:
        progress.new_layers.append(progress.image_id)
    if not progress.new_layers:
        return
    ours = tuple(layer.split(":")[-1] for layer in progress.new_layers)
    with contextlib.suppress(APIError):
        if client.images.get(tag).id.split(":")[-1].startswith(ours):
            client.images.remove(tag)
    # Removing the newest layer prunes its untagged parents that nothing else uses: this build's layers.
    for layer in reversed(progress.new_layers):
        with contextlib.suppress(APIError):
            client.images.remove(layer)
            break
