"""Split a magic's line as a shell would, so quotes group words and are removed (``--test-input '{"a": x}'``).

IPython's own ``parse_argstring`` keeps the quotes (non-POSIX splitting, for Windows paths); on POSIX systems the
magics follow the shell's rules instead.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.utils.process import arg_split


def parse_line(magic: Callable[..., Any], line: str) -> argparse.Namespace:
    """Parse ``line`` with the parser ``@magic_arguments`` attached to ``magic`` (errors are UsageError)."""
    try:
        argv = arg_split(line, posix=os.name != "nt", strict=True)
    except ValueError as exc:  # an unclosed quote
        raise UsageError(f"Cannot read the arguments: {exc} in {line!r}.") from None
    return magic.parser.parse_args(argv)  # type: ignore[attr-defined]
