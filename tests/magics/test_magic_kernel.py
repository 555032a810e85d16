"""In a real ipykernel (a notebook's kernel, driven by jupyter_client): the panel is displayed and its updates
reach the frontend while the cell is still running; results render as cards; mistakes show no traceback."""

import os
import queue
import time

import pytest
from jupyter_client.manager import start_new_kernel  # installed with jupyterlab (test extra)


@pytest.fixture
def kernel(numpy_model):
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(numpy_model), env=dict(os.environ))
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def execute(kc, code, limit=300.0):
    """Every iopub message the cell caused, in order, until the kernel is idle again."""
    msg_id = kc.execute(code)
    messages, deadline = [], time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages
    raise AssertionError(f"cell did not finish: {code!r}")


def test_deploy_in_a_kernel_shows_a_live_panel_and_a_card(kernel, ws):
    path = str(ws.root)
    assert execute(kernel, f"%load_ext aci_widgets\n%config DeployMagics.workspace = {ws.name!r}\n"
                           f"%config DeployMagics.workspace_path = {path!r}")[-1]["msg_type"] == "status"
    messages = execute(kernel, "svc = %deploy_aci kernel-1 --model weights.npy --conda myenv.yml\nsvc")
    kinds = [m["msg_type"] for m in messages]
    assert "error" not in kinds, [m["content"] for m in messages if m["msg_type"] == "error"]
    shown = [m for m in messages if m["msg_type"] == "display_data"]
    assert "application/vnd.jupyter.widget-view+json" in shown[0]["content"]["data"]  # auto: widgets here
    shown_at, result = kinds.index("display_data"), kinds.index("execute_result")
    live = [i for i, kind in enumerate(kinds) if kind == "comm_msg" and shown_at < i < result]
    assert len(live) > 10  # the panel changed on screen while the cell was still running
    card = messages[result]["content"]["data"]
    assert "Healthy" in card["text/html"] and "kernel-1" in card["text/html"]
    assert card["text/plain"].startswith("AciWebservice(") or card["text/plain"].startswith("Webservice(")


def test_a_mistake_in_a_kernel_is_one_line_without_traceback(kernel, ws):
    execute(kernel, f"%load_ext aci_widgets\n%config DeployMagics.workspace_path = {str(ws.root)!r}\n"
                    f"%config DeployMagics.workspace = {ws.name!r}")
    messages = execute(kernel, "%aci_logs nope")
    errors = [m for m in messages if m["msg_type"] == "error"]
    streams = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
    assert not errors
    assert streams.startswith("UsageError: Service 'nope' not found") and "Traceback" not in streams

