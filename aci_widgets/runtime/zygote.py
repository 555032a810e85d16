"""``python -m aci_widgets.runtime.zygote``: a warm process of one environment that forks scoring servers.

Why: a cold server spends most of its start-up importing the environment's heavy modules (sklearn pulls scipy:
~1 s). This process imports them once, then forks one server per deployment; the child only imports score.py's own
code and runs init(). It runs inside the image's environment, started by the process target (prewarm.py).

Fork safety: fork() copies only the calling thread, so a lock held by any other thread (an OpenBLAS pool, a
logging handler's thread) stays locked forever in the child. This process therefore stays single-threaded: it
runs BLAS/OpenMP single-threaded (its parent sets *_NUM_THREADS=1 before anything is imported), checks the thread
count (Python's and the kernel's) before every fork, refuses GPU libraries, and answers "unsafe" instead of forking.

Protocol: one JSON line per connection on a Unix socket (mode 0600), one JSON line back.
  {"op": "fork", "argv", "cwd", "env", "log", "prefix", "status_file"} -> {"pid", "ticks", "zygote"} | {"error",
  "unsafe"};  {"op": "ping"} -> what this process is, with the servers it forked that still run;
  {"op": "stop"} -> {"stopping": true};  {"op": "stop", "if_idle": true} -> the same, or {"stopping": false,
  "children": [...]} while servers it forked still run.

Lifetime: it serves the services it forked. Once none is left (the last one was deleted, or its init() failed) it
exits after ``--linger`` seconds without a request: long enough for a redeploy, which stops the old server just
before it asks for the new one, short enough that nothing stays behind a deleted service. With servers running,
it exits after ``--idle-timeout`` seconds without a request. Its servers never depend on it.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import importlib.util
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from typing import Any, NoReturn

# Every server imports these: always preloaded (asyncio alone is ~30 ms). The runtime's own modules, like any
# aci_widgets module, are imported only to load what they depend on, then dropped: each child imports its image's
# own copy of aci_widgets, never this process's.
RUNTIME_MODULES = ("hmac", "aci_widgets.runtime.__main__", "aci_widgets.runtime.server",
                   "aci_widgets.runtime.handlers", "aci_widgets.runtime.swagger", "aci_widgets.runtime.workers")
# Not safe to fork once imported (CUDA contexts, driver threads): never preloaded, and a reason to refuse.
GPU_MODULES = ("torch", "tensorflow", "jax", "jaxlib", "cupy", "pycuda", "mxnet", "paddle", "tensorrt")
GPU_LIBRARIES = ("libcuda.so", "libcudart", "libnvidia-ml", "libhip", "libamdhip")
# Thread pools that native libraries size from these at load time; all set to 1 before anything is imported.
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS")
CHECK_SECONDS = 1.0  # how often an idle zygote checks that its socket is still its own
MAX_REQUEST = 1 << 20

_status_files: dict[int, str] = {}  # forked pid -> where to write its exit status once reaped
_children: dict[int, str] = {}  # forked pid -> its working directory (the service's app folder), while it runs
_last_exit = 0.0  # time.monotonic() when the last forked server ended
_stop = False


def log(message: str) -> None:
    sys.stderr.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} aci_widgets.zygote[{os.getpid()}]: {message}\n")
    sys.stderr.flush()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m aci_widgets.runtime.zygote", description=__doc__.splitlines()[0])
    p.add_argument("--socket", required=True, help="the Unix socket to listen on")
    p.add_argument("--preload", default="", help="modules, comma-separated; 'pkg:name' is 'from pkg import name'")
    p.add_argument("--idle-timeout", type=float, default=1800.0, help="seconds without a request before exiting")
    p.add_argument("--linger", type=float, default=3.0,
                   help="seconds without a request before exiting once no server it forked runs")
    p.add_argument("--daemon", action="store_true", help="return once listening; keep serving in a grandchild")
    return p.parse_args(argv)


# --- preloading -----------------------------------------------------------------------------------------------


def preload(entries: list[str]) -> tuple[list[str], dict[str, str]]:
    """Import what is importable here: (imported, {skipped: why}). A module that fails to import is skipped;
    aci_widgets modules are dropped again once imported (see RUNTIME_MODULES)."""
    imported: list[str] = []
    skipped: dict[str, str] = {}
    for entry in [*RUNTIME_MODULES, *entries]:
        module, _, name = entry.partition(":")
        if module.split(".")[0] in GPU_MODULES:
            skipped[entry] = "GPU library"
            continue
        try:
            if importlib.util.find_spec(module.split(".")[0]) is None:
                skipped[entry] = "not installed here"
                continue
            package = importlib.import_module(module)
            # As ``from module import name`` does: a submodule only if the package has no such attribute.
            if name and not hasattr(package, name) and hasattr(package, "__path__"):
                importlib.import_module(f"{module}.{name}")
        except (Exception, SystemExit) as exc:
            skipped[entry] = f"{type(exc).__name__}: {exc}"
            continue
        imported.append(entry)
    _forget_aci_widgets()
    return imported, skipped


def _forget_aci_widgets() -> None:
    for name in [m for m in sys.modules if m == "aci_widgets" or m.startswith("aci_widgets.")]:
        del sys.modules[name]


def thread_hazard() -> str | None:
    """Threads besides this one (Python's or native), checked before every fork: fork() would not copy them."""
    import threading

    try:
        tasks = len(os.listdir("/proc/self/task"))
    except OSError:
        tasks = 1
    if threading.active_count() > 1 or tasks > 1:
        return (f"{max(threading.active_count(), tasks) - 1} thread(s) besides the main one are running "
                "(a preloaded module started them at import)")
    return None


def gpu_hazard() -> str | None:
    """A GPU library imported or its driver loaded. Checked once after preloading (nothing is imported later):
    reading /proc/self/maps costs milliseconds."""
    gpu = sorted(m for m in GPU_MODULES if m in sys.modules)
    if gpu:
        return f"GPU library imported: {', '.join(gpu)}"
    with contextlib.suppress(OSError), open("/proc/self/maps") as f:
        maps = f.read()
        for lib in GPU_LIBRARIES:
            if lib in maps:
                return f"a GPU driver library is loaded: {lib}"
    return None


# --- the server loop ---------------------------------------------------------------------------------------------


class Zygote:
    def __init__(self, listener: socket.socket, path: str, idle_timeout: float, base_path: list[str],
                 preloaded: list[str], skipped: dict[str, str], umask: int, gpu: str | None,
                 linger: float = 3.0) -> None:
        self.listener = listener
        self.path = path
        self.inode = os.stat(path).st_ino
        self.idle_timeout = idle_timeout
        self.linger = linger
        self.base_path = base_path
        self.preloaded = preloaded
        self.skipped = skipped
        self.umask = umask
        self.gpu = gpu
        self.last_request = time.monotonic()

    def serve(self) -> int:
        while not _stop:
            idle = time.monotonic() - self.last_request
            if idle >= self.idle_timeout:
                log(f"idle for {idle:.0f} s; exiting")
                break
            unused = time.monotonic() - max(self.last_request, _last_exit)
            if not _children and unused >= self.linger:
                log(f"no server of mine runs and no request for {unused:.0f} s; exiting")
                break
            if not self._socket_is_mine():
                log("the socket file was removed or replaced; exiting")
                return 0
            wait = min(CHECK_SECONDS, self.idle_timeout - idle, max(self.linger - unused, 0.05))
            ready, _, _ = select.select([self.listener], [], [], wait)
            if ready:
                with contextlib.suppress(BlockingIOError, InterruptedError):
                    conn, _ = self.listener.accept()
                    with conn:
                        self.last_request = time.monotonic()
                        self._handle(conn)
        if self._socket_is_mine():
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        return 0

    def _socket_is_mine(self) -> bool:
        try:
            return os.stat(self.path).st_ino == self.inode
        except OSError:
            return False

    def _handle(self, conn: socket.socket) -> None:
        conn.setblocking(True)
        conn.settimeout(5.0)
        try:
            uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[1]
            if uid != os.getuid():
                return _reply(conn, {"error": "not the owner of this process", "unsafe": False})
            request = _read_request(conn)
        except (OSError, ValueError) as exc:
            log(f"bad request: {exc}")
            return None
        if request is None:
            return None  # a connection test, or a client that gave up
        op = request.get("op")
        _reap(0, None)  # servers that ended just now are not counted as running
        if op == "ping":
            return _reply(conn, self.describe())
        if op == "stop" and request.get("if_idle") and _children:
            return _reply(conn, {"stopping": False, "children": _describe_children()})
        if op == "stop":
            _reply(conn, {"stopping": True})
            global _stop
            _stop = True
            return None
        if op == "fork":
            return _reply(conn, self._fork(request, conn))
        return _reply(conn, {"error": f"unknown op {op!r}", "unsafe": False})

    def describe(self) -> dict[str, Any]:
        return {"zygote": os.getpid(), "prefix": sys.prefix, "python": sys.version.split()[0],
                "preloaded": self.preloaded, "skipped": self.skipped, "hazard": self.hazard(),
                "idle_timeout": self.idle_timeout, "linger": self.linger, "children": _describe_children()}

    def hazard(self) -> str | None:
        return self.gpu or thread_hazard()

    def _fork(self, request: dict[str, Any], conn: socket.socket) -> dict[str, Any]:
        if os.path.realpath(request.get("prefix", "")) != os.path.realpath(sys.prefix):
            return {"error": f"this process runs environment {sys.prefix}, not {request.get('prefix')}",
                    "unsafe": False}
        hazard = self.hazard()
        if hazard:
            return {"error": hazard, "unsafe": True}
        if _client_gone(conn):
            log("the client went away before the fork (deployment cancelled?); not forking")
            return {"error": "client went away", "unsafe": False}
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})  # reap only once the pid is recorded
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                self._child(request, conn)
            _children[pid] = str(request.get("cwd", ""))
            if request.get("status_file"):
                _status_files[pid] = request["status_file"]
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        log(f"forked server {pid} in {request.get('cwd')}")
        return {"pid": pid, "ticks": _start_ticks(pid), "zygote": os.getpid(),
                "preloaded": [e for e in self.preloaded if e not in RUNTIME_MODULES]}

    def _child(self, request: dict[str, Any], conn: socket.socket) -> NoReturn:
        """Become the server a cold ``python -m aci_widgets.runtime ...`` would have been, then exit."""
        code = 1
        try:
            for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            self.listener.close()
            conn.close()
            os.setsid()  # its own process group: the target stops it with killpg, like a cold one
            os.umask(self.umask)
            fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.close(fd)
            os.close(null)
            cwd = request["cwd"]
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(request["env"])
            pythonpath = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
            sys.path[:] = [cwd, *pythonpath, *self.base_path]  # as `python -m` run in cwd would have it
            _forget_aci_widgets()  # the image's own copy runs (preload dropped this process's; be sure)
            importlib.invalidate_caches()
            _reseed()
            runtime = importlib.import_module("aci_widgets.runtime.__main__")
            sys.argv = [runtime.__file__ or "aci_widgets.runtime", *request["argv"]]
            code = runtime.main(request["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001 - never unwind into the zygote's loop
            import traceback

            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)


def _reseed() -> None:
    """Every child would otherwise draw the same numpy random numbers (``random`` reseeds itself at fork)."""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        with contextlib.suppress(Exception):
            numpy.random.seed()


def _read_request(conn: socket.socket) -> dict[str, Any] | None:
    data = b""
    while b"\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > MAX_REQUEST:
            raise ValueError("request too large")
    return json.loads(data.split(b"\n", 1)[0])


def _reply(conn: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(message).encode() + b"\n")


def _client_gone(conn: socket.socket) -> bool:
    """The client closed its end (it was cancelled): forking would leave a server nobody waits for."""
    conn.setblocking(False)
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        conn.settimeout(5.0)


def _start_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _describe_children() -> list[dict[str, Any]]:
    return [{"pid": pid, "cwd": cwd} for pid, cwd in sorted(_children.items())]


def _reap(signum: int, frame: object) -> None:
    """SIGCHLD: reap every finished server (no zombies), writing its exit status where the target looks."""
    global _last_exit
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if _children.pop(pid, None) is not None:
            _last_exit = time.monotonic()
        path = _status_files.pop(pid, None)
        if path:
            with contextlib.suppress(OSError), open(path, "w") as f:
                f.write(str(os.waitstatus_to_exitcode(status)))


def _on_term(signum: int, frame: object) -> None:
    global _stop
    _stop = True


def _listen(path: str) -> tuple[socket.socket, int]:
    """Listen on ``path``, readable by this user only; returns the socket and the umask to give children."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # our caller holds the lock and found nobody listening: a stale file
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    umask = os.umask(0o077)
    try:
        listener.bind(path)
    finally:
        os.umask(umask)
    listener.listen(64)
    listener.setblocking(False)
    return listener, umask


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for var in THREAD_VARS:
        os.environ.setdefault(var, "1")
    # Preload only the environment's own modules: not from the directory this started in, nor PYTHONPATH (the
    # runtime copy of whichever image started it; each child puts its own image's copy first).
    pythonpath = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    base_path = [p for p in sys.path if p not in pythonpath and p not in ("", os.getcwd())]
    listener, umask = _listen(args.socket)
    if args.daemon:
        sys.stdout.flush()
        if os.fork() != 0:
            os._exit(0)  # the caller waits for this exit: from now on the socket accepts connections
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)
    sys.path[:] = [*pythonpath, *base_path]
    start = time.perf_counter()
    entries = [e for e in args.preload.split(",") if e]
    preloaded, skipped = preload(entries)
    gpu = gpu_hazard()
    hazard = gpu or thread_hazard()
    log(f"preloaded {len(preloaded)} module(s) in {time.perf_counter() - start:.2f} s: "
        f"{', '.join(e for e in preloaded if e not in RUNTIME_MODULES) or 'the runtime only'}"
        + (f"; skipped {', '.join(f'{k} ({v})' for k, v in skipped.items())}" if skipped else "")
        + (f"; NOT SAFE TO FORK: {hazard}" if hazard else ""))
    gc.freeze()  # the preloaded modules stay out of every collection, so forks share their pages untouched
    zygote = Zygote(listener, args.socket, args.idle_timeout, base_path, preloaded, skipped, umask, gpu,
                    args.linger)
    return zygote.serve()


if __name__ == "__main__":
    sys.exit(main())
