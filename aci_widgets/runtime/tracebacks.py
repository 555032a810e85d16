"""Turn an exception from the user's score.py into what a notebook user needs: their own lines, not ours."""

from __future__ import annotations

import os
import traceback
from types import TracebackType
from typing import Any

_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def describe(exc: BaseException) -> str:
    """``"ExcType: message"`` (just ``"ExcType"`` when the message is empty), the one-line form in answers."""
    name = type(exc).__name__
    message = str(exc)
    return f"{name}: {message}" if message else name


def _is_machinery(filename: str) -> bool:
    return filename.startswith(_RUNTIME_DIR) or filename.startswith("<frozen importlib")


def user_traceback(exc: BaseException) -> str:
    """The full traceback text minus the leading frames of this runtime and importlib: only noise."""
    tb: TracebackType | None = exc.__traceback__
    while tb is not None and _is_machinery(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return False


def user_line(exc: BaseException, script_path: str) -> dict[str, Any] | None:
    """The innermost frame of ``exc`` that lies in ``script_path``: where the user should look first."""
    if isinstance(exc, SyntaxError) and exc.filename and _same_file(exc.filename, script_path):
        return {"file": exc.filename, "line": exc.lineno, "code": (exc.text or "").strip()}
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if _same_file(frame.filename, script_path):
            found = frame
    if found is None:
        return None
    return {"file": found.filename, "line": found.lineno, "code": (found.line or "").strip()}
