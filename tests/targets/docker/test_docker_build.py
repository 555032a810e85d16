"""Building images with a real engine: streamed logs, layer reuse, pip failures, and cancelling."""

from __future__ import annotations

import re
import threading
import types
from pathlib import Path
from typing import Any

import pytest
from docker.errors import ImageNotFound, NotFound
from docker_helpers import SCORE_PY, log_lines, make_context, run_op

from aci_widgets.core.errors import ImageBuildError, OperationCancelled
from aci_widgets.core.events import BUILD, LogLine, StepFinished, StepStarted
from aci_widgets.core.operation import Operation
from aci_widgets.core.target import ImageSpec

pytestmark = pytest.mark.docker

PIP_STEP = re.compile(r"^Step \d+/\d+ : RUN (/opt/venv/bin/pip install|.*/uv pip sync)")  # pip or uv


def _lines_after(lines: list[str], pattern: re.Pattern[str]) -> list[str]:
    index = next(i for i, line in enumerate(lines) if pattern.match(line))
    return lines[index + 1:]


def test_build_streams_every_line_and_labels_the_image(numpy_image: tuple[dict[str, Any], Operation],
                                                       ws: types.SimpleNamespace, docker_client: Any) -> None:
    record, op = numpy_image
    assert set(record) >= {"tag", "id", "size", "dockerfile"} and record["size"] > 0
    assert record["tag"] == f"{ws.name.lower()}-np:1"
    image = docker_client.images.get(record["tag"])
    assert image.id == record["id"]
    assert image.labels["aci_widgets.workspace"] == ws.name
    assert image.labels["aci_widgets.image"] == f"{ws.name.lower()}-np"
    assert image.labels["aci_widgets.version"] == "1"
    lines = log_lines(op)
    assert any(PIP_STEP.match(line) for line in lines)
    assert any(line.startswith("Successfully tagged") for line in lines)
    after_pip = _lines_after(lines, PIP_STEP)
    if after_pip[0].strip() != "---> Using cache":  # an engine that built this layer before reuses it
        assert any(("Successfully installed" in line or line.strip().startswith("+ ")) and "numpy" in line
                   for line in after_pip)  # the installer's own output
    steps = [(type(e).__name__, e.step) for e in op.events if isinstance(e, StepStarted | StepFinished)]
    assert steps == [("StepStarted", BUILD), ("StepFinished", BUILD)]


def test_rebuild_after_a_score_change_reuses_the_pip_layer(numpy_image: tuple[dict[str, Any], Operation],
                                                           ws: types.SimpleNamespace, target: Any,
                                                           tmp_path: Path) -> None:
    context = make_context(tmp_path / "ctx", SCORE_PY.replace('VARIANT = "v1"', 'VARIANT = "v2"'))
    spec = ImageSpec(name=f"{ws.name.lower()}-np", version=2, context_dir=context, execution_script="score.py",
                     requirements=["numpy"])
    op = run_op(lambda report: target.build_image(ws, spec, report))
    record = op.result()
    lines = log_lines(op)
    assert _lines_after(lines, PIP_STEP)[0].strip() == "---> Using cache"
    after_script = _lines_after(lines, re.compile(r'^Step \d+/\d+ : COPY \["script/score.py"'))
    assert after_script[0].strip() != "---> Using cache"
    assert record["id"] != numpy_image[0]["id"]


def test_a_missing_package_fails_with_the_step_and_pips_error(ws: types.SimpleNamespace, target: Any,
                                                              docker_client: Any, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACI_WIDGETS_INSTALLER", "pip")  # pip inside the build (uv resolves on the host first)
    spec = ImageSpec(name=f"{ws.name.lower()}-bad", version=1, context_dir=make_context(tmp_path / "ctx"),
                     execution_script="score.py", requirements=["nosuchpkg-aci-widgets-test==1.0"])
    op = run_op(lambda report: target.build_image(ws, spec, report))
    with pytest.raises(ImageBuildError) as info:
        op.result()
    assert re.search(r"Step \d+/\d+ : RUN /opt/venv/bin/pip install --no-cache-dir", info.value.message)
    assert "ERROR: Could not find a version that satisfies the requirement nosuchpkg-aci-widgets-test" \
        in info.value.detail
    assert "returned a non-zero code" in info.value.detail
    with pytest.raises(ImageNotFound):
        docker_client.images.get(spec.tag)
    made = _new_layers(log_lines(op))
    assert made, "the requirements layer was new, so the build made layers"
    for layer in made:
        with pytest.raises(ImageNotFound):
            docker_client.images.get(layer)


def test_cancel_during_pip_leaves_no_container_and_no_half_image(ws: types.SimpleNamespace, target: Any,
                                                                 docker_client: Any, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACI_WIDGETS_INSTALLER", "pip")
    # A requirement line of its own makes the requirements layer new, so pip really runs.
    spec = ImageSpec(name=f"{ws.name.lower()}-cancel", version=1, context_dir=make_context(tmp_path / "ctx"),
                     execution_script="score.py", requirements=["numpy", f"# {tmp_path.name}", "scipy"])
    seen_pip = threading.Event()

    def cancel_when_pip_runs(op: Operation, event: Any) -> None:
        if isinstance(event, LogLine) and event.line.startswith("Collecting"):
            seen_pip.set()
            op.cancel()

    op = run_op(lambda report: target.build_image(ws, spec, report), cancel_when_pip_runs)
    with pytest.raises(OperationCancelled):
        op.result()
    assert seen_pip.is_set()
    lines = log_lines(op)
    running = [m.group(1) for line in lines if (m := re.match(r"^ ---> Running in ([0-9a-f]+)", line))]
    assert running
    for container in running:
        with pytest.raises(NotFound):
            docker_client.containers.get(container)
    with pytest.raises(ImageNotFound):
        docker_client.images.get(spec.tag)
    for layer in _new_layers(lines):
        with pytest.raises(ImageNotFound):
            docker_client.images.get(layer)
    assert not any(line.startswith("Successfully built") for line in lines)


def _new_layers(lines: list[str]) -> list[str]:
    """Layer ids the build made itself (those not announced as a cache hit)."""
    made, cached = [], False
    for line in lines:
        if line.startswith("Step "):
            cached = " : FROM " in line  # the base image is not the build's own
        elif line.strip() == "---> Using cache":
            cached = True
        elif (m := re.match(r"^ ---> ([0-9a-f]{12})\s*$", line)) and not cached:
            made.append(m.group(1))
    return made
