"""Services in real containers: answers, limits, failures explained, cancelling, reloading, removing images."""

from __future__ import annotations

import re
import socket
import threading
import types
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from docker.errors import NotFound
from docker_helpers import SCORE_PY, WEIGHTS, log_lines, post_json, run_op
from support import wait_until

from aci_widgets.core.errors import OperationCancelled, WebserviceException
from aci_widgets.core.events import HEALTH, START, StepStarted
from aci_widgets.core.operation import Operation
from aci_widgets.core.target import ServiceSpec

pytestmark = pytest.mark.docker

SAMPLE = {"data": [[1.0, 0.0, 2.0]]}
EXPECTED = (WEIGHTS.T @ [1.0, 0.0, 2.0]).tolist()


@pytest.fixture()
def started(ws: types.SimpleNamespace, target: Any) -> Any:
    """Start services and stop every one of them after the test."""
    handles: list[dict[str, Any]] = []

    def start(spec: ServiceSpec, on_event: Callable[[Operation, Any], None] | None = None) -> Operation:
        op = run_op(lambda report: target.start_service(ws, spec, report), on_event)
        if op.error is None:
            handles.append(op.result())
        return op

    yield start
    for handle in handles:
        target.stop_service(ws, handle)


def _service_containers(docker_client: Any, ws: types.SimpleNamespace, service: str) -> list[Any]:
    return docker_client.containers.list(all=True, filters={"label": [f"aci_widgets.workspace={ws.name}",
                                                                      f"aci_widgets.service={service}"]})


