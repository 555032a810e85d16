"""In a real ipykernel (a notebook's kernel, driven by jupyter_client): the panel is displayed and its updates
reach the frontend while the cell is still running; results render as cards; mistakes show no traceback."""

import os
import queue
import time

import pytest
from jupyter_client.manager import start_new_kernel  # installed with jupyterlab (test extra)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def kernel(numpy_model):
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(numpy_model), env=dict(os.environ))
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def execute(kc, code, limit=300.0, any_parent=False):
    """Every iopub message the cell caused (``any_parent``: every message), in order, until the cell is done."""
    msg_id = kc.execute(code)
    messages, deadline = [], time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        ours = msg["parent_header"].get("msg_id") == msg_id
        if not ours and not any_parent:
            continue
        messages.append(msg)
        if ours and msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
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
    panel = shown[0]["content"]
    final = [m["content"] for m in messages if m["msg_type"] == "update_display_data"
             and m["content"]["transient"]["display_id"] == panel["transient"]["display_id"]]
    assert "Waiting" in panel["data"]["text/html"]  # the static copy as displayed ...
    at_end = final[-1]["data"]["text/html"]
    assert "Healthy" in at_end and at_end.count("✔") == 4  # ... and at the end
    card = messages[result]["content"]["data"]
    assert WIDGET_VIEW in card  # the live service card ...
    assert "Healthy" in card["text/html"] and "kernel-1" in card["text/html"]  # ... with its static copy
    assert card["text/plain"].startswith("AciWebservice(") or card["text/plain"].startswith("Webservice(")


def test_a_background_deploy_shows_its_panel_in_its_own_cell_while_the_kernel_is_free(kernel, ws):
    """--no-wait: the cell returns with the panel Running and a Cancel button; the panel goes on drawing (its
    updates and its final static copy belong to the deploy cell, even while another cell runs) until Healthy."""
    execute(kernel, f"%load_ext aci_widgets\n%config DeployMagics.workspace = {ws.name!r}\n"
                    f"%config DeployMagics.workspace_path = {str(ws.root)!r}")
    deploy = execute(kernel, "svc = %deploy_aci kernel-bg --model weights.npy --conda myenv.yml --no-wait\n"
                             "panel = get_ipython().magics_manager.registry['DeployMagics'].last_panel\n"
                             "print('returned:', panel.state, '| cancel shown:',\n"
                             "      panel.cancel_button.layout.display == '')")
    deploy_id = deploy[0]["parent_header"]["msg_id"]
    shown = [m["content"] for m in deploy if m["msg_type"] == "display_data"]
    assert WIDGET_VIEW in shown[0]["data"]
    printed = "".join(m["content"]["text"] for m in deploy if m["msg_type"] == "stream")
    assert printed.startswith("returned: ") and "| cancel shown: True" in printed
    assert "returned: Healthy" not in printed  # it returned while deploying

    later = execute(kernel, "assert panel.wait_finished(300)\n"
                            "print(panel.state, [r.state for r in panel.rows.values()], "
                            "panel.cancel_button.layout.display, panel.log_view.expanded)", any_parent=True)
    waiting_id = later[-1]["parent_header"]["msg_id"]  # its own idle status (the first may be the deploy cell's)
    printed = "".join(m["content"]["text"] for m in later if m["msg_type"] == "stream"
                      and m["parent_header"]["msg_id"] == waiting_id)
    assert printed.strip() == "Healthy ['done', 'done', 'done', 'done'] none False"
    final = [m for m in later if m["msg_type"] == "update_display_data"
             and m["content"]["transient"]["display_id"] == shown[0]["transient"]["display_id"]]
    # The deployment's thread sends the final copy as part of the deploy cell (not of the cell running now);
    # wait_finished sends it again from the waiting cell, for runners that listen to the running cell only.
    by_cell = {m["parent_header"]["msg_id"]: m["content"]["data"]["text/html"] for m in final}
    assert set(by_cell) == {deploy_id, waiting_id}, by_cell.keys()
    assert all("Healthy" in html and html.count("✔") == 4 for html in by_cell.values())


def test_a_mistake_in_a_kernel_is_one_line_without_traceback(kernel, ws):
    execute(kernel, f"%load_ext aci_widgets\n%config DeployMagics.workspace_path = {str(ws.root)!r}\n"
                    f"%config DeployMagics.workspace = {ws.name!r}")
    messages = execute(kernel, "%aci_logs nope")
    errors = [m for m in messages if m["msg_type"] == "error"]
    streams = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
    assert not errors
    assert streams.startswith("UsageError: Service 'nope' not found") and "Traceback" not in streams

