"""A service container's CPU and memory, from the engine's stats, as the Deployments sidebar shows them."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import pytest
from docker_helpers import run_op

from aci_widgets.core.target import ServiceSpec
from aci_widgets.core.usage import Usage
from aci_widgets.targets.docker.containers import get_container

pytestmark = pytest.mark.docker


def test_a_running_container_s_usage_then_a_stopped_one_s(ws: types.SimpleNamespace, target: Any,
                                                         service_spec: Callable[..., ServiceSpec]) -> None:
    handle = run_op(lambda report: target.start_service(ws, service_spec(), report)).result()
    try:
        usage = target.usage(ws, handle)
        assert usage.measured and usage.cpu_cores >= 0
        # The runtime with numpy imported and the model loaded, less the page cache: tens of MB, under the limit.
        assert 10 * 2**20 < usage.memory_bytes < 2**30
        get_container(handle).stop(timeout=5)
        assert target.usage(ws, handle) == Usage(0.0, 0)
    finally:
        target.stop_service(ws, handle)
