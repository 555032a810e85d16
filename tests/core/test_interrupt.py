"""Ctrl-C while waiting for a deployment: nothing keeps running, nothing half-written stays in the registry."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from aci_widgets.core import AciWebservice, ContainerImage, Image, Webservice, events

SLOW_INIT = '''\
import time


def init():
    time.sleep(120)


def run(raw_data):
    return raw_data
'''


def _main_thread_is_waiting() -> bool:
    frame = sys._current_frames().get(threading.main_thread().ident)
    while frame is not None:
        if frame.f_code.co_name == "wait" and frame.f_code.co_filename.endswith("operation.py"):
            return True
        frame = frame.f_back
    return False


def _interrupt_when(operation, predicate) -> threading.Thread:
    """Press Ctrl-C at the first event that matches, once the main thread blocks in wait_for_deployment."""
    def watch() -> None:
        for event in operation.follow():
            if predicate(event):
                while not _main_thread_is_waiting():
                    time.sleep(0.005)
                os.kill(os.getpid(), signal.SIGINT)  # a real SIGINT, as a terminal or Jupyter's interrupt sends
                return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _processes_in(root: Path) -> list[int]:
    """Processes whose working directory lies in ``root``: scoring servers, cold-started or forked from a warm
    process (a fork keeps its parent's command line, so the command line cannot tell)."""
    pids = []
    for cwd in Path("/proc").glob("[0-9]*/cwd"):
        try:
            target = os.readlink(cwd)
        except OSError:
            continue
        if target.startswith(str(root)):
            pids.append(int(cwd.parent.name))
    return pids


def _use_target(ws, target: str) -> None:
    if target == "docker":
        from support import requirement_missing

        from aci_widgets.core.target import target_class

        reason = target_class("docker").unavailable_reason()
        if reason:
            requirement_missing("A Docker engine", reason)
    ws.target = target


@pytest.mark.parametrize("target", ["process", pytest.param("docker", marks=pytest.mark.docker)])
def test_ctrl_c_while_init_runs_stops_the_server_and_forgets_the_service(target, ws, numpy_model):
    _use_target(ws, target)
    (numpy_model / "score.py").write_text(SLOW_INIT)
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python",
                                                conda_file="myenv.yml")
    name = f"slow-{uuid.uuid4().hex[:6]}"
    service = Webservice.deploy(ws, name, ["weights.npy"], config, AciWebservice.deploy_configuration())
    _interrupt_when(service.operation,
                    lambda e: isinstance(e, events.StepStarted) and e.step == events.HEALTH)
    with pytest.raises(KeyboardInterrupt):
        service.wait_for_deployment()
    assert service.operation.events[-1].state == "Cancelled"
    assert Webservice.list(ws) == []
    assert _processes_in(ws.root) == []
    if target == "docker":
        import docker

        left = docker.from_env().containers.list(all=True, filters={"label": f"aci_widgets.service={name}"})
        assert left == []
    assert Image(ws, name).creation_state == "Succeeded"   # the finished image is kept and reusable


@pytest.mark.parametrize("target", ["process", pytest.param("docker", marks=pytest.mark.docker)])
def test_ctrl_c_during_the_build_leaves_no_image_and_no_service(target, ws, numpy_model):
    _use_target(ws, target)
    # A requirement no other test uses, so pip (or docker build) really runs and prints.
    (numpy_model / "myenv.yml").write_text("dependencies:\n  - python=3.11\n  - numpy\n  - pip:\n    - six\n")
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python",
                                                conda_file="myenv.yml")
    name = f"build-{uuid.uuid4().hex[:6]}"
    service = Webservice.deploy(ws, name, ["weights.npy"], config)
    _interrupt_when(service.operation, lambda e: isinstance(e, events.LogLine) and e.source == "build")
    with pytest.raises(KeyboardInterrupt):
        service.wait_for_deployment()
    assert service.operation.events[-1].state == "Cancelled"
    assert Webservice.list(ws) == []
    assert Image.list(ws) == []
