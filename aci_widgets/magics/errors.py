"""A user's mistake becomes IPython's ``UsageError``: one clear line in the notebook, no traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from IPython.core.error import UsageError

F = TypeVar("F", bound=Callable[..., Any])


def first_line(exc: BaseException) -> str:
    """The exception's message up to its first newline (the detail is shown elsewhere: panel, printer)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def user_errors(func: F) -> F:
    """Turn the core's errors (bad names, missing files, unknown services, failed deployments) into UsageError."""
    from ..core.errors import AciWidgetsError

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AciWidgetsError as exc:
            raise UsageError(first_line(exc)) from None

    return wrapper  # type: ignore[return-value]
