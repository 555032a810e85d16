"""memory.py: the server keeps freed memory for the next request instead of mapping and faulting it in again.

Counted in page faults (``minflt`` of /proc/<pid>/stat), not in time: a 2 MB body freed after each request costs
hundreds of fresh pages per request with glibc's defaults, and next to none once the settings hold.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from runtime_harness import RawClient, StartServer, write_score

IGNORE_BODY = "def init():\n    pass\n\n\ndef run(raw_data):\n    return len(raw_data)\n"
BODY = json.dumps({"data": [[0.123456789] * 784] * 200}).encode()  # ~2 MB, 500 pages


def _minor_faults(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[7])  # minflt: the 10th field of stat, the 8th after "(comm)"


def _serving_pid(ready: dict) -> int:
    """The process that serves the requests: the (first) worker under a supervisor, else the server itself."""
    return int(ready.get("worker_pids", [ready["pid"]])[0])


def _faults_per_request(port: int, pid: int, n: int = 30) -> float:
    with RawClient(port) as c:
        for _ in range(5):  # settle: the first requests grow the heap once
            c.request("POST", "/score", BODY)
            assert c.read_response()[0] == 200
        before = _minor_faults(pid)
        for _ in range(n):
            c.request("POST", "/score", BODY)
            assert c.read_response()[::2] == (200, str(len(BODY)).encode())
        return (_minor_faults(pid) - before) / n


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc and /proc: Linux only")
def test_large_bodies_reuse_freed_memory(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(write_score(tmp_path, IGNORE_BODY))
    assert "malloc left as it is" not in server.stderr()
    faults = _faults_per_request(server.port, _serving_pid(server.ready))
    print(f"\n{faults:.1f} minor page faults per 2 MB request")
    assert faults < 50, f"{faults:.0f} page faults per request: freed memory is mapped in again every time"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc and /proc: Linux only")
def test_malloc_settings_of_the_user_are_left_alone(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(write_score(tmp_path, IGNORE_BODY), env={"MALLOC_TOP_PAD_": "0"})
    assert "malloc left as it is (MALLOC_TOP_PAD_ set in the environment)" in server.stderr()
    faults = _faults_per_request(server.port, _serving_pid(server.ready))
    print(f"\nglibc's defaults: {faults:.1f} minor page faults per 2 MB request")
    # Left alone, glibc maps the body afresh each time: at least half of its ~500 pages fault in again.
    assert faults > 250, f"{faults:.0f} page faults per request: the user's malloc settings were not left alone"
    assert server.score("x")[0] == 200
