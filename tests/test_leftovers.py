"""tests/leftovers.py, the suite's check that nothing outlives its test, on real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import leftovers
import pytest

SLEEPER = "import sys, time; time.sleep(600)"


def _detached(*args: str, env: dict[str, str]) -> int:
    """A python sleeping in the background of a shell that has already exited: no descendant of this test."""
    command = " ".join([sys.executable, "-c", repr(SLEEPER), *args]) + " >/dev/null 2>&1 & echo $!"
    return int(subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, check=True).stdout)


@pytest.mark.parametrize("how", ["environment", "command line"])
def test_a_process_of_the_session_is_found_stopped_and_named(tmp_path: Path, how: str) -> None:
    home, other = tmp_path / "aci-widgets-tests-1", tmp_path / "aci-widgets-tests-10"
    env = dict(os.environ, ACI_WIDGETS_HOME=str(other), ACI_WIDGETS_TEST_HOME=str(other))
    if how == "environment":
        pid = _detached(env=dict(env, ACI_WIDGETS_HOME=str(home)))
    else:
        pid = _detached(str(home / "envs" / "zygote.sock"), env=env)
    bystander = _detached(env=env)  # another session's (its home only starts like ours)
    try:
        assert [p.pid for p in leftovers.session_processes(home)] == [pid]
        found = leftovers.process_leftovers(home)
        assert [p.pid for p in found] == [pid] and "time.sleep(600)" in str(found[0])
        assert leftovers.session_processes(home) == []
        assert [p.pid for p in leftovers.session_processes(other)] == [bystander]
    finally:
        leftovers.stop_processes(leftovers.session_processes(home) + leftovers.session_processes(other))
    assert leftovers.session_processes(other) == []


def test_a_child_of_this_process_counts_whatever_its_environment(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", SLEEPER], env={"PATH": os.environ.get("PATH", "")})
    try:
        assert child.pid in [p.pid for p in leftovers.session_processes(tmp_path / "aci-widgets-tests-x")]
    finally:
        child.kill()
        child.wait()
    assert child.pid not in [p.pid for p in leftovers.session_processes(tmp_path / "aci-widgets-tests-x")]


def test_workspaces_of_the_session_are_found_by_their_settings_file(tmp_path: Path) -> None:
    (tmp_path / "a" / "ws").mkdir(parents=True)
    (tmp_path / "a" / "ws" / "workspace.json").write_text('{"name": "ws-1"}')
    (tmp_path / "workspaces" / "nb-2").mkdir(parents=True)
    (tmp_path / "workspaces" / "nb-2" / "workspace.json").write_text("not json")
    assert leftovers.session_workspaces([tmp_path]) == {"ws-1", "nb-2"}