def test_deploy_answers_with_limits_labels_and_loopback_only(ws: types.SimpleNamespace, target: Any,
                                                             docker_client: Any, started: Any,
                                                             service_spec: Callable[..., ServiceSpec]) -> None:
    spec = service_spec(cpu_cores=0.5, memory_gb=0.5)
    op = started(spec)
    handle = op.result()
    port = handle["port"]
    assert handle["scoring_uri"] == f"http://127.0.0.1:{port}/score"
    assert handle["swagger_uri"] == f"http://127.0.0.1:{port}/swagger.json"
    assert handle["container_name"] == f"aci-widgets-{ws.name}-{spec.name}"
    assert post_json(handle["scoring_uri"], SAMPLE) == (200, {"variant": "v1", "result": [EXPECTED]})
    assert target.status(ws, handle).state == "Healthy"
    assert "init done" in target.logs(ws, handle)
    assert "init done" in "\n".join(log_lines(op, "service"))
    steps = [e.step for e in op.events if isinstance(e, StepStarted)]
    assert steps == [START, HEALTH]

    container = docker_client.containers.get(handle["container_id"])
    host_config = container.attrs["HostConfig"]
    assert host_config["NanoCpus"] == 500_000_000
    assert host_config["Memory"] == 512 * 1024 * 1024
    assert host_config["MemorySwap"] == 512 * 1024 * 1024
    assert host_config["PortBindings"] == {"5001/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
    assert container.ports["5001/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
    assert container.labels["aci_widgets.workspace"] == ws.name
    assert container.labels["aci_widgets.service"] == spec.name
    assert container.labels["aci_widgets.image"] == spec.image["tag"]
    assert container.attrs["Args"][-2:] == ["--max-body-bytes", str(spec.max_body_bytes)]
    bridge = container.attrs["NetworkSettings"]["Networks"]["bridge"]["Gateway"]
    with pytest.raises(OSError), socket.create_connection((bridge, port), timeout=2):
        pass

    target.stop_service(ws, handle)
    target.stop_service(ws, handle)  # idempotent
    with pytest.raises(NotFound):
        docker_client.containers.get(handle["container_id"])
    status = target.status(ws, handle)
    assert (status.state, status.error) == ("Failed", "the container was removed outside aci_widgets")


def test_auth_keys_environment_and_a_chosen_port(ws: types.SimpleNamespace, target: Any, docker_client: Any,
                                                 started: Any, service_spec: Callable[..., ServiceSpec]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    spec = service_spec(auth_keys=("pk-" + uuid.uuid4().hex, "sk-" + uuid.uuid4().hex), port=free,
                        environment={"EXTRA_SETTING": "on"})
    handle = started(spec).result()
    assert handle["port"] == free
    assert post_json(handle["scoring_uri"], SAMPLE)[0] == 401
    for key in spec.auth_keys:
        assert post_json(handle["scoring_uri"], SAMPLE, {"Authorization": f"Bearer {key}"})[0] == 200
    env = docker_client.containers.get(handle["container_id"]).attrs["Config"]["Env"]
    assert f"ACI_WIDGETS_AUTH_KEYS={','.join(spec.auth_keys)}" in env and "EXTRA_SETTING=on" in env

    # The same port again is refused with a clear message, and leaves no container behind.
    clash = service_spec(port=free)
    op = started(clash)
    with pytest.raises(WebserviceException, match=f"Port {free} on 127.0.0.1 is taken"):
        op.result()
    assert _service_containers(docker_client, ws, clash.name) == []


def test_an_init_failure_shows_the_users_traceback_and_leaves_no_container(
        ws: types.SimpleNamespace, docker_client: Any, started: Any,
        service_spec: Callable[..., ServiceSpec]) -> None:
    spec = service_spec(environment={"SCORE_MODE": "fail-init"})
    op = started(spec)
    with pytest.raises(WebserviceException) as info:
        op.result()
    assert "ValueError: the weights are broken on purpose" in info.value.message
    assert 'File "/var/azureml-app/score.py"' in info.value.detail
    assert 'raise ValueError("the weights are broken on purpose")' in info.value.detail
    assert _service_containers(docker_client, ws, spec.name) == []


def test_a_score_py_that_does_not_import_fails_fast_with_its_line(
        ws: types.SimpleNamespace, docker_client: Any, started: Any,
        service_spec: Callable[..., ServiceSpec]) -> None:
    spec = service_spec(environment={"SCORE_MODE": "fail-import"})
    op = started(spec)
    with pytest.raises(WebserviceException) as info:
        op.result()
    assert "ModuleNotFoundError: No module named 'no_such_module_here'" in info.value.message
    assert "import no_such_module_here" in info.value.detail
    assert _service_containers(docker_client, ws, spec.name) == []


def test_running_out_of_memory_in_init_says_raise_memory_gb(ws: types.SimpleNamespace, docker_client: Any,
                                                            started: Any,
                                                            service_spec: Callable[..., ServiceSpec]) -> None:
    spec = service_spec(memory_gb=0.1, environment={"SCORE_MODE": "oom-init"})
    op = started(spec)
    with pytest.raises(WebserviceException) as info:
        op.result()
    assert ("the container ran out of memory (limit 0.1 GB): raise memory_gb in "
            "AciWebservice.deploy_configuration") in info.value.message
    assert _service_containers(docker_client, ws, spec.name) == []


def test_running_out_of_memory_while_serving_fails_that_request_and_the_worker_is_replaced(
        ws: types.SimpleNamespace, target: Any, docker_client: Any, started: Any,
        service_spec: Callable[..., ServiceSpec]) -> None:
    """The kernel kills the worker that went over memory_gb; the supervisor says so and starts another, as a
    worker that exits is restarted at any worker count: only the request that blew the limit is lost."""
    handle = started(service_spec(memory_gb=0.15)).result()
    with pytest.raises(OSError):
        post_json(handle["scoring_uri"], "oom")

    def answers_again() -> bool:
        try:
            return post_json(handle["scoring_uri"], SAMPLE) == (200, {"variant": "v1", "result": [EXPECTED]})
        except OSError:
            return False

    wait_until(answers_again, "the service answers again after its worker was killed", every=0.5)
    assert target.status(ws, handle).state == "Healthy"
    assert re.search(r"worker 0 \(pid \d+\) was killed by SIGKILL; restarting it", target.logs(ws, handle))


def test_an_exit_is_failed_with_its_code_and_log_tail(ws: types.SimpleNamespace, target: Any,
                                                      docker_client: Any, started: Any,
                                                      service_spec: Callable[..., ServiceSpec]) -> None:
    handle = started(service_spec()).result()
    container = docker_client.containers.get(handle["container_id"])
    container.kill(signal="SIGTERM")  # the runtime stops cleanly: exit status 0
    container.wait(timeout=60)
    status = target.status(ws, handle)
    assert status.state == "Failed"
    assert "exited with status 0" in status.error
    assert "init done" in status.detail


def test_a_running_container_that_does_not_answer_is_unhealthy(ws: types.SimpleNamespace, target: Any,
                                                               docker_client: Any, started: Any,
                                                               service_spec: Callable[..., ServiceSpec]) -> None:
    handle = started(service_spec()).result()
    container = docker_client.containers.get(handle["container_id"])
    container.pause()
    try:
        assert target.status(ws, handle).state == "Unhealthy"
    finally:
        container.unpause()
    assert target.status(ws, handle).state == "Healthy"


def test_cancel_while_waiting_for_health_removes_the_container(ws: types.SimpleNamespace, docker_client: Any,
                                                               started: Any,
                                                               service_spec: Callable[..., ServiceSpec]) -> None:
    spec = service_spec(environment={"SCORE_MODE": "slow-init"})
    sleeping = threading.Event()

    def cancel_in_init(op: Operation, event: Any) -> None:
        if getattr(event, "line", "") == "sleeping in init":
            sleeping.set()
            op.cancel()

    op = started(spec, cancel_in_init)
    with pytest.raises(OperationCancelled):
        op.result()
    assert sleeping.is_set()
    assert _service_containers(docker_client, ws, spec.name) == []


def test_reload_puts_a_new_score_py_in_without_a_rebuild(ws: types.SimpleNamespace, target: Any,
                                                         docker_client: Any, started: Any, tmp_path: Path,
                                                         service_spec: Callable[..., ServiceSpec]) -> None:
    spec = service_spec()
    handle = started(spec).result()
    image_before = docker_client.containers.get(handle["container_id"]).image.id
    edited = tmp_path / "score.py"
    edited.write_text(SCORE_PY.replace('VARIANT = "v1"', 'VARIANT = "reloaded"'))
    op = run_op(lambda report: target.reload_service(ws, handle, {"score.py": edited}, report))
    new_handle = op.result()
    assert not log_lines(op, "build")
    assert post_json(new_handle["scoring_uri"], SAMPLE) == (200, {"variant": "reloaded", "result": [EXPECTED]})
    assert new_handle["container_id"] == handle["container_id"]
    assert docker_client.containers.get(handle["container_id"]).image.id == image_before
    assert target.status(ws, new_handle).state == "Healthy"


def test_an_image_in_use_is_not_removed_and_says_by_which_service(
        ws: types.SimpleNamespace, target: Any, docker_client: Any, started: Any,
        numpy_image: tuple[dict[str, Any], Operation], service_spec: Callable[..., ServiceSpec]) -> None:
    spec = service_spec()
    handle = started(spec).result()
    with pytest.raises(WebserviceException, match=f"used by service '{spec.name}'"):
        target.remove_image(ws, numpy_image[0])
    assert docker_client.images.get(numpy_image[0]["id"])
    target.stop_service(ws, handle)
