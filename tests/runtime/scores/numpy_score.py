"""A tiny numpy model, y = x @ W, with W loaded by init() from $AZUREML_MODEL_DIR/weights.npy
(one model: AZUREML_MODEL_DIR is linear/1, as on Azure).

Special inputs exercise the server's answers: {"raise": msg}, {"bytes": text}, {"ndarray": [...]}, {"echo": x},
{"env": name} (reads an environment variable), {"hold": path, "marker": path} (writes
marker, then holds the request until the file ``hold`` exists).
"""

import json
import os
import time

import numpy as np

W = None


def init():
    global W
    W = np.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "weights.npy"))  # one model: its own folder


def run(raw_data):
    data = json.loads(raw_data)
    if "raise" in data:
        raise ValueError(data["raise"])  # <- run() fails here
    if "bytes" in data:
        return data["bytes"].encode()
    if "ndarray" in data:
        return np.array(data["ndarray"])
    if "echo" in data:
        return data["echo"]
    if "env" in data:
        return os.environ.get(data["env"])
    if "hold" in data:  # run() is under way until the file data["hold"] exists (bounded: 60 s)
        with open(data["marker"], "w") as f:
            f.write("running")
        give_up = time.monotonic() + 60
        while not os.path.exists(data["hold"]) and time.monotonic() < give_up:
            time.sleep(0.005)
        return "released"
    return (np.array(data["data"]) @ W).tolist()
