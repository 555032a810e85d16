"""uv in image builds: the host's binary in its own early layer, the lock installed in its own layer."""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any

import pytest
from docker_helpers import log_lines, make_context, run_op

from aci_widgets.core.errors import ImageBuildError
from aci_widgets.core.events import Notice
from aci_widgets.core.target import ImageSpec
from aci_widgets.targets.docker.dockerfile import Installer, prepare_context
from aci_widgets.targets.docker.pipconf import PipSettings

LOCK = "six==1.17.0 \\\n    --hash=sha256:ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81\n"


def test_the_uv_layers_come_early_and_install_the_lock_with_hashes(tmp_path: Path) -> None:
    uv = tmp_path / "uv-binary"
    uv.write_bytes(b"\x7fELF")
    cert = tmp_path / "ca.pem"
    cert.write_text("CERT")
    spec = ImageSpec(name="m", version=1, context_dir=make_context(tmp_path / "src"), execution_script="score.py",
                     requirements=["six"])
    pip = PipSettings(args={"PIP_EXTRA_INDEX_URL": "https://mirror.example/simple"}, cert=cert)
    text = prepare_context(spec, tmp_path / "ctx", pip, Installer(uv, LOCK))
    lines = text.splitlines()
    venv = "RUN UV_PYTHON_DOWNLOADS=never /usr/local/bin/uv venv --no-project --python python3 /opt/venv"
    assert lines[2:5] == ["COPY uv /usr/local/bin/uv", "COPY ca-bundle.pem /opt/aci_widgets/ca-bundle.pem", venv]
    assert 'ARG UV_EXTRA_INDEX_URL="https://mirror.example/simple"' in lines
    sync = next(line for line in lines if " pip sync " in line)
    assert sync.startswith("RUN SSL_CERT_FILE=/opt/aci_widgets/ca-bundle.pem ")
    assert "--require-hashes /opt/aci_widgets/requirements.lock && " in sync
    assert sync.endswith("/opt/aci_widgets/warm_imports.py httptools orjson pysimdjson six")  # bytecode of these
    assert "UV_COMPILE_BYTECODE" not in sync
    assert lines.index(sync) < next(i for i, line in enumerate(lines) if line.startswith("COPY aci_widgets"))
    assert (tmp_path / "ctx" / "requirements.lock").read_text() == LOCK
    assert (tmp_path / "ctx" / "uv").read_bytes() == b"\x7fELF"


@pytest.mark.docker
def test_a_uv_build_records_its_lock_and_a_rebuild_installs_it(ws: types.SimpleNamespace, target: Any,
                                                               tmp_path: Path) -> None:
    spec = ImageSpec(name=f"{ws.name.lower()}-uv", version=1, context_dir=make_context(tmp_path / "ctx"),
                     execution_script="score.py", requirements=["six==1.17.0"])
    record = run_op(lambda report: target.build_image(ws, spec, report)).result()
    assert "six==1.17.0" in record["lock"] and "--hash=sha256:" in record["lock"]
    spec.version, spec.lock = 2, record["lock"]
    op = run_op(lambda report: target.build_image(ws, spec, report))
    again = op.result()
    assert again["lock"] == record["lock"]
    assert any("locked environment" in e.message for e in op.events if isinstance(e, Notice))
    assert any(re.match(r"^Step \d+/\d+ : RUN .*/uv pip sync", line) for line in log_lines(op))


@pytest.mark.docker
def test_a_score_py_only_rebuild_resolves_nothing_and_reuses_the_install_layers(
        ws: types.SimpleNamespace, target: Any, tmp_path: Path) -> None:
    context = make_context(tmp_path / "ctx")
    spec = ImageSpec(name=f"{ws.name.lower()}-uvre", version=1, context_dir=context, execution_script="score.py",
                     requirements=["six==1.17.0", f"# {ws.name} {tmp_path.name}"])  # a set new to this machine
    first = run_op(lambda report: target.build_image(ws, spec, report))
    assert any(line.startswith("$ uv pip compile") for line in log_lines(first))
    (context / "score.py").write_text((context / "score.py").read_text() + "\n# edited\n")
    spec.version = 2
    second = run_op(lambda report: target.build_image(ws, spec, report))
    lines = log_lines(second)
    assert not any(line.startswith("$ uv pip compile") for line in lines)
    assert any(line.startswith("Reusing the lock resolved before") for line in lines)
    assert second.result()["lock"] == first.result()["lock"]
    steps = [i for i, line in enumerate(lines) if re.match(r"^Step \d+/\d+ : ", line)]
    rebuilt = [lines[i] for i in steps if i + 1 < len(lines) and "Using cache" not in lines[i + 1]
               and not lines[i].split(" : ", 1)[1].startswith("FROM ")]
    assert [line.split(" : ", 1)[1].split()[0] for line in rebuilt] == ["COPY", "LABEL"], rebuilt


@pytest.mark.docker
def test_a_missing_package_stops_at_resolution_with_uvs_reason(ws: types.SimpleNamespace, target: Any,
                                                               tmp_path: Path) -> None:
    spec = ImageSpec(name=f"{ws.name.lower()}-uvbad", version=1, context_dir=make_context(tmp_path / "ctx"),
                     execution_script="score.py", requirements=["nosuchpkg-aci-widgets-test==1.0"])
    with pytest.raises(ImageBuildError) as info:
        run_op(lambda report: target.build_image(ws, spec, report)).result()
    assert str(info.value).startswith("Resolving the environment failed: No solution found")
    assert "nosuchpkg-aci-widgets-test was not found in the package registry" in str(info.value)
