"""``--log-file``: all of a service's output in one file that rotates at a size cap, keeping a few old files.

All: the runtime's log and every print() of score.py, from the supervisor and every worker. They all write into
one pipe (it becomes their stdout and stderr, so C extensions' output is caught too); a small process forked
first, before anything is imported, drains it into the file. Nobody ever writes into a pipe it must drain itself
(a deadlock once the pipe is full), and what a worker wrote before an os._exit is kept. Rotation as logging's
RotatingFileHandler names it: FILE.1 is the newest old file, FILE.<backups> the oldest; a file is cut at a line end
when the chunk in hand has one. The drainer ignores SIGTERM/SIGINT: it leaves at end of input, once every writer
has exited, so the last lines of a shutdown are kept.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys


def redirect_output(path: str, max_bytes: int, backups: int) -> int:
    """Point fds 1 and 2 at a pipe drained into ``path`` by a forked process; that process's pid."""
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(write_end)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            drain(read_end, RotatingFile(path, max_bytes, backups))
        except BaseException:  # noqa: BLE001 - never unwind into the server's code
            code = 1
        finally:
            os._exit(code)
    os.close(read_end)
    os.dup2(write_end, 1)
    os.dup2(write_end, 2)
    os.close(write_end)
    # One write() per line, whatever PYTHONUNBUFFERED says: print() otherwise writes its pieces one by one, and the
    # pieces of two processes' lines would interleave in the pipe (a write of up to PIPE_BUF bytes is atomic).
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(line_buffering=True, write_through=False)  # type: ignore[union-attr]
    return pid


def drain(fd: int, out: RotatingFile) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except InterruptedError:
            continue
        if not chunk:
            return
        out.write(chunk)


class RotatingFile:
    def __init__(self, path: str, max_bytes: int, backups: int) -> None:
        self.path = path
        self.max_bytes = max(1, max_bytes)
        self.backups = max(0, backups)
        self._open()

    def _open(self) -> None:
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.size = os.fstat(self.fd).st_size

    def write(self, data: bytes) -> None:
        while data:
            room = self.max_bytes - self.size
            if len(data) <= room:
                self._write(data)
                return
            cut = data.rfind(b"\n", 0, room) + 1 if room > 0 else 0
            if cut == 0 and self.size == 0:
                cut = len(data)  # one line longer than the cap: it gets a file of its own
            if cut:
                self._write(data[:cut])
                data = data[cut:]
            self.rotate()

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        self.size += len(data)

    def rotate(self) -> None:
        os.close(self.fd)
        if self.backups:
            for i in range(self.backups - 1, 0, -1):
                with contextlib.suppress(FileNotFoundError):
                    os.replace(f"{self.path}.{i}", f"{self.path}.{i + 1}")
            with contextlib.suppress(FileNotFoundError):
                os.replace(self.path, f"{self.path}.1")
        else:
            with contextlib.suppress(FileNotFoundError):
                os.truncate(self.path, 0)
        self._open()
