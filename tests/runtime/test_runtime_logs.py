"""``--log-file``: the service's whole output, user prints included, in a file that rotates at a size cap."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from runtime_harness import StartServer, write_score

from aci_widgets.targets.process.processes import tail

# {"print": n}: run() prints a line of n characters (plus its request number) on stdout, and one on stderr.
SCORE = '''
import os, sys

count = 0

def init():
    print("init() ran", flush=True)

def run(raw):
    global count
    count += 1
    n = int(raw)
    if n < 0:
        print("last words", flush=True)
        os._exit(9)
    print(f"request {count} " + "x" * n, flush=True)
    sys.stderr.write(f"stderr {count}\\n")
    return count
'''
CAP = 20_000


def _log_files(log: Path) -> list[Path]:
    return sorted(log.parent.glob(log.name + "*"))


def test_output_of_every_process_rotates_at_the_cap_and_a_few_files_are_kept(start_server: StartServer,
                                                                             tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    server = start_server(write_score(tmp_path / "app", SCORE), "--log-file", str(log), "--log-max-bytes",
                          str(CAP), "--log-backups", "2")
    assert server.ready["status"] == "ready"
    for _ in range(100):  # 100 x ~1 KB printed: five times the cap of one file
        assert server.call("POST", "/score", b"1000")[0] == 200
    server.stop()
    give_up = time.monotonic() + 30
    while "stopped" not in tail(log, 1) and time.monotonic() < give_up:  # the drainer writes the last lines
        time.sleep(0.01)
    assert [p.name for p in _log_files(log)] == ["service.log", "service.log.1", "service.log.2"]
    for path in _log_files(log):
        assert path.stat().st_size <= CAP
        assert path.read_bytes().endswith(b"\n")  # cut at line ends
    newest = log.read_text()
    assert "request 100 " in newest and "stderr 100" in newest and "stopped" in newest
    oldest = (tmp_path / "service.log.2").read_text()
    assert "init() ran" not in oldest + (tmp_path / "service.log.1").read_text() + newest  # rotated away
    assert server.stderr() == ""  # nothing went around the log file


def test_a_worker_s_last_words_and_its_restart_are_in_the_log(start_server: StartServer, tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    server = start_server(write_score(tmp_path / "app", SCORE), "--log-file", str(log))
    (first,) = server.ready["worker_pids"]
    with pytest.raises(ConnectionError):
        server.call("POST", "/score", b"-1")
    give_up = time.monotonic() + 30
    while f"worker 0 (pid {first}) exited with status 9" not in log.read_text():
        assert time.monotonic() < give_up, log.read_text()
        time.sleep(0.01)
    text = log.read_text()
    assert text.index("last words") < text.index("exited with status 9")
    assert server.stop() == 0


def test_the_log_file_is_private(start_server: StartServer, tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    start_server(write_score(tmp_path / "app", SCORE), "--log-file", str(log))
    assert os.stat(log).st_mode & 0o777 == 0o600
    assert json.loads((tmp_path / "server0" / "ready.json").read_text())["status"] == "ready"
