"""pip's root cause in the log of a failed install: the line a user can act on, not pip's generic summary.

When a package builds from source, pip ends with ``error: subprocess-exited-with-error`` and a box; the cause is
the last exception in the build's own output above it (``ModuleNotFoundError: No module named 'pkg_resources'``
from an old pin on a new Python). When pip itself refuses (no such version, conflicting pins), the cause is its
first specific ``ERROR:`` line. Both the process and the Docker targets read pip's output, so this lives here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .ansi import strip_ansi

# pip's own summaries, which say that something failed but not what.
_GENERIC = re.compile(
    r"subprocess-exited-with-error|metadata-generation-failed|Failed building wheel|Could not build wheels"
    r"|Failed to build installable wheels|ResolutionImpossible|did not run successfully|See above for output"
    r"|Command errored out",
    re.IGNORECASE,
)
# An exception line of a Python traceback: "ModuleNotFoundError: ...", "distutils.errors.CompileError: ...".
_EXCEPTION = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Exit)(?::\s.*)?$")
# A compiler's or a build tool's own error inside the build output: "error: command 'gcc' failed ...".
_TOOL_ERROR = re.compile(r"^(?:\S+:\d+:\d+: )?(?:fatal )?error: .+")  # lower case: not pip's own "ERROR:"
_BLOCK_START = re.compile(r"╰─> \[\d+ lines of output\]|^\s*\|?\s*\[\d+ lines of output\]")
_BLOCK_END = "[end of output]"
_COLLECTING = re.compile(r"^Collecting (\S+)")
_LONGEST = 300


@dataclass(frozen=True)
class PipFailure:
    """What went wrong (``cause``) and, when a package's build failed, which requirement was being built."""

    cause: str
    requirement: str | None = None

    def __str__(self) -> str:
        if self.requirement:
            return f"{self.cause} (while building {self.requirement} from source)"
        return self.cause


def root_cause(log: str | Iterable[str]) -> PipFailure | None:
    """The root cause of a failed ``pip install`` in its output, or None when the log shows none."""
    lines = [strip_ansi(line).rstrip() for line in (log.splitlines() if isinstance(log, str) else log)]
    built = _from_build_output(lines)
    if built is not None:
        return built
    for line in lines:
        text = line.strip()
        if text.startswith("ERROR: ") and not _GENERIC.search(text):
            return PipFailure(_shorten(text[len("ERROR: "):]))
    return None


def _from_build_output(lines: list[str]) -> PipFailure | None:
    """The last exception (else the last tool error) inside the first block of a failed build's output (the whole
    log when it has no such block, as older pips print it)."""
    requirement = None
    inside = not any(_BLOCK_START.search(line) for line in lines)
    exceptions: list[str] = []
    tool_errors: list[str] = []
    for line in lines:
        text = line.strip()
        if not inside:
            collecting = _COLLECTING.match(text)
            if collecting:
                requirement = collecting.group(1)
            inside = bool(_BLOCK_START.search(text))
            continue
        if text.endswith(_BLOCK_END):
            break
        if _EXCEPTION.match(text):
            exceptions.append(text)
        elif _TOOL_ERROR.match(text) and not _GENERIC.search(text):
            tool_errors.append(text)
    found = exceptions or tool_errors
    return PipFailure(_shorten(found[-1]), requirement) if found else None


def _shorten(text: str) -> str:
    """One line a message can carry: of a version list, the newest few; anything else too long is cut."""
    versions = re.search(r"\(from versions: ([^)]*)\)", text)
    if versions:
        listed = versions.group(1).split(", ")
        newest = ", ".join((["..."] if len(listed) > 5 else []) + listed[-5:])
        text = text[: versions.start()] + f"(from versions: {newest})" + text[versions.end():]
    return text if len(text) <= _LONGEST else text[: _LONGEST - 1] + "…"
