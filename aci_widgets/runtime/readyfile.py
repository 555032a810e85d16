"""The ready file: how a target learns, without polling HTTP, that the server is up (or why it is not)."""

from __future__ import annotations

import json
import os
from typing import Any


def write_ready_file(path: str, payload: dict[str, Any]) -> None:
    """Write ``payload`` as JSON so a reader never sees half a file: write a temporary file, then rename."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(payload, f)
    os.replace(tmp, path)
