"""Removing images, and saying why the engine cannot be used."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest
from docker.errors import ImageNotFound
from docker_helpers import SCORE_PY, make_context, run_op

from aci_widgets.core.target import ImageSpec
from aci_widgets.targets.docker import DockerTarget


def test_unavailable_reason_names_the_engine_and_a_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    reason = DockerTarget.unavailable_reason()
    assert reason == (f"no Docker engine answered at unix://{tmp_path}/no-engine.sock (start one with "
                      "`sudo systemctl start docker` or Docker Desktop)")


@pytest.mark.docker
def test_remove_image_removes_it_once_and_then_is_a_no_op(ws: types.SimpleNamespace, target: Any,
                                                          docker_client: Any, numpy_image: Any,
                                                          tmp_path: Path) -> None:
    assert DockerTarget.unavailable_reason() is None
    context = make_context(tmp_path / "ctx", SCORE_PY + "\n# removable\n")
    spec = ImageSpec(name=f"{ws.name.lower()}-rm", version=1, context_dir=context, execution_script="score.py",
                     requirements=["numpy"])
    record = run_op(lambda report: target.build_image(ws, spec, report)).result()
    target.remove_image(ws, record)
    with pytest.raises(ImageNotFound):
        docker_client.images.get(record["id"])
    target.remove_image(ws, record)
    assert docker_client.images.get(numpy_image[0]["id"])  # its shared layers stay
