"""What a test session left behind: its processes still alive, its Docker containers still there.

A process belongs to the session when its environment names the session's aci_widgets home (every process a test
starts inherits it), or its command line or working directory lies inside that home (pre-warmed processes and
scoring servers live there), or it descends from the pytest process. A container belongs to it when its
``aci_widgets.workspace`` label names a workspace the session made (a ``workspace.json`` under the home or the
session's temp folder). Found leftovers are stopped, and reported so that the run fails: nothing may outlive its
owner unasked.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

GRACE = 5.0  # seconds a process that is already on its way out (a pre-warmed process idling out) may take
HOME_VARS = (b"ACI_WIDGETS_HOME", b"ACI_WIDGETS_TEST_HOME")
WORKSPACE_LABEL = "aci_widgets.workspace"  # aci_widgets/targets/docker/containers.py


@dataclass(frozen=True)
class Leftover:
    pid: int
    start: str  # start time in clock ticks: a pid reused by another process is not ours
    command: str

    def __str__(self) -> str:
        return f"pid {self.pid}: {self.command[:200]}"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # gone, or not ours to read
        return b""


def _stat(pid: int) -> tuple[int, str, str] | None:
    """(parent pid, state, start ticks) from /proc/<pid>/stat; the command name may hold spaces and parentheses."""
    raw = _read(Path(f"/proc/{pid}/stat")).decode(errors="replace")
    if not raw:
        return None
    fields = raw[raw.rfind(")") + 2:].split()
    return int(fields[1]), fields[0], fields[19]


def _ancestors() -> set[int]:
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        stat = _stat(pid)
        if stat is None:
            break
        pid = stat[0]
    return pids


def session_processes(home: str | os.PathLike[str]) -> list[Leftover]:
    """Live processes of the session whose home is ``home`` (never this process nor its ancestors)."""
    home = os.path.realpath(home)
    marks = {name + b"=" + os.fsencode(home) for name in HOME_VARS}
    inside = (os.fsencode(home), os.fsencode(home + os.sep))
    own = _ancestors()
    stats = {int(p.name): _stat(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit()}
    children: dict[int, list[int]] = {}
    for pid, stat in stats.items():
        if stat is not None:
            children.setdefault(stat[0], []).append(pid)
    descendants, todo = set(), [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            descendants.add(child)
            todo.append(child)
    found = []
    for pid, stat in sorted(stats.items()):
        if stat is None or pid in own or stat[1] in "ZX":  # a zombie has ended: its parent only has to reap it
            continue
        proc = Path(f"/proc/{pid}")
        environ = set(_read(proc / "environ").split(b"\0"))
        args = [a for a in _read(proc / "cmdline").split(b"\0") if a]
        try:
            cwd = os.fsencode(os.readlink(proc / "cwd"))
        except OSError:
            cwd = b""
        if (pid in descendants or environ & marks or cwd == inside[0] or cwd.startswith(inside[1])
                or any(a == inside[0] or inside[1] in a for a in args)):
            command = b" ".join(args).decode(errors="replace") or f"[{_read(proc / 'comm').decode().strip()}]"
            found.append(Leftover(pid, stat[2], command))
    return found


def _alive(leftover: Leftover) -> bool:
    stat = _stat(leftover.pid)
    return stat is not None and stat[2] == leftover.start and stat[1] not in "ZX"


def _wait_gone(leftovers: Iterable[Leftover], limit: float) -> list[Leftover]:
    deadline = time.monotonic() + limit
    left = [p for p in leftovers if _alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [p for p in left if _alive(p)]
    return left


def stop_processes(leftovers: list[Leftover]) -> None:
    """SIGTERM, then SIGKILL what has not ended after a few seconds: these exact pids, nothing else."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        for leftover in leftovers:
            if _alive(leftover):
                with contextlib.suppress(OSError):  # ended meanwhile
                    os.kill(leftover.pid, signum)
        leftovers = _wait_gone(leftovers, 3.0)
        if not leftovers:
            return


def process_leftovers(home: str | os.PathLike[str]) -> list[Leftover]:
    """The session's processes still alive after a short grace; each is stopped before it is returned."""
    found = _wait_gone(session_processes(home), GRACE)
    stop_processes(found)
    return found


