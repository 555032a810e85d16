"""Start a service by forking it from a warm process of its environment (a "zygote",
``aci_widgets/runtime/zygote.py``) rather than a cold Python: a redeploy then skips re-importing numpy or sklearn.

What it preloads: score.py's imports (top level and init()) and the modules its model pickles name: the seed's
score.py imports only joblib, and joblib.load() in init() is what imports sklearn (~1 s). The pickles are read
opcode by opcode (pickletools), never unpickled.

A zygote is keyed by its environment, that preload list, the deployment's environment variables and the zygote's
code. Its memory never changes after preloading, so every fork starts from the same state, and a module that
proves unsafe (it starts threads at import) spoils only that zygote, which then answers "unsafe" at once until it
idles out. Editing score.py's body keeps its imports, hence its zygote.

Zygotes live detached (daemons under ``<env>/zygotes/``), shared by kernels and workspaces. A zygote lives as long
as a server it forked runs: once the last one is gone (deleted, or its init() failed) it exits after
``ACI_WIDGETS_PREWARM_LINGER_SECONDS`` (default 3 s) without a request, which covers a redeploy's stop-then-start;
with servers running it exits after ``ACI_WIDGETS_PREWARM_IDLE_SECONDS`` (default 30 min) without a deployment.
Whenever forking is not possible the deployment goes on with a fresh process and a notice says why;
``ACI_WIDGETS_PREWARM=0`` turns this off.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import io
import json
import os
import pickletools
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from ...core.errors import OperationCancelled
from ...core.operation import Reporter
from ...runtime.zygote import GPU_MODULES, THREAD_VARS
from .processes import is_running, tail

SWITCH = "ACI_WIDGETS_PREWARM"
IDLE_SECONDS = "ACI_WIDGETS_PREWARM_IDLE_SECONDS"
DEFAULT_IDLE_SECONDS = 1800.0
LINGER_SECONDS = "ACI_WIDGETS_PREWARM_LINGER_SECONDS"
DEFAULT_LINGER_SECONDS = 3.0
START_TIMEOUT = 30.0  # for the zygote to listen (it preloads afterwards, while our request waits)
ANSWER_TIMEOUT = 300.0  # for it to preload and fork
MAX_SOCKET_PATH = 107  # bytes: sockaddr_un.sun_path
_SKIPPED_TOP_LEVEL = {"__future__", "__main__", "builtins", "__builtin__", "copy_reg", "copyreg", "_codecs"}
_PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib", ".sav"}
_PICKLE_SCAN_BYTES = 8 << 20  # the classes come first; big arrays follow


class CannotFork(Exception):
    """Why this server cannot be forked from a zygote; the notice shows it."""


class ForkedServer:
    """A server forked by a zygote: not our child, so liveness comes from /proc (pid + start ticks, like any
    reattached server) and the exit status from the file the zygote writes when it reaps it."""

    def __init__(self, pid: int, ticks: int | None, status_file: Path) -> None:
        self.pid = pid
        self.ticks = ticks
        self.status_file = status_file
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not is_running(self.pid, self.ticks):
            self.returncode = self._exit_status()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0)
            time.sleep(0.02)
        return self.returncode  # type: ignore[return-value]

    def _exit_status(self) -> int:
        """The zygote writes it just after the process ends; -1 if it never does (the zygote itself is gone)."""
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                return int(self.status_file.read_text())
            time.sleep(0.02)
        return -1


def start(command: list[str], cwd: Path, env: dict[str, str], user_env: dict[str, str], log_path: Path,
          report: Reporter) -> ForkedServer | None:
    """Fork ``command`` (``python -m aci_widgets.runtime ...``) from its environment's zygote; None, after a
    notice saying why, when that is not possible and a fresh process must be started instead."""
    if os.environ.get(SWITCH, "").strip() == "0":
        report.notice(f"Pre-warmed start is off ({SWITCH}=0): starting a fresh process.")
        return None
    try:
        return _fork(command, cwd, env, user_env, log_path, report)
    except CannotFork as why:
        report.notice(f"No pre-warmed start: {why}. Starting a fresh process.")
    except (OSError, ValueError, KeyError) as exc:  # never let this shortcut break a deployment
        report.notice(f"No pre-warmed start: {type(exc).__name__}: {exc}. Starting a fresh process.", "warning")
    return None


def _fork(command: list[str], cwd: Path, env: dict[str, str], user_env: dict[str, str], log_path: Path,
          report: Reporter) -> ForkedServer:
    python = Path(command[0])
    if command[1:3] != ["-m", "aci_widgets.runtime"] or "--score" not in command:
        raise CannotFork("not a scoring server command")
    argv = command[3:]
    env_dir = python.parent.parent
    runtime_copy = Path(env.get("PYTHONPATH", "").split(os.pathsep)[0])
    conflicts = [f"{name}={env[name]}" for name in THREAD_VARS if env.get(name, "1") != "1"]
    if conflicts:
        raise CannotFork(f"{', '.join(conflicts)} is set, but a pre-warmed process runs BLAS/OpenMP with one "
                         "thread (threads do not survive fork)")
    entries = preload_entries(Path(argv[argv.index("--score") + 1]))
    if "--model-dir" in argv:
        entries += [m for m in pickled_modules(Path(argv[argv.index("--model-dir") + 1])) if m not in entries]
    gpu = sorted({e.split(":")[0].split(".")[0] for e in entries} & set(GPU_MODULES))
    if gpu:
        raise CannotFork(f"score.py or its model imports {', '.join(gpu)}, a GPU library not safe to use after fork")
    path = socket_path(env_dir, entries, user_env, runtime_copy)
    one_thread = dict.fromkeys(THREAD_VARS, "1")
    zygote_env = {k: v for k, v in env.items() if k != "ACI_WIDGETS_AUTH_KEYS"} | one_thread
    status_file = log_path.with_name("exit_status")
    status_file.unlink(missing_ok=True)
    request = {"op": "fork", "argv": argv, "cwd": str(cwd), "env": env | one_thread, "log": str(log_path),
               "prefix": str(env_dir), "status_file": str(status_file)}
    for _ in range(2):  # a zygote that was idling out as we connected closes without answering: start one again
        conn = _connect_or_start(path, python, entries, zygote_env)
        with conn:
            answer = _exchange(conn, request, report)
        if answer is not None:
            break
    else:
        raise CannotFork(f"the pre-warmed process of {env_dir.name} closed the connection without answering "
                         f"(see {path.with_suffix('.log')})")
    if "pid" not in answer:
        kind = "is not safe to fork" if answer.get("unsafe") else "cannot fork"
        raise CannotFork(f"the pre-warmed process of {env_dir.name} {kind}: {answer.get('error', 'unknown error')}")
    report.log(f"Forked from the pre-warmed process {answer['zygote']} of environment {env_dir.name} "
               f"(preloaded: {', '.join(answer.get('preloaded') or ['the runtime only'])}).", "service")
    return ForkedServer(int(answer["pid"]), answer.get("ticks"), status_file)


def preload_entries(score: Path) -> list[str]:
    """What score.py imports at its top level and in init(): ``pkg.mod`` for ``import pkg.mod``, ``pkg:name`` for
    ``from pkg import name``. Skipped: relative imports and the user's own modules beside score.py (they change
    with it, and must shadow installed ones as they do in a cold start). aci_widgets modules are listed: the
    zygote imports them for their dependencies only, then drops them."""
    try:
        tree = ast.parse(score.read_text(encoding="utf-8"), str(score))
        local = {p.name.split(".")[0] for p in score.parent.iterdir()}
    except (OSError, SyntaxError, ValueError):
        return []  # the server reports a broken score.py itself
    entries: list[str] = []

    def add(module: str, name: str = "") -> None:
        top = module.split(".")[0]
        entry = f"{module}:{name}" if name and name != "*" else module
        if top not in _SKIPPED_TOP_LEVEL and top not in local and entry not in entries:
            entries.append(entry)

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    add(node.module, alias.name)
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for block in ("body", "orelse", "handlers", "finalbody"):
                    for child in getattr(node, block, []):
                        visit(child.body if isinstance(child, ast.ExceptHandler) else [child])
            elif isinstance(node, ast.FunctionDef) and node.name == "init":
                visit(node.body)  # init() runs at every start: its imports are as certain as the top level's

    visit(tree.body)
    return entries


def pickled_modules(models_dir: Path) -> list[str]:
    """Modules named by the GLOBAL opcodes of the model pickles under ``models_dir`` (nothing is unpickled)."""
    found: list[str] = []
    for path in sorted(p for p in models_dir.rglob("*") if p.suffix.lower() in _PICKLE_SUFFIXES and p.is_file()):
        try:
            with open(path, "rb") as f:
                head = f.read(_PICKLE_SCAN_BYTES)
        except OSError:
            continue
        for module in _pickle_globals(head):
            top = module.split(".")[0]
            if top.isidentifier() and top not in _SKIPPED_TOP_LEVEL and module not in found:
                found.append(module)
    return found


def _pickle_globals(data: bytes) -> list[str]:
    """Module names of GLOBAL / STACK_GLOBAL opcodes, until the stream ends or stops parsing (joblib appends raw
    array bytes after its wrappers). STACK_GLOBAL's module is the string pushed (or fetched from the memo) first."""
    modules: list[str] = []
    memo: list[Any] = []
    pushed: list[Any] = [None, None]  # the last two values pushed, as far as strings go
    with contextlib.suppress(Exception):
        for opcode, arg, _ in pickletools.genops(io.BytesIO(data)):
            name = opcode.name
            if name == "GLOBAL":
                modules.append(str(arg).split(" ")[0])
            elif name == "STACK_GLOBAL":
                if isinstance(pushed[-2], str):
                    modules.append(pushed[-2])
            elif name == "MEMOIZE":
                memo.append(pushed[-1])
            elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
                memo.extend([None] * (int(arg) + 1 - len(memo)))
                memo[int(arg)] = pushed[-1]
            elif name in ("BINGET", "LONG_BINGET", "GET"):
                index = int(arg)
                pushed.append(memo[index] if index < len(memo) else None)
            elif name == "STOP":
                break
            elif opcode.stack_after:
                pushed.append(arg if isinstance(arg, str) and "UNICODE" in name else None)
            del pushed[:-2]
    return modules


