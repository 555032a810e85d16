"""The HTTP/1.1 server: one asyncio Protocol per connection around httptools' parser, plus the serve loop.

A request whose body has fully arrived joins one queue of the process; the event loop runs one queued request
per turn (a turn also reads whatever arrived on every connection), so requests are served in the order they
completed, whichever connection they came on. A 600 KB body arrives over several turns: without the queue, each of
those turns could first run a whole request of another connection, and the tail latency grows with the body. A
connection's reading pauses while it has a request in the queue (its pipelined requests wait in the socket), so a
client gets no more than its share. Cheap answers (health, errors) are written at once unless that connection
has a request queued before them. run() runs on the event loop thread; while it is busy, a watchdog thread
(watchdog.py) answers health checks on new connections and enforces the scoring timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections import deque
from collections.abc import Callable
from time import monotonic

from httptools import HttpParserCallbackError, HttpParserError, HttpParserUpgrade, HttpRequestParser

from .handlers import HEALTHY, ScoringApp, Target
from .hosts import HostPolicy
from .responses import CONTINUE, Response, json_error, render
from .settings import Settings

log = logging.getLogger("aci_widgets.runtime")

# Connection states. The sweeper acts on a connection whose deadline has passed according to its state.
IDLE = 0  # between requests (or before the first): the keep-alive (or header) timeout runs
HEADERS = 1  # a request has started, its head is arriving: the header timeout runs
BODY = 2  # its body is arriving: the body timeout runs, restarted by every chunk, and the minimum body rate
CLOSING = 3  # answered and closing; after an error, unread input is drained until the linger timeout
QUEUED = 4  # its request waits in the queue for run(): reading is paused, no timeout runs

_TOO_LARGE_HEADERS = json_error(431, "The request headers are too large.")
_TIMEOUT = json_error(408, "Timed out waiting for the rest of the request.")
_BUSY_WARNING_EVERY = 10.0  # seconds between two log lines about refused connections


class _Reject(Exception):
    """Raised inside a parser callback to stop parsing and answer ``response``, then close."""

    def __init__(self, response: Response) -> None:
        self.response = response


class _Stop(Exception):
    """Raised inside a parser callback to stop parsing: the connection is closing, ignore pipelined input."""


class _Queued:
    """A complete request waiting for run(), with what its answer needs (the parser has moved on meanwhile)."""

    __slots__ = ("conn", "target", "body", "held", "keep", "echo", "method", "url")

    def __init__(self, conn: HttpProtocol, target: Target, body: bytes, held: int, keep: bool, echo: bool,
                 method: bytes, url: bytes) -> None:
        self.conn, self.target, self.body, self.held = conn, target, body, held
        self.keep, self.echo, self.method, self.url = keep, echo, method, url


class Connections(set):
    """The open connections of one server, and the queue of their complete requests; ``stopping`` tells late
    arrivals to close after one answer."""

    stopping = False
    busy: tuple[float, HttpProtocol] | None = None  # (start, connection) while run() runs: the watchdog reads it
    held = 0  # bytes of request bodies buffered by all connections (a per-process cap: Settings.held_body_limit)
    refused = 0  # connections answered 503 since the last warning
    warned_at = float("-inf")
    loop: asyncio.AbstractEventLoop | None = None  # set by serve_forever: where the queue is run
    scheduled = False  # a run of the queue is due on the next loop turn

    def __init__(self) -> None:
        super().__init__()
        self.queue: deque[_Queued] = deque()

    def enqueue(self, item: _Queued) -> None:
        self.queue.append(item)
        if not self.scheduled:
            self.scheduled = True
            (self.loop or asyncio.get_running_loop()).call_soon(self.run_one)

    def run_one(self) -> None:
        """Run the oldest queued request whose client is still there; come back on the next turn for the rest."""
        self.scheduled = False
        queue = self.queue
        while queue:
            item = queue.popleft()
            self.held -= item.held
            conn = item.conn
            if conn.state == CLOSING:  # the client left (or the connection failed): nobody reads this answer
                conn.queued -= 1
                continue
            target, keep = item.target, item.keep
            if type(target) is Response:  # a cheap answer that queued behind a request of its connection
                response = target
            else:
                self.busy = (monotonic(), conn)
                try:
                    response = target(item.body)  # type: ignore[operator]
                except Exception:  # noqa: BLE001 - handlers answer run()'s errors themselves; this is the server's
                    log.exception("internal error while handling a request")
                    response, keep = json_error(500, "Internal server error."), False
                finally:
                    self.busy = None
            conn.queued -= 1
            conn.answer(response, keep, item.echo, item.method, item.url)
            break
        if queue and not self.scheduled:
            self.scheduled = True
            (self.loop or asyncio.get_running_loop()).call_soon(self.run_one)

    def make_room(self) -> bool:
        """Close the connection idle the longest (as nginx reuses idle keep-alive connections when it runs out);
        False when none is idle: every open connection has a request under way."""
        idle = [c for c in self if c.state == IDLE]
        if not idle:
            return False
        min(idle, key=lambda c: c.deadline)._close()
        return True

    def refuse(self, now: float, limit: int) -> None:
        """Count a refused connection; say so in the log at most every few seconds."""
        self.refused += 1
        if now - self.warned_at >= _BUSY_WARNING_EVERY:
            log.warning("%d connection(s) refused with 503: %d open, none idle (--max-connections %d)",
                        self.refused, len(self), limit)
            self.refused, self.warned_at = 0, now


class HttpProtocol(asyncio.Protocol):
    """One client connection: parse requests, answer each in order, enforce the limits and timeouts."""

    # Slots: these attributes are read and written several times per request.
    __slots__ = (
        "app",
        "s",
        "policy",
        "sock",
        "host",
        "origin",
        "held",
        "connections",
        "transport",
        "parser",
        "state",
        "deadline",
        "now",
        "shutting_down",
        "max_header_bytes",
        "max_body_bytes",
        "url",
        "method",
        "header_bytes",
        "authorization",
        "content_length",
        "expect_continue",
        "echo_keep_alive",
        "target",
        "body",
        "body_size",
        "body_started",
        "body_last",
        "keep_alive",
        "queued",
        "eof",
        "write_paused",
    )

    def __init__(self, app: ScoringApp, settings: Settings, connections: Connections, policy: HostPolicy) -> None:
        self.app = app
        self.s = settings
        self.policy = policy
        self.sock: socket.socket | None = None
        self.held = 0
        self.connections = connections
        self.transport: asyncio.Transport | None = None
        self.parser = HttpRequestParser(self)
        self.state = IDLE
        self.now = self.deadline = 0.0
        self.shutting_down = False
        self.max_header_bytes = settings.max_header_bytes
        self.max_body_bytes = settings.max_body_bytes
        self.queued = 0  # requests of this connection in the queue
        self.eof = False  # the client has sent all it will: close once its queued requests are answered
        self.write_paused = False
        self.on_message_begin()
        self.state = IDLE

    # -- asyncio.Protocol ------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        self.transport = transport  # type: ignore[assignment]
        self.sock = sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError, AttributeError):  # not TCP (a Unix socket): nothing to turn off
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        now = monotonic()
        self.deadline = now + self.s.header_timeout
        self.shutting_down = self.connections.stopping
        connections = self.connections
        full = len(connections) >= self.s.max_connections and not connections.make_room()
        connections.add(self)  # a refused connection too: the sweeper ends its linger
        if full:
            connections.refuse(now, self.s.max_connections)
            self._reject(self._busy())

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        self.state = CLOSING
        self._release()

    def data_received(self, data: bytes) -> None:
        if self.state == CLOSING or self.eof:
            return  # draining after an error answer, or input pipelined after "Connection: close"
        self.now = monotonic()  # one clock read per chunk; deadlines need no finer time
        try:
            self.parser.feed_data(data)
        except HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, _Reject):
                self._reject(cause.response)
            elif not isinstance(cause, _Stop):
                log.error("internal error while handling a request", exc_info=cause or exc)
                self._reject(json_error(500, "Internal server error."))
        except HttpParserUpgrade:
            self._close()  # the request was answered; switching protocols is not supported
        except HttpParserError as exc:
            self._reject(json_error(400, f"Malformed HTTP request: {exc}."))

    def eof_received(self) -> bool:
        """The client will send nothing more (it may still read): close once our answers are written."""
        if self.queued:
            self.eof = True
            return True  # keep the transport open: the queued requests are answered first
        return False

    def pause_writing(self) -> None:
        # The client does not read its answers: stop reading its requests, so our buffer stays bounded.
        self.write_paused = True
        if self.transport is not None and self.state != CLOSING:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.transport is not None and self.state != CLOSING and not self.queued:
            self.transport.resume_reading()

    # -- httptools callbacks ---------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.state = HEADERS
        self.deadline = self.now + self.s.header_timeout
        self.url = b""
        self.method = b""
        self.header_bytes = 0
        self.authorization: bytes | None = None
        self.host: bytes | None = None
        self.origin: bytes | None = None
        self.content_length: int | None = None
        self.expect_continue = False
        self.echo_keep_alive = False
        self.target: Target | None = None
        self.body: list[bytes] = []
        self.body_size = 0

    def on_url(self, url: bytes) -> None:
        self.url += url
        self.header_bytes += len(url)
        if self.header_bytes > self.max_header_bytes:
            raise _Reject(_TOO_LARGE_HEADERS)

    def on_header(self, name: bytes, value: bytes) -> None:
        size = self.header_bytes + len(name) + len(value) + 4
        self.header_bytes = size
        if size > self.max_header_bytes:
            raise _Reject(_TOO_LARGE_HEADERS)
        n = len(name)  # cheap filter: lower-case only names as long as the six this server reads
        if n == 4 or n == 13 or n == 14 or n == 10 or n == 6:
            lname = name.lower()
            if lname == b"host":
                self.host = value
            elif lname == b"authorization":
                self.authorization = value
            elif lname == b"content-length":
                self.content_length = int(value)  # llhttp has already checked it is a number
            elif lname == b"connection":
                # An HTTP/1.0 client that asks for keep-alive must be told it got it.
                self.echo_keep_alive = b"keep-alive" in value.lower()
            elif lname == b"expect" and value.lower() == b"100-continue":
                self.expect_continue = True
            elif lname == b"origin":
                self.origin = value

    def on_headers_complete(self) -> None:
        parser = self.parser
        self.state = BODY
        self.body_started = self.body_last = self.now
        self.deadline = self.now + self.s.body_timeout
        self.keep_alive = parser.should_keep_alive()
        self.method = method = parser.get_method()
        if self.content_length is not None and self.content_length > self.max_body_bytes:
            raise _Reject(self._too_large())  # before reading a byte of the body
        target = self.app.resolve(method, self.url, self.authorization)
        if target is not HEALTHY:
            host = self.host
            policy = self.policy
            if host is not None and host not in policy.ok_hosts and not policy.host_ok(host):
                target = policy.misdirected(host)
            elif self.origin is not None:
                target = policy.for_origin(self.origin, method, target)
            if type(target) is not Response and self.content_length is not None and \
                    self.connections.held + self.content_length > self.s.held_body_limit:
                raise _Reject(self._full())  # before reading a byte of the body
        self.target = target
        if self.expect_continue:
            if type(target) is Response:
                raise _Reject(target)  # answer now rather than invite a body we would throw away
            self.transport.write(CONTINUE)  # type: ignore[union-attr]

    def on_body(self, chunk: bytes) -> None:
        self.body_size += len(chunk)
        if self.body_size > self.max_body_bytes:
            raise _Reject(self._too_large())  # a chunked body that grew over the limit
        if type(self.target) is not Response:  # only the score handler needs the body; others' is dropped
            n = len(chunk)
            held = self.connections.held + n
            if held > self.s.held_body_limit:
                raise _Reject(self._full())
            self.connections.held = held
            self.held += n
            self.body.append(chunk)
        s = self.s
        self.body_last = now = self.now
        deadline = now + s.body_timeout  # silence
        if s.min_body_rate:  # a trickle: the grace, plus the time its bytes buy at the minimum rate
            by_rate = self.body_started + s.body_timeout + self.body_size / s.min_body_rate
            if by_rate < deadline:
                deadline = by_rate
        self.deadline = deadline

    def on_message_complete(self) -> None:
        target = self.target
        keep = self.keep_alive and not self.shutting_down
        if type(target) is Response and not self.queued:  # nothing of this connection waits before it
            self.state = IDLE  # this request is done
            self.answer(target, keep, self.echo_keep_alive, self.method, self.url)
            if not keep:
                raise _Stop
            return
        body = self.body
        self.connections.enqueue(_Queued(self, target, body[0] if len(body) == 1 else b"".join(body), self.held,  # type: ignore[arg-type]
                                         keep, self.echo_keep_alive, self.method, self.url))
        self.queued += 1
        self.held = 0  # the queue holds these bytes now
        self.body = []
        self.state = QUEUED
        self.deadline = float("inf")
        self.transport.pause_reading()  # type: ignore[union-attr]
        if not keep:
            self.eof = True  # input after "Connection: close" is ignored
            raise _Stop

    def answer(self, response: Response, keep: bool, echo: bool, method: bytes, url: bytes) -> None:
        """Write the answer to a request of this connection; go on reading, or close, as the request asked."""
        keep = keep and not self.shutting_down
        if not keep:
            connection = b"close"
        elif echo:
            connection = b"keep-alive"
        else:
            connection = b""
        transport = self.transport
        transport.write(render(response, connection, method == b"HEAD"))  # type: ignore[union-attr]
        if self.s.access_log:
            self._access(response, method, url)
        if not keep:
            self._close()
        elif self.queued:
            return  # more of this connection's requests wait in the queue
        elif self.eof:
            self._close()
        else:
            now = monotonic()  # run() may have taken a while
            if self.state == QUEUED or self.state == IDLE:
                self.state = IDLE
                self.deadline = now + self.s.keepalive_timeout
            else:  # the next request had started arriving (pipelined in the same packet): its clock restarts
                self.deadline = now + (self.s.body_timeout if self.state == BODY else self.s.header_timeout)
            if not self.write_paused:
                transport.resume_reading()  # type: ignore[union-attr]

    # -- closing, timeouts, shutdown -------------------------------------------------------------------------

    def _busy(self) -> Response:
        return json_error(
            503,
            f"This service has too many open connections ({self.s.max_connections}); retry in a moment.",
            b"Retry-After: 1\r\n",
        )

    def _full(self) -> Response:
        limit = self.s.held_body_limit
        return json_error(503, f"This service is holding as many request bodies as it may at once ({limit} bytes); "
                               "retry in a moment.", b"Retry-After: 1\r\n")

    def _release(self) -> None:
        """Forget the body received so far (the connection closes or is rejected)."""
        self.body = []
        if self.held:
            self.connections.held -= self.held
            self.held = 0

    def _too_slow(self) -> Response:
        rate = self.s.min_body_rate
        return json_error(408, f"The request body arrived too slowly: this service needs at least {rate:g} bytes/s "
                               f"after the first {self.s.body_timeout:g} s.")

    def _too_large(self) -> Response:
        limit = self.s.max_body_bytes
        return json_error(413, f"The request body is larger than this service accepts ({limit} bytes).")

    def _access(self, response: Response, method: bytes | None = None, url: bytes | None = None) -> None:
        peer = self.transport.get_extra_info("peername") if self.transport else None  # type: ignore[union-attr]
        host = peer[0] if isinstance(peer, tuple) else "-"
        log.info(
            '%s "%s %s" %d %d',
            host,
            (self.method if method is None else method).decode("latin-1"),
            (self.url if url is None else url).decode("latin-1")[:200],
            response.status,
            len(response.body),
        )

    def _close(self) -> None:
        """Close once the answers are flushed; the sweeper aborts it if the client never reads them."""
        self.state = CLOSING
        self.deadline = monotonic() + self.s.linger_timeout
        if self.transport is not None:
            self.transport.close()

    def _reject(self, response: Response) -> None:
        """Answer with ``Connection: close`` and drain the client's unread input for a while before closing.

        Closing a socket with unread input makes the kernel send a reset, which can destroy the answer (a 413
        for a body still being sent) before the client reads it; shutting down only our side avoids that.
        """
        if self.state == CLOSING or self.transport is None:
            return
        self.state = CLOSING
        self._release()
        self.deadline = monotonic() + self.s.linger_timeout
        self.transport.write(render(response, b"close"))
        if self.s.access_log:
            self._access(response)
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.transport.resume_reading()
        else:
            self.transport.close()

    def on_timeout(self) -> None:
        """Called by the sweeper once ``deadline`` has passed."""
        if self.queued:
            return  # waiting for our answer, not for the client
        if self.state == IDLE:
            self._close()
        elif self.state == BODY and monotonic() - self.body_last < self.s.body_timeout:
            self._reject(self._too_slow())  # not silent: too slow
        elif self.state in (HEADERS, BODY):
            self._reject(_TIMEOUT)
        elif self.transport is not None:
            self.transport.abort()

    def shutdown(self) -> None:
        """Stop after the request in progress: a body being received is still answered (then the connection
        closes); a connection that is idle or still sending a request head is closed now."""
        self.shutting_down = True
        if (self.state == IDLE or self.state == HEADERS) and not self.queued:
            self._close()


def _tick(settings: Settings) -> float:
    shortest = min(
        settings.header_timeout, settings.body_timeout, settings.keepalive_timeout, settings.linger_timeout
    )
    return min(0.5, max(0.01, shortest / 5))


async def serve_forever(
    sock: socket.socket,
    app: ScoringApp,
    settings: Settings,
    on_started: Callable[[], None] | None = None,
) -> None:
    """Serve on the bound ``sock`` until SIGTERM or SIGINT, then finish in-flight requests and return."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    connections = Connections()
    connections.loop = loop
    policy = HostPolicy(settings.allowed_hosts, settings.cors_origins)

    def protocol() -> HttpProtocol:
        return HttpProtocol(app, settings, connections, policy)

    server = await loop.create_server(protocol, sock=sock, backlog=1024)
    from .watchdog import Watchdog

    Watchdog(connections, sock, loop, protocol, settings).start()
    tick = _tick(settings)

    # One sweeper for all connections: per-request timers would cost a heap push and a cancel each time.
    def sweep() -> None:
        now = monotonic()
        for conn in [c for c in connections if c.deadline <= now]:
            conn.on_timeout()
        sweeper[0] = loop.call_later(tick, sweep)

    sweeper = [loop.call_later(tick, sweep)]
    if on_started is not None:
        on_started()
    await stop.wait()

    log.info("stopping: finishing %d open connection(s)", len(connections))
    server.close()
    connections.stopping = True
    for conn in list(connections):
        conn.shutdown()
    give_up = monotonic() + settings.shutdown_timeout
    while connections and monotonic() < give_up:
        await asyncio.sleep(0.01)
    sweeper[0].cancel()
    for conn in list(connections):
        if conn.transport is not None:
            conn.transport.abort()
    await asyncio.sleep(0)


def serve(
    sock: socket.socket, app: ScoringApp, settings: Settings, on_started: Callable[[], None] | None
) -> None:
    """Run :func:`serve_forever` on a fresh loop (not asyncio.run, which installs its own SIGINT handler)."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(serve_forever(sock, app, settings, on_started))
    finally:
        loop.close()
