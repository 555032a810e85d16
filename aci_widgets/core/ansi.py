"""Terminal colour and cursor codes, removed: build and server logs carry them; a notebook or a file shows them raw."""

from __future__ import annotations

import re

# CSI sequences (colours, cursor moves: ESC [ ... final byte), OSC sequences (titles, links: ESC ] ... BEL or ST),
# character set choices (ESC ( B), and the two-byte escapes (ESC followed by one of @-Z \ ] ^ _).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[@-Z\\-_]")


def strip_ansi(text: str) -> str:
    """``text`` without ANSI escape sequences; plain text is returned unchanged."""
    return _ANSI.sub("", text) if "\x1b" in text else text
