"""A tiny numpy model, y = x @ W, with W loaded by init() from $AZUREML_MODEL_DIR/linear/1/weights.npy.

Special inputs exercise the server's answers: {"raise": msg}, {"bytes": text}, {"ndarray": [...]}, {"echo": x},
{"env": name} (reads an environment variable), {"sleep": seconds, "marker": path}.
"""

import json
import os
import time

import numpy as np

W = None


def init():
    global W
    W = np.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "linear", "1", "weights.npy"))


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
    if "sleep" in data:
        with open(data["marker"], "w") as f:
            f.write("running")
        time.sleep(data["sleep"])
        return "slept"
    return (np.array(data["data"]) @ W).tolist()
