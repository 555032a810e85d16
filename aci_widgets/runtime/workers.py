"""``--workers N``: a supervisor that forks N scoring servers behind the one port (N=1 too).

One Python process runs one request at a time (run() holds the GIL), so a multi-core service needs processes.
The supervisor binds before score.py is imported, as a lone server does: one SO_REUSEPORT socket per worker slot,
all on the port, so the kernel spreads connections over the workers. Measured on 2 cores with keep-alive clients
(wrk -c2..8): with one shared socket the worker that woke first often accepted every connection (asyncio accepts
a whole backlog per wake-up) and the other sat idle; with SO_REUSEPORT both always served. The supervisor keeps
every slot's socket open, so connections queued for a worker that died wait for its replacement instead of being
reset. It never imports score.py: it stays small, restarts a worker that dies (with backoff; a worker whose run()
overran the scoring timeout exits on purpose, see watchdog.py), says in the log and the ready file how the last one
ended, and forwards SIGTERM/SIGINT for a graceful stop. It runs at one worker too: a single process could not
restart itself after an os._exit() in run(); it costs one small process and nothing per request. Without
SO_REUSEPORT the workers share the one socket.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import selectors
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .loader import ScoreScriptError
from .readyfile import write_ready_file
from .tracebacks import describe, user_traceback

if TYPE_CHECKING:
    from .handlers import ScoringApp
    from .settings import Settings

log = logging.getLogger("aci_widgets.runtime")

EXIT_SCORE_FAILED = 3
EXIT_BIND_FAILED = 4
FIRST_BACKOFF = 0.1  # seconds before restarting a worker that died; doubles while it keeps dying young
MAX_BACKOFF = 30.0
STABLE_AFTER = 30.0  # a worker that served this long before dying is restarted quickly again
KILL_GRACE = 5.0  # seconds after the shutdown timeout before SIGKILL
_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGCHLD}

LoadApp = Callable[[], "tuple[ScoringApp, float, float]"]


class _Stopped(BaseException):
    """SIGTERM/SIGINT in a worker before it serves (during init()): leave quietly."""


def _raise_stopped(signum: int, frame: object) -> None:
    raise _Stopped(signum)


class _Worker:
    """One worker slot's current process and what it has said on its status pipe."""

    def __init__(self, slot: int, pid: int, status_fd: int) -> None:
        self.slot = slot
        self.pid = pid
        self.status_fd = status_fd
        self.started = time.monotonic()
        self.buffer = b""
        self.message: dict[str, Any] | None = None  # {"status": "ready" | "failed", ...}


def serve_workers(sock: socket.socket, count: int, settings: Settings, ready_file: str | None,
                  load_app: LoadApp) -> int:
    """Run ``count`` workers on ``sock``'s port until SIGTERM/SIGINT; the exit status of the whole server."""
    try:
        socks = listen_group(sock, count)
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", settings.host, sock.getsockname()[1], exc)
        if ready_file:
            write_ready_file(ready_file, {"status": "failed", "error": describe(exc), "traceback": ""})
        sock.close()
        return EXIT_BIND_FAILED
    return _Supervisor(socks, settings, ready_file, load_app).run()


def listen_group(first: socket.socket, count: int) -> list[socket.socket]:
    """``count`` listening sockets on ``first``'s address: ``first`` and its SO_REUSEPORT siblings, or ``first``
    for every worker when it was bound without SO_REUSEPORT."""
    reuse = getattr(socket, "SO_REUSEPORT", None)
    if count == 1 or reuse is None or not first.getsockopt(socket.SOL_SOCKET, reuse):
        return [first] * count
    socks = [first]
    try:
        for _ in range(count - 1):
            sibling = socket.socket(first.family, socket.SOCK_STREAM)
            socks.append(sibling)
            sibling.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sibling.setsockopt(socket.SOL_SOCKET, reuse, 1)
            sibling.bind(first.getsockname())
            sibling.listen(1024)
            sibling.setblocking(False)
        port = first.getsockname()[1]
        # SO_REUSEPORT would also let us join another process's group on a fixed port and silently share its
        # traffic: refuse, as a plain bind would have.
        if _listeners(port) - {os.fstat(s.fileno()).st_ino for s in socks}:
            raise OSError(errno.EADDRINUSE, f"port {port} is already in use by another process")
    except BaseException:
        for sibling in socks[1:]:
            sibling.close()
        raise
    return socks