def session_workspaces(folders: Iterable[Path]) -> set[str]:
    """Names of the workspaces made under ``folders`` (their ``workspace.json``, up to four levels down)."""
    names = set()
    for folder in folders:
        for depth in range(1, 5):
            for settings in Path(folder).glob("/".join(["*"] * depth) + "/workspace.json"):
                try:
                    names.add(json.loads(settings.read_text())["name"])
                except (OSError, ValueError, KeyError, TypeError):
                    names.add(settings.parent.name)
    return names


def container_leftovers(workspaces: set[str]) -> list[str]:
    """Containers labelled with one of ``workspaces``; each is removed before it is returned ([] without Docker)."""
    if not workspaces:
        return []
    try:
        import docker

        client = docker.from_env(timeout=10)
        containers = client.containers.list(all=True, filters={"label": WORKSPACE_LABEL})
    except Exception:  # noqa: BLE001 - no SDK or no engine: no container can be left either
        return []
    found = []
    for container in containers:
        workspace = (container.labels or {}).get(WORKSPACE_LABEL)
        if workspace in workspaces:
            found.append(f"container {container.name} ({container.status}) of workspace {workspace}")
            try:
                container.remove(force=True)
            except Exception as exc:  # noqa: BLE001 - report it; the run fails anyway
                found[-1] += f", could not be removed: {exc}"
    return found


# --- the session's end, shared by tests/conftest.py and notebooks/conftest.py -----------------------------------

_FOUND = "aci_widgets_leftovers"  # config attribute: what the end-of-session check found (checked once)
_BEFORE = "aci_widgets_user_folders"  # config attribute: the package's own folders in ~ as the session found them
# What aci_widgets writes in the user's home by default (workspaces and environments; the MNIST cache).
USER_FOLDERS = (Path("~/.aci_widgets"), Path("~/.cache/aci_widgets"))


def user_folders_state() -> dict[str, int]:
    """Modification times of the package's folders in ~, two levels down (what adding a file there changes)."""
    state = {}
    for top in USER_FOLDERS:
        top = top.expanduser()
        for folder in [top, *top.glob("*"), *top.glob("*/*")]:
            with contextlib.suppress(OSError):
                state[str(folder)] = folder.stat().st_mtime_ns
    return state


def start_session(config) -> None:  # noqa: ANN001 - a pytest.Config
    """Remember the package's folders in ~, to check at the end that the session wrote nothing there."""
    if not hasattr(config, _BEFORE):
        setattr(config, _BEFORE, user_folders_state())


def check(home: str, temp_folders: Iterable[Path] = ()) -> list[str]:
    """Processes and containers of the session whose home is ``home`` that are still there (now stopped)."""
    if "aci-widgets-tests-" not in home:
        return []
    found = [str(p) for p in process_leftovers(home)]
    if "docker" in sys.modules:  # only a session that used Docker can have left a container
        found += container_leftovers(session_workspaces([Path(home), *temp_folders]))
    return found


def finish_session(session) -> None:  # noqa: ANN001 - a pytest.Session
    """Once per session, after every fixture is torn down: stop what is left (that fails the run), remove the home."""
    config = session.config
    if hasattr(config, _FOUND):
        return
    home = os.environ.get("ACI_WIDGETS_TEST_HOME", "")
    factory = getattr(config, "_tmp_path_factory", None)
    found = check(home, [factory.getbasetemp()] if factory is not None else [])
    before, after = getattr(config, _BEFORE, None), user_folders_state()
    if before is not None and before != after:
        changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
        found.append(f"files written outside the repo and temp folders: {', '.join(changed)}")
    setattr(config, _FOUND, found)
    if found:
        session.exitstatus = 1  # pytest.ExitCode.TESTS_FAILED
    if "aci-widgets-tests-" in home and not os.environ.get("ACI_WIDGETS_KEEP_TEST_HOME"):
        shutil.rmtree(home, ignore_errors=True)


def report(terminalreporter, config) -> None:  # noqa: ANN001 - pytest's TerminalReporter and Config
    """The end-of-session findings in the terminal summary (once, whichever conftest calls first)."""
    found = getattr(config, _FOUND, [])
    setattr(config, _FOUND, [])
    for line in found:
        terminalreporter.write_line(f"LEFT RUNNING after the session (stopped now; the run fails): {line}",
                                    red=True, bold=True)