def socket_path(env_dir: Path, entries: list[str], user_env: dict[str, str], runtime_copy: Path) -> Path:
    """The zygote for this environment, preload list, deployment variables and zygote code."""
    zygote_code = runtime_copy / "aci_widgets" / "runtime" / "zygote.py"
    try:
        code_hash = hashlib.sha256(zygote_code.read_bytes()).hexdigest()
    except OSError as exc:
        raise CannotFork(f"the image has no zygote code ({exc})") from exc
    identity = json.dumps({"env": str(env_dir), "preload": entries, "environment": user_env, "code": code_hash},
                          sort_keys=True)
    path = env_dir / "zygotes" / f"{hashlib.sha256(identity.encode()).hexdigest()[:16]}.sock"
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise CannotFork(f"the socket path {path} is longer than a Unix socket allows")
    return path


def _connect(path: Path) -> socket.socket | None:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
    except OSError:
        conn.close()
        return None
    return conn


def _connect_or_start(path: Path, python: Path, entries: list[str], env: dict[str, str]) -> socket.socket:
    conn = _connect(path)
    if conn is not None:
        return conn
    from filelock import FileLock, Timeout

    path.parent.mkdir(exist_ok=True)
    try:
        with FileLock(str(path.with_suffix(".lock")), timeout=START_TIMEOUT):  # one starter across kernels
            conn = _connect(path)
            if conn is None:
                _spawn(path, python, entries, env)
                conn = _connect(path)
    except Timeout as exc:
        raise CannotFork(f"another process has been starting the pre-warmed process for {START_TIMEOUT:.0f} s") \
            from exc
    if conn is None:
        raise CannotFork(f"the pre-warmed process does not listen on {path}")
    return conn


