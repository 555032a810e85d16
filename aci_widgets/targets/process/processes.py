"""Server processes that outlive the kernel, and how to find out whether one is still ours and alive."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import urllib.request
from pathlib import Path


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks (Linux), so a reused pid is not mistaken for our server."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[19])


def is_running(pid: int, ticks: int | None) -> bool:
    """True if ``pid`` is alive, not a zombie, and (where /proc exists) the same process we started."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child that exited: reap it
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        with contextlib.suppress(OSError):
            if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return False
        return ticks is None or start_ticks(pid) == ticks
    return True


def terminate(pid: int, ticks: int | None, grace: float = 5.0) -> None:
    """SIGTERM the server's process group, then SIGKILL what is left after ``grace`` seconds."""
    if not is_running(pid, ticks):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not is_running(pid, ticks):
            return
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and is_running(pid, ticks):
        time.sleep(0.02)


def servers_in(folder: Path) -> list[int]:
    """Scoring server processes (cold ``python -m aci_widgets.runtime`` or forked by a zygote, with their workers
    and log writer) working in ``folder``, also once it was deleted: a service's folder is its start token, the
    one mark that a cold start and a fork share, known before the process exists."""
    prefix = str(folder)
    found = []
    for cwd in Path("/proc").glob("[0-9]*/cwd"):
        try:
            where = os.readlink(cwd).removesuffix(" (deleted)")
            if (where == prefix or where.startswith(prefix + os.sep)) and \
                    b"aci_widgets.runtime" in (cwd.parent / "cmdline").read_bytes():
                found.append(int(cwd.parent.name))
        except OSError:
            continue
    return found


def stop_servers_in(folder: Path, grace: float = 5.0) -> list[int]:
    """Stop every scoring server working in ``folder`` (see ``servers_in``), whoever started it and whether or not
    its pid was ever recorded: SIGTERM to their process groups, SIGKILL after ``grace`` seconds. Their pids."""
    pids = servers_in(folder)
    groups = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            groups.add(os.getpgid(pid))
    groups.discard(os.getpgrp())  # never our own group (a server's group is its own session)
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        for group in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(is_running(pid, None) for pid in pids):
            time.sleep(0.02)
        if not any(is_running(pid, None) for pid in pids):
            break
    return pids


def answers(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def tail(path: Path, lines: int | None, rotated: int = 3) -> str:
    """The last ``lines`` lines of a log (all of it if None), read backwards from its end, and from its rotated
    files (``path.1`` is the newest) when the current one holds fewer: a 10 MiB log is never read whole for 5 lines."""
    if lines is None:
        try:
            return path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
    if lines <= 0:
        return ""
    found: list[bytes] = []
    for candidate in [path, *(path.with_name(f"{path.name}.{i}") for i in range(1, rotated + 1))]:
        found = _last_lines(candidate, lines - len(found)) + found
        if len(found) >= lines:
            break
    return b"\n".join(found[-lines:]).decode(errors="replace")


def _last_lines(path: Path, count: int, block: int = 65536) -> list[bytes]:
    data = b""
    end = 0
    with contextlib.suppress(FileNotFoundError), open(path, "rb") as f:
        end = f.seek(0, os.SEEK_END)
        while end > 0 and data.count(b"\n") <= count:
            start = max(0, end - block)
            f.seek(start)
            data = f.read(end - start) + data
            end = start
    if not data:
        return []
    found = data.split(b"\n")
    if found and found[-1] == b"":
        found.pop()  # the file's last line ends in a newline
    if end > 0:
        found = found[1:]  # the first piece may be the end of a longer line
    return found[-count:]


class LogFollower:
    """Reads the lines appended to a log file since the last call (for streaming a server's output live)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = ""

    def new_lines(self) -> list[str]:
        try:
            with open(self.path, errors="replace") as f:
                if os.fstat(f.fileno()).st_size < self.offset:
                    self.offset = 0  # the log was rotated (runtime --log-file): a new file started
                f.seek(self.offset)
                chunk = f.read()
                self.offset = f.tell()
        except FileNotFoundError:
            return []
        text = self.partial + chunk
        *complete, self.partial = text.split("\n")
        return complete

    def rest(self) -> list[str]:
        lines = self.new_lines()
        if self.partial:
            lines.append(self.partial)
            self.partial = ""
        return lines
