"""``python -m aci_widgets.runtime``: bind, load score.py, call init(), write the ready file, serve.

Exit status: 0 after SIGTERM/SIGINT, 2 bad arguments, 3 score.py failed to import or init(), 4 could not bind.
Every count of workers, one included, runs under a supervisor (workers.py) that restarts a worker that dies.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING

from .settings import MIB, Settings

if TYPE_CHECKING:
    from .handlers import ScoringApp

EXIT_SCORE_FAILED = 3
EXIT_BIND_FAILED = 4

log = logging.getLogger("aci_widgets.runtime")


class _Terminated(BaseException):
    """SIGTERM/SIGINT before serving (during a long init()): leave quietly, not as an init() failure."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The runtime's command line (auth keys come from ACI_WIDGETS_AUTH_KEYS, never from here)."""
    d = Settings()
    p = argparse.ArgumentParser(prog="python -m aci_widgets.runtime", description=__doc__.splitlines()[0])
    p.add_argument("--score", required=True, help="the entry script defining init() and run(raw_data)")
    p.add_argument("--model-dir", help="models, laid out as <dir>/<model name>/<version>/<files>")
    p.add_argument("--host", default=d.host)
    p.add_argument("--port", type=int, default=d.port, help="0 picks a free port (see the ready file)")
    p.add_argument("--ready-file", help="written atomically as JSON once ready, or when start-up failed")
    p.add_argument("--name", default=d.name, help="service name, shown in swagger.json")
    p.add_argument(
        "--max-body-bytes", type=int, default=d.max_body_bytes, help=f"default {d.max_body_bytes // MIB} MiB"
    )
    p.add_argument("--max-header-bytes", type=int, default=d.max_header_bytes)
    p.add_argument("--header-timeout", type=float, default=d.header_timeout, help="seconds")
    p.add_argument("--body-timeout", type=float, default=d.body_timeout, help="seconds of silence in a body")
    p.add_argument("--min-body-rate", type=float, default=d.min_body_rate,
                   help="bytes/s a body must average once --body-timeout has passed (0: no minimum)")
    p.add_argument("--keepalive-timeout", type=float, default=d.keepalive_timeout, help="seconds")
    p.add_argument("--max-connections", type=_positive_int, default=d.max_connections,
                   help="open connections per process; over it an idle one is closed, else the new one gets 503")
    p.add_argument("--shutdown-timeout", type=float, default=d.shutdown_timeout, help="seconds")
    p.add_argument("--access-log", action="store_true", help="log every request to stderr (costs throughput)")
    p.add_argument("--workers", type=_positive_int, default=1,
                   help="worker processes behind the one port, under a supervisor that restarts them")
    p.add_argument("--scoring-timeout-ms", type=_positive_int, default=round(d.scoring_timeout * 1000),
                   help="longest run(); over it the request gets 504 and its worker is replaced (azureml's "
                        "scoring_timeout_ms)")
    p.add_argument("--max-held-body-bytes", type=int, default=d.max_held_body_bytes,
                   help="request bodies one worker holds at once, beyond it 503 (0: max(256 MiB, 2 x max body))")
    p.add_argument("--allowed-hosts", default="",
                   help="comma-separated Host names beside 127.0.0.1, localhost, [::1] (any port); '*': any host")
    p.add_argument("--cors-origins", default="",
                   help="comma-separated origins allowed cross-origin requests (CORS headers); '*': any")
    p.add_argument("--log-file", help="write all output here, rotated (else it goes to stdout/stderr)")
    p.add_argument("--log-max-bytes", type=_positive_int, default=10 * MIB, help="rotate the log file at this size")
    p.add_argument("--log-backups", type=int, default=3, help="rotated log files kept (FILE.1 is the newest)")
    return p.parse_args(argv)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(
        host=args.host,
        port=args.port,
        name=args.name,
        max_body_bytes=args.max_body_bytes,
        max_header_bytes=args.max_header_bytes,
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        min_body_rate=args.min_body_rate,
        keepalive_timeout=args.keepalive_timeout,
        shutdown_timeout=args.shutdown_timeout,
        max_connections=args.max_connections,
        max_held_body_bytes=max(args.max_held_body_bytes, 0),
        scoring_timeout=args.scoring_timeout_ms / 1000,
        allowed_hosts=_names(args.allowed_hosts),
        cors_origins=_names(args.cors_origins),
        access_log=args.access_log,
    )


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def bind(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """Bind and listen before loading score.py, so the port is known (and connections queue) during init().

    ``reuse_port``: workers get sockets of their own on the same port (see workers.py)."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port and hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(1024)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s aci_widgets.runtime: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False  # the user's score.py may configure the root logger; do not log twice


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated(signum)


def _fail(ready_file: str | None, exc: BaseException, traceback_text: str, status: int) -> int:
    from .readyfile import write_ready_file
    from .tracebacks import describe

    sys.stderr.write(traceback_text)
    sys.stderr.flush()
    if ready_file:
        write_ready_file(
            ready_file, {"status": "failed", "error": describe(exc), "traceback": traceback_text}
        )
    return status


def main(argv: list[str] | None = None) -> int:
    """Start one scoring server; return the process exit status."""
    args = parse_args(argv)
    settings = _settings(args)
    if args.log_file:
        from .logfile import redirect_output

        redirect_output(args.log_file, args.log_max_bytes, args.log_backups)
    _setup_logging()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _raise_terminated)
    try:
        return _start(args, settings)
    except _Terminated:
        log.info("stopped before serving")
        return 0


def _start(args: argparse.Namespace, settings: Settings) -> int:
    from .tracebacks import user_traceback

    try:
        sock = bind(settings.host, settings.port, reuse_port=args.workers > 1)
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", settings.host, settings.port, exc)
        return _fail(args.ready_file, exc, user_traceback(exc), EXIT_BIND_FAILED)
    from .loader import set_model_dir
    from .memory import keep_freed_memory

    not_done = keep_freed_memory()  # before the workers fork: they inherit it
    if not_done:
        log.info("%s", not_done)
    set_model_dir(args.model_dir)
    from .workers import serve_workers  # also at one worker: a worker that dies or overruns is replaced

    return serve_workers(sock, args.workers, settings, args.ready_file, lambda: _load_app(args, settings))


def _auth_keys() -> tuple[str, ...]:
    from .handlers import parse_auth_keys

    return parse_auth_keys(os.environ.get("ACI_WIDGETS_AUTH_KEYS"))


def _load_app(args: argparse.Namespace, settings: Settings) -> tuple[ScoringApp, float, float]:
    """Import score.py, call init(), build the app: (app, import seconds, init seconds). Raises
    ScoreScriptError. One function, so that a worker process (workers.py) starts exactly like a lone server."""
    from .handlers import ScoringApp
    from .loader import call_init, get_run, load_score
    from .swagger import build_swagger

    start = time.perf_counter()
    module = load_score(args.score)
    import_seconds = time.perf_counter() - start
    init_seconds = call_init(module)
    keys = _auth_keys()
    app = ScoringApp(
        get_run(module), swagger=build_swagger(settings.name, auth=bool(keys)), auth_keys=keys, logger=log
    )
    # What is alive now (the model, numpy, scikit-learn: ~10^5 objects) lives as long as the service. Frozen, the
    # collector never walks it again: a full collection after a scikit-learn init() took ~0.1 s, a stall that
    # would land on some request's latency (and, after a fork, would touch every shared page).
    gc.freeze()
    return app, import_seconds, init_seconds


if __name__ == "__main__":
    sys.exit(main())
