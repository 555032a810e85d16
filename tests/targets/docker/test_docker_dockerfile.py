"""The Dockerfile, build context and pip pass-through, checked without an engine."""

from __future__ import annotations

from pathlib import Path

from docker_helpers import make_context

from aci_widgets.core.target import ImageSpec
from aci_widgets.targets.docker.containers import container_name
from aci_widgets.targets.docker.dockerfile import (
    RUNTIME_REQUIREMENTS,
    prepare_context,
    requirements_text,
    runtime_command,
)
from aci_widgets.targets.docker.pipconf import PipSettings, build_pip_settings


def _spec(context: Path, **kw: object) -> ImageSpec:
    return ImageSpec(name="mnist", version=3, context_dir=context, execution_script="score.py",
                     requirements=["numpy", "scikit-learn==1.5.2"], **kw)  # type: ignore[arg-type]


def test_layers_go_from_stable_to_volatile(tmp_path: Path) -> None:
    context = make_context(tmp_path / "src")
    text = prepare_context(_spec(context), tmp_path / "ctx", PipSettings())
    lines = text.splitlines()
    order = [next(i for i, line in enumerate(lines) if line.startswith(prefix)) for prefix in (
        "FROM python:3.11-slim", "RUN python3 -m venv /opt/venv", "COPY requirements.txt",
        "RUN /opt/venv/bin/pip install --no-cache-dir -r", "COPY aci_widgets /opt/aci_widgets/aci_widgets",
        "ENV PYTHONPATH=/opt/aci_widgets", "COPY azureml-models /var/azureml-app/azureml-models",
        'COPY ["script/score.py", "/var/azureml-app/score.py"]')]
    assert order == sorted(order)
    cmd = "CMD " + str(runtime_command("score.py")).replace("'", '"')
    # Metadata steps before the app files: a score.py-only rebuild reruns its COPY and nothing after it.
    assert lines.index("WORKDIR /var/azureml-app") < lines.index("EXPOSE 5001") < lines.index(cmd) < order[-2]
    assert lines[-1] == 'COPY ["script/score.py", "/var/azureml-app/score.py"]'
    assert runtime_command("score.py")[-2:] == ["--ready-file", "/tmp/ready.json"]


def test_context_holds_sources_models_script_and_requirements(tmp_path: Path) -> None:
    context = make_context(tmp_path / "src")
    (context / "helpers").mkdir()
    (context / "helpers" / "util.py").write_text("X = 1\n")
    text = prepare_context(_spec(context, base_image="python:3.11-slim"), tmp_path / "ctx", PipSettings())
    built = tmp_path / "ctx"
    assert (built / "aci_widgets" / "runtime" / "__main__.py").is_file()
    assert not list(built.rglob("__pycache__")) and not [p for p in built.joinpath("aci_widgets").rglob("*")
                                                          if p.is_file() and p.suffix != ".py"]
    assert (built / "azureml-models" / "weights" / "1" / "w.npy").is_file()
    assert (built / "script" / "score.py").read_text() == (context / "score.py").read_text()
    assert (built / "app" / "helpers" / "util.py").is_file()
    assert "COPY app/ /var/azureml-app/" in text
    assert (built / "requirements.txt").read_text().split() == ["numpy", "scikit-learn==1.5.2", *RUNTIME_REQUIREMENTS]


def test_requirements_do_not_repeat_the_runtime_needs() -> None:
    wanted = ["HTTPTools>=0.6", "numpy", "ORJSON==3.10.0"]
    assert requirements_text(wanted).split() == [*wanted, "pysimdjson>=5.0"]


def test_only_network_pip_settings_reach_the_build(tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nextra-index-url = file:///opt/pypi/simple https://mirror.example/simple\n"
                    "find-links = /opt/wheels\nconstraint = /etc/c.txt\n")
    settings = build_pip_settings(
        environ={"PIP_DEFAULT_TIMEOUT": "180", "PIP_INDEX_URL": "https://u:secret@private.example/simple"},
        files=[conf])
    assert settings.args == {"PIP_EXTRA_INDEX_URL": "https://mirror.example/simple", "PIP_DEFAULT_TIMEOUT": "180"}
    assert any("file:///opt/pypi/simple" in s for s in settings.skipped)
    assert not any("secret" in s for s in settings.skipped)
    text = prepare_context(_spec(make_context(tmp_path / "src")), tmp_path / "ctx", settings)
    assert 'ARG PIP_EXTRA_INDEX_URL="https://mirror.example/simple"' in text


def test_container_names_keep_to_dockers_alphabet() -> None:
    assert container_name("my_ws", "svc-1") == "aci-widgets-my_ws-svc-1"
    assert container_name("ws", "a b/c:d") == "aci-widgets-ws-a-b-c-d"