def _listeners(port: int) -> set[int]:
    """Socket inodes of the TCP listeners on ``port`` (Linux /proc; empty where it cannot be read)."""
    inodes: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f, None)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(int(fields[9]))
        except (OSError, ValueError, IndexError):
            continue
    return inodes


class _Supervisor:
    def __init__(self, socks: list[socket.socket], settings: Settings, ready_file: str | None,
                 load_app: LoadApp) -> None:
        self.socks = socks  # slot i serves socks[i]
        self.count = len(socks)
        self.settings = settings
        self.ready_file = ready_file
        self.load_app = load_app
        self.port = socks[0].getsockname()[1]
        self.workers: dict[int, _Worker] = {}  # by pid
        self.backoff = [FIRST_BACKOFF] * self.count
        self.restart_at: dict[int, float] = {}  # slot -> monotonic time
        self.serving = False  # every worker was ready once and the ready file is written
        self.exited: list[_Worker] = []  # workers that died before the service was ready
        self.timings: dict[str, float] = {}
        self.last_exit: dict[str, Any] | None = None  # the last worker that ended while serving, and how
        self.stop_signal = 0
        self.selector = selectors.DefaultSelector()
        self.wake_r, self.wake_w = os.pipe()
        # Workers hold the read end; when this process dies (even by SIGKILL) they read EOF and stop.
        self.alive_r, self.alive_w = os.pipe()

    # --- the supervisor's loop -----------------------------------------------------------------------------

    def run(self) -> int:
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # the wakeup fd is what matters
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_stop_signal)
        self.selector.register(self.wake_r, selectors.EVENT_READ)
        for slot in range(self.count):
            self._spawn(slot)
        while not self.stop_signal:
            self._wait_events(self._next_timeout())
            self._reap()
            if not self.serving:
                failure = self._startup_failure()
                if failure is not None:
                    return self._fail(failure)
                if len(self.workers) == self.count and all(self._is_ready(w) for w in self.workers.values()):
                    self._announce_ready()
            now = time.monotonic()
            for slot, due in sorted(self.restart_at.items()):
                if due <= now and not self.stop_signal:
                    del self.restart_at[slot]
                    self._spawn(slot)
        return self._stop(self.stop_signal)

    def _on_stop_signal(self, signum: int, frame: object) -> None:
        self.stop_signal = self.stop_signal or signum

    def _next_timeout(self) -> float | None:
        if not self.restart_at:
            return None
        return max(0.0, min(self.restart_at.values()) - time.monotonic())

    def _wait_events(self, timeout: float | None) -> None:
        for key, _ in self.selector.select(timeout):
            if key.fd == self.wake_r:
                with contextlib.suppress(BlockingIOError):
                    while os.read(self.wake_r, 512):
                        pass
            else:
                self._read_status(key.data)

    def _read_status(self, worker: _Worker) -> bool:
        """Read what the worker wrote on its status pipe (True if anything); at EOF stop watching the pipe."""
        try:
            chunk = os.read(worker.status_fd, 65536)
        except BlockingIOError:
            return False
        if not chunk:
            self._close_status(worker)
            return False
        worker.buffer += chunk
        line, sep, rest = worker.buffer.partition(b"\n")
        if sep and worker.message is None:
            worker.message, worker.buffer = json.loads(line), rest
            self._on_message(worker)
        return True

    def _close_status(self, worker: _Worker) -> None:
        if worker.status_fd >= 0:
            self.selector.unregister(worker.status_fd)
            os.close(worker.status_fd)
            worker.status_fd = -1

    def _on_message(self, worker: _Worker) -> None:
        message = worker.message or {}
        if not self.serving:
            return  # start-up: reported all at once by _announce_ready or _fail
        if message.get("status") == "ready":
            log.info("worker %d ready again (pid %d)", worker.slot, worker.pid)
            self._write_ready()  # keep the worker pids in the ready file current
        else:
            log.error("worker %d could not start: %s", worker.slot, message.get("error", "unknown error"))

    @staticmethod
    def _is_ready(worker: _Worker) -> bool:
        return (worker.message or {}).get("status") == "ready"

    # --- workers: start, watch, restart ---------------------------------------------------------------------

    def _spawn(self, slot: int) -> None:
        status_r, status_w = os.pipe()
        # Block the signals around fork so that neither side runs the other's handlers in between.
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                self._child(slot, status_r, status_w)  # never returns
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        os.close(status_w)
        os.set_blocking(status_r, False)
        worker = _Worker(slot, pid, status_r)
        self.workers[pid] = worker
        self.selector.register(status_r, selectors.EVENT_READ, worker)

    def _reap(self) -> None:
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = self.workers.pop(pid, None)
            if worker is None:
                continue
            while worker.status_fd >= 0 and self._read_status(worker):
                pass  # what it wrote before dying is still in the pipe
            self._on_exit(worker, status)

    def _on_exit(self, worker: _Worker, status: int) -> None:
        self._close_status(worker)
        worker.message = worker.message or {"status": "exited"}
        worker.message.setdefault("exit", _exit_text(status))
        if not self.serving or self.stop_signal:
            self.exited.append(worker)
            return
        slot = worker.slot
        if time.monotonic() - worker.started >= STABLE_AFTER:
            self.backoff[slot] = FIRST_BACKOFF
        delay = self.backoff[slot]
        self.backoff[slot] = min(delay * 2, MAX_BACKOFF)
        self.restart_at[slot] = time.monotonic() + delay
        self.last_exit = {"slot": slot, "pid": worker.pid, "exit": worker.message["exit"],
                          "status": _exit_status(status), "time": time.time()}  # in the next ready file
        log.warning("worker %d (pid %d) %s; restarting it in %.1f s", slot, worker.pid, worker.message["exit"], delay)

    def _startup_failure(self) -> _Worker | None:
        """The first worker that failed or exited before every worker was ready, if any."""
        if self.exited:
            return self.exited[0]
        for worker in self.workers.values():
            if (worker.message or {}).get("status") == "failed":
                return worker
        return None

    # --- ready, failed, stopped -------------------------------------------------------------------------------

    def _announce_ready(self) -> None:
        self.serving = True
        workers = list(self.workers.values())
        import_seconds = max(w.message["import_seconds"] for w in workers)  # type: ignore[index]
        init_seconds = max(w.message["init_seconds"] for w in workers)  # type: ignore[index]
        self.timings = {"import_seconds": round(import_seconds, 6), "init_seconds": round(init_seconds, 6)}
        log.info("%s ready on http://%s:%d (pid %d, %d workers: %s, import %.3f s, init() %.3f s)",
                 self.settings.name, self.settings.host, self.port, os.getpid(), self.count,
                 ", ".join(str(w.pid) for w in sorted(workers, key=lambda w: w.slot)), import_seconds, init_seconds)
        self._write_ready()

    def _write_ready(self) -> None:
        if self.ready_file:
            pids = [w.pid for w in sorted(self.workers.values(), key=lambda w: w.slot)]
            write_ready_file(self.ready_file, {"status": "ready", "port": self.port, "pid": os.getpid(),
                                               "host": self.settings.host, "workers": self.count,
                                               "worker_pids": pids, **self.timings,
                                               **({"last_exit": self.last_exit} if self.last_exit else {})})

    def _fail(self, worker: _Worker) -> int:
        """A worker failed to start before the service was ready: the whole server fails, as a lone one would."""
        self._stop_workers(signal.SIGTERM)
        message = worker.message or {}
        error = message.get("error") or f"worker {worker.slot} {message.get('exit', 'exited')} before it was ready"
        log.error("worker %d could not start: %s", worker.slot, error)
        if self.ready_file:
            write_ready_file(self.ready_file, {"status": "failed", "error": error,
                                               "traceback": message.get("traceback", "")})
        self._close_sockets()
        return EXIT_SCORE_FAILED

    def _stop(self, signum: int) -> int:
        log.info("stopping %d worker(s)", len(self.workers))
        self._stop_workers(signum)
        self._close_sockets()
        log.info("stopped")
        return 0

    def _close_sockets(self) -> None:
        for sock in set(self.socks):
            sock.close()

    def _stop_workers(self, signum: int) -> None:
        """Forward ``signum``; SIGKILL what is left after the workers' own shutdown timeout and a grace."""
        self.restart_at.clear()
        for pid in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
        give_up = time.monotonic() + self.settings.shutdown_timeout + KILL_GRACE
        while self.workers and time.monotonic() < give_up:
            self._wait_events(0.05)
            self._reap()
        for pid in list(self.workers):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        while self.workers:
            with contextlib.suppress(ChildProcessError):
                pid, _ = os.waitpid(-1, 0)
                self.workers.pop(pid, None)
                continue
            break

    # --- inside a worker -------------------------------------------------------------------------------------

    def _child(self, slot: int, status_r: int, status_w: int) -> None:
        """The worker process: never returns into the supervisor's code (os._exit)."""
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, _raise_stopped)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
            self.selector.close()
            for fd in (status_r, self.wake_r, self.wake_w, self.alive_w,
                       *(w.status_fd for w in self.workers.values() if w.status_fd >= 0)):
                os.close(fd)
            for sock in set(self.socks) - {self.socks[slot]}:
                sock.close()
            code = self._worker(slot, status_w)
        except _Stopped:
            code = 0
        except BaseException:  # noqa: BLE001 - a worker must never unwind into the supervisor's stack
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)

    def _worker(self, slot: int, status_w: int) -> int:
        try:
            app, import_seconds, init_seconds = self.load_app()
        except ScoreScriptError as exc:
            text = user_traceback(exc.error)
            sys.stderr.write(text)
            log.error("score.py failed at %s: %s", exc.stage, describe(exc.error))
            _send(status_w, {"status": "failed", "error": describe(exc.error), "traceback": text})
            return EXIT_SCORE_FAILED

        import asyncio

        from .server import serve

        def on_started() -> None:
            loop = asyncio.get_running_loop()

            def supervisor_gone() -> None:
                loop.remove_reader(self.alive_r)
                os.kill(os.getpid(), signal.SIGTERM)

            loop.add_reader(self.alive_r, supervisor_gone)
            _send(status_w, {"status": "ready", "pid": os.getpid(), "import_seconds": import_seconds,
                             "init_seconds": init_seconds})

        serve(self.socks[slot], app, self.settings, on_started)
        return 0


def _send(fd: int, message: dict[str, Any]) -> None:
    """One JSON line to the supervisor, then close: a worker speaks once (ready or failed)."""
    with contextlib.suppress(OSError):
        os.write(fd, json.dumps(message).encode() + b"\n")
        os.close(fd)


def _exit_status(status: int) -> int:
    """As Popen.returncode: the exit status, or minus the signal number."""
    return os.waitstatus_to_exitcode(status)


def _exit_text(status: int) -> str:
    from .watchdog import EXIT_SCORING_TIMEOUT

    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            return f"was killed by {signal.Signals(number).name}"
        except ValueError:
            return f"was killed by signal {number}"
    code = os.waitstatus_to_exitcode(status)
    if code == EXIT_SCORING_TIMEOUT:
        return f"exited with status {code} (its run() overran the scoring timeout)"
    return f"exited with status {code}"
