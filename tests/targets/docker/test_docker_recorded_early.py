"""The Docker target records a service's container as soon as it is created, before init() runs (report.started):
a deployment killed while init() runs leaves a container that delete() and stop --all find. Real engine."""

from __future__ import annotations

import types
from typing import Any

import pytest
from docker.errors import NotFound
from docker_helpers import run_op
from support import wait_until

from aci_widgets.core.errors import OperationCancelled
from aci_widgets.core.operation import Operation
from aci_widgets.targets.docker.containers import container_name, find_services, get_container

pytestmark = pytest.mark.docker


def test_the_container_is_recorded_before_init_ends_and_cancel_removes_it(ws: types.SimpleNamespace, target: Any,
                                                                          service_spec: Any) -> None:
    recorded: list[dict[str, Any]] = []
    spec = service_spec(environment={"SCORE_MODE": "slow-init"})

    def work(report: Any) -> Any:
        report.on_started = recorded.append
        return target.start_service(ws, spec, report)

    op = Operation("test", work).start()
    wait_until(lambda: recorded, "the container recorded by report.started", limit=120)
    handle = recorded[0]
    assert handle["container_name"] == container_name(ws.name, spec.name)
    assert handle["scoring_uri"] is None  # recorded before it was started, let alone healthy
    wait_until(lambda: "sleeping in init" in get_container(handle).logs().decode(), "init() to run", limit=120)
    assert target.status(ws, handle).state == "Unhealthy"  # runs, does not answer yet: the handle is usable
    op.cancel()
    op.wait(60)
    with pytest.raises(NotFound):
        get_container(handle)


def test_a_deployment_that_no_longer_owns_the_service_removes_the_container_it_created(
        ws: types.SimpleNamespace, target: Any, service_spec: Any) -> None:
    spec = service_spec()

    def refuse(handle: dict[str, Any]) -> None:
        raise OperationCancelled("the service was deleted while it was deploying")

    def work(report: Any) -> Any:
        report.on_started = refuse
        return target.start_service(ws, spec, report)

    op = run_op(work)
    with pytest.raises(OperationCancelled):
        op.result()
    assert [found for found in find_services(ws.name) if found["service"] == spec.name] == []
