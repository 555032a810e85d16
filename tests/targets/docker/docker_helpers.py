"""Helpers shared by the Docker target's tests (a module of its own: test files must not import conftest)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from aci_widgets.core.events import Event
from aci_widgets.core.operation import Operation, Reporter

# Behaviour chosen per service through SCORE_MODE, so that one image covers every start-up failure.
SCORE_PY = '''\
import json
import os
import time

import numpy as np

W = None
VARIANT = "v1"
if os.environ.get("SCORE_MODE") == "fail-import":
    import no_such_module_here  # noqa: F401


def init():
    global W
    mode = os.environ.get("SCORE_MODE", "")
    if mode == "fail-init":
        raise ValueError("the weights are broken on purpose")
    if mode == "oom-init":
        hog = np.ones(512 * 1024 * 1024 // 8)  # 512 MB, every page touched
        print("allocated", hog.nbytes, flush=True)
    if mode == "slow-init":
        print("sleeping in init", flush=True)
        time.sleep(120)
    W = np.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "w.npy"))  # one model: its own folder
    print("init done", W.shape, flush=True)


def run(raw_data):
    data = json.loads(raw_data)
    if data == "oom":
        hog = np.ones(512 * 1024 * 1024 // 8)
        return hog.nbytes
    return {"variant": VARIANT, "result": (np.array(data["data"], dtype=float) @ W).tolist()}
'''

WEIGHTS = np.arange(6, dtype=float).reshape(3, 2)


def make_context(folder: Path, score: str = SCORE_PY) -> Path:
    """A build context as the core prepares it: score.py and azureml-models/<name>/<version>/<files>."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "score.py").write_text(score)
    model = folder / "azureml-models" / "weights" / "1"
    model.mkdir(parents=True, exist_ok=True)
    np.save(model / "w.npy", WEIGHTS)
    return folder


def run_op(work: Callable[[Reporter], Any],
           on_event: Callable[[Operation, Event], None] | None = None) -> Operation:
    """Run ``work`` as a real Operation (as the core does) and wait for it; read ``result()``/``events``."""
    op = Operation("test", work)
    if on_event is not None:
        op.subscribe(lambda event: on_event(op, event))
    op.start()
    op.wait(600)
    return op


def log_lines(op: Operation, source: str = "build") -> list[str]:
    return [e.line for e in op.events if getattr(e, "source", None) == source]


def post_json(url: str, payload: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """POST JSON and return (status, decoded body); HTTP errors are answers too."""
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body)
        except ValueError:
            return exc.code, body.decode("utf-8", "replace")
