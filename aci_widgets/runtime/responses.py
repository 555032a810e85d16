"""HTTP/1.1 response bytes, built by hand: this runs on every request, so it avoids any framework."""

from __future__ import annotations

import json
import time
from typing import NamedTuple

JSON = b"application/json"
TEXT = b"text/plain; charset=utf-8"
OCTETS = b"application/octet-stream"

_REASONS = {
    100: "Continue",
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Payload Too Large",
    421: "Misdirected Request",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_STATUS_LINES = {code: f"HTTP/1.1 {code} {reason}\r\n".encode() for code, reason in _REASONS.items()}
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_date_second = -1
_date_line = b""


class Response(NamedTuple):
    """One answer. ``headers`` holds extra, already rendered header lines, each ending in CRLF."""

    status: int
    body: bytes
    content_type: bytes = JSON
    headers: bytes = b""


def json_error(status: int, message: str, headers: bytes = b"") -> Response:
    """An error answer as ``{"error": message}``, the shape every error of this server has."""
    return Response(status, json.dumps({"error": message}).encode(), JSON, headers)


def _date_header() -> bytes:
    """``Date:`` line, formatted at most once a second (locale-independent, unlike strftime's %a and %b)."""
    global _date_second, _date_line
    now = int(time.time())
    if now != _date_second:
        t = time.gmtime(now)
        _date_line = (
            f"Date: {_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT\r\n"
        ).encode()
        _date_second = now
    return _date_line


def render(response: Response, connection: bytes = b"", head_only: bool = False) -> bytes:
    """Status line, headers and body in one buffer, so that one send() carries a small answer.

    ``connection`` is ``b"close"``, ``b"keep-alive"`` (HTTP/1.0 clients that asked for it) or empty.
    """
    status, body, content_type, extra = response
    status_line = _STATUS_LINES.get(status) or f"HTTP/1.1 {status} Unknown\r\n".encode()
    conn = b"Connection: " + connection + b"\r\n" if connection else b""
    head = b"%s%sContent-Type: %s\r\nContent-Length: %d\r\n%s%s\r\n" % (
        status_line,
        _date_header(),
        content_type,
        len(body),
        extra,
        conn,
    )
    return head if head_only else head + body