def _spawn(path: Path, python: Path, entries: list[str], env: dict[str, str]) -> None:
    """Start the zygote; it returns once it listens (then preloads in a detached grandchild, not our child)."""
    log = path.with_suffix(".log")
    idle = os.environ.get(IDLE_SECONDS, "") or str(DEFAULT_IDLE_SECONDS)
    linger = os.environ.get(LINGER_SECONDS, "") or str(DEFAULT_LINGER_SECONDS)
    command = [str(python), "-m", "aci_widgets.runtime.zygote", "--socket", str(path), "--preload",
               ",".join(entries), "--idle-timeout", idle, "--linger", linger, "--daemon"]
    with open(log, "ab") as out:
        proc = subprocess.Popen(command, cwd=path.parent, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        status = proc.wait(START_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise CannotFork(f"the pre-warmed process did not start within {START_TIMEOUT:.0f} s") from None
    if status != 0:
        last = tail(log, 1).strip() or f"exit status {status}"
        raise CannotFork(f"the pre-warmed process could not start: {last}")


def _exchange(conn: socket.socket, request: dict[str, Any], report: Reporter) -> dict[str, Any] | None:
    """Send ``request``, wait for the answer (the zygote may still be preloading); None if it closed first."""
    try:
        conn.sendall(json.dumps(request).encode() + b"\n")
    except OSError:
        return None
    conn.settimeout(0.2)
    data = b""
    give_up = time.monotonic() + ANSWER_TIMEOUT
    while b"\n" not in data:
        try:
            chunk = conn.recv(65536)
        except TimeoutError:
            if report.cancelled:
                raise OperationCancelled("The deployment was cancelled before the server was forked.") from None
            if time.monotonic() > give_up:
                raise CannotFork(f"the pre-warmed process did not answer within {ANSWER_TIMEOUT:.0f} s") from None
            continue
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return json.loads(data.split(b"\n", 1)[0])


# --- what runs, and stopping it (aci-widgets ps / stop --all, tests) -------------------------------------------


def zygotes(env_dir: Path) -> list[dict[str, Any]]:
    """What each live zygote of ``env_dir`` says about itself (``ping``: pid, preloaded modules, the servers it
    forked that still run as ``children`` with their ``cwd``), with its ``socket``."""
    found = []
    for path in sorted((env_dir / "zygotes").glob("*.sock")):
        answer = _ask(path, {"op": "ping"})
        if answer is not None:
            found.append({**answer, "socket": str(path)})
    return found


def all_zygotes(envs: Path) -> list[dict[str, Any]]:
    """The live zygotes of every environment under ``envs`` (the cached environments' folder)."""
    return [z for env_dir in sorted(p for p in envs.iterdir() if p.is_dir()) for z in zygotes(env_dir)] \
        if envs.is_dir() else []


def stop_idle(envs: Path) -> list[dict[str, Any]]:
    """Stop every zygote under ``envs`` that no running server needs (asked of each: one that forked a server
    meanwhile stays); return those that stopped."""
    stopped = []
    for zygote in all_zygotes(envs):
        answer = _ask(Path(zygote["socket"]), {"op": "stop", "if_idle": True})
        if answer and answer.get("stopping"):
            stopped.append(zygote)
    return stopped


def stop_zygotes(env_dir: Path) -> list[int]:
    """Ask every zygote of ``env_dir`` to exit (servers it forked keep running); their pids."""
    pids = [z["zygote"] for z in zygotes(env_dir)]
    for path in (env_dir / "zygotes").glob("*.sock"):
        _ask(path, {"op": "stop"})
    return pids


def _ask(path: Path, message: dict[str, Any]) -> dict[str, Any] | None:
    conn = _connect(path)
    if conn is None:
        return None
    with conn:
        conn.settimeout(10)
        try:
            conn.sendall(json.dumps(message).encode() + b"\n")
            data = b""
            while b"\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return None
                data += chunk
        except OSError:
            return None
    return json.loads(data.split(b"\n", 1)[0])
