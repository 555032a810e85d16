"""A thread beside each worker's event loop: health answers while run() is busy, and the scoring timeout.

run() runs on the event loop thread: handing every request to another thread would cost a thread switch and a
wake-up of the loop per request, more than the rest of the server's own work on a small body. While run() runs,
nothing else in the process is served, so the loop marks each call (``Connections.busy = (start, connection)``, one
tuple store) and this thread looks every 20 ms. Once run() has been busy that long:

- it accepts new connections from the worker's listening socket itself and peeks at each request head: ``GET /``,
  ``HEAD /`` and ``/health`` are answered here (``Healthy``, then close); any other connection is handed over unread
  to the event loop, which serves it once run() returns. Keep-alive connections the loop already holds wait.
- past the scoring timeout (azureml's ``scoring_timeout_ms``), it answers that request 504, says so in the log and
  ends the process with EXIT_SCORING_TIMEOUT; the supervisor starts a fresh worker. A Python thread cannot be
  stopped safely in the middle of user code: gunicorn's worker timeout replaces the worker the same way.

It needs the GIL for a moment per look: a run() in pure Python gives it up every 5 ms (sys.getswitchinterval), and
sleeping or waiting on I/O at once; only a single C call that holds the GIL for longer delays it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .handlers import HEALTHY
from .responses import json_error, render

if TYPE_CHECKING:
    from .server import Connections
    from .settings import Settings

EXIT_SCORING_TIMEOUT = 5
TICK = 0.02  # seconds between two looks; also how long run() must be busy before health is answered here
HEAD_WAIT = 0.25  # how long a new connection may take to send its request head before it is handed over
_HEALTH = (b"GET / ", b"HEAD / ", b"GET /health ", b"HEAD /health ", b"GET /?", b"GET /health?")
_MAX_HEAD = 8192


class Watchdog(threading.Thread):
    def __init__(self, connections: Connections, listener: socket.socket, loop: asyncio.AbstractEventLoop,
                 protocol: Callable[[], asyncio.Protocol], settings: Settings) -> None:
        super().__init__(name="aci_widgets-watchdog", daemon=True)
        self.connections = connections
        self.listener = listener
        self.loop = loop
        self.protocol = protocol
        self.timeout = settings.scoring_timeout

    def run(self) -> None:
        monotonic = time.monotonic
        while True:
            busy = self.connections.busy
            if busy is None:
                time.sleep(TICK)
                continue
            started, conn = busy
            waited = monotonic() - started
            if self.timeout and waited >= self.timeout:
                self._timed_out(conn, waited)
            if waited < TICK:
                time.sleep(TICK)
                continue
            wait = TICK if not self.timeout else max(0.0, min(TICK, self.timeout - waited))
            with contextlib.suppress(OSError, ValueError):
                if select.select([self.listener], [], [], wait)[0]:
                    self._accept()

    # -- health while run() is busy ----------------------------------------------------------------------------

    def _accept(self) -> None:
        try:
            client, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return  # the event loop took it (run() returned), or the client left
        try:
            if self._answer_health(client):
                return
        except OSError:
            client.close()
            return
        self.loop.call_soon_threadsafe(self._adopt, client)

    def _answer_health(self, client: socket.socket) -> bool:
        """Answer a health check on ``client`` and close it; False (nothing read) for anything else."""
        client.setblocking(True)
        client.settimeout(HEAD_WAIT)
        give_up = time.monotonic() + HEAD_WAIT
        while True:
            if not select.select([client], [], [], max(0.0, give_up - time.monotonic()))[0]:
                return False
            head = client.recv(_MAX_HEAD, socket.MSG_PEEK)
            if not head or not any(h.startswith(head[: len(h)]) for h in _HEALTH):
                return False  # closed, or not a health check: the event loop will see
            end = head.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(head) >= _MAX_HEAD or time.monotonic() >= give_up:
                return False
            time.sleep(0.005)  # a partial head stays readable: do not spin on it
        lower = head[:end].lower()
        if not any(head.startswith(h) for h in _HEALTH) or len(head) > end + 4 or b"\ncontent-length:" in lower \
                or b"\ntransfer-encoding:" in lower:
            return False  # a body or pipelined requests: leave all of it to the event loop
        client.recv(end + 4)
        client.sendall(render(HEALTHY, b"close", head.startswith(b"HEAD")))
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_WR)
        client.close()
        return True

    def _adopt(self, client: socket.socket) -> None:
        """On the event loop thread: serve a connection this thread accepted, as if the loop had."""
        client.setblocking(False)
        self.loop.create_task(self.loop.connect_accepted_socket(self.protocol, client))

    # -- the scoring timeout -----------------------------------------------------------------------------------

    def _timed_out(self, conn: object, waited: float) -> None:
        ms = round(self.timeout * 1000)
        message = (f"run() did not finish within the scoring timeout (scoring_timeout_ms={ms}); this request was "
                   "stopped and the worker that ran it is being replaced.")
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        # os.write, not logging: the event loop thread is stuck somewhere in run() and may hold any lock.
        with contextlib.suppress(OSError):
            os.write(2, f"{stamp} ERROR aci_widgets.runtime: run() has run for {waited:.1f} s, over "
                        f"scoring_timeout_ms={ms}: answered 504; worker pid {os.getpid()} exits with status "
                        f"{EXIT_SCORING_TIMEOUT} and is replaced\n".encode())
        sock = getattr(conn, "sock", None)
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.write(sock.fileno(), render(json_error(504, message), b"close"))  # type: ignore[union-attr]
        os._exit(EXIT_SCORING_TIMEOUT)
