"""After a kernel restart the core finds its services by label and talks to them from a new process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from docker_helpers import post_json, run_op

from aci_widgets.core.target import ServiceSpec
from aci_widgets.targets.docker import find_services

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[3]

CHILD = """
import json, sys, types
from pathlib import Path
from aci_widgets.targets.docker import DockerTarget, find_services

ws = types.SimpleNamespace(name=sys.argv[1], root=Path(sys.argv[2]))
handle = json.loads(sys.argv[3])
target = DockerTarget()
status = target.status(ws, handle)
print(json.dumps({"state": status.state, "logs": target.logs(ws, handle, tail=50),
                  "found": find_services(ws.name)}))
"""


def test_status_and_logs_from_a_handle_in_a_new_process(ws: types.SimpleNamespace, target: Any,
                                                        numpy_image: Any) -> None:
    spec = ServiceSpec(name="reattach", image=numpy_image[0])
    handle = run_op(lambda report: target.start_service(ws, spec, report)).result()
    try:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
        child = subprocess.run([sys.executable, "-c", CHILD, ws.name, str(ws.root), json.dumps(handle)],
                               capture_output=True, text=True, env=env, timeout=120, check=True)
        answer = json.loads(child.stdout)
        assert answer["state"] == "Healthy"
        assert "init done" in answer["logs"]
        found = {s["service"]: s for s in answer["found"]}
        assert found["reattach"]["scoring_uri"] == handle["scoring_uri"]
        assert found["reattach"]["container_id"] == handle["container_id"]
        assert found["reattach"]["state"] == "running"
        assert post_json(found["reattach"]["scoring_uri"], {"data": [[0, 0, 0]]})[0] == 200
    finally:
        target.stop_service(ws, handle)
    assert all(s["service"] != "reattach" for s in find_services(ws.name))
