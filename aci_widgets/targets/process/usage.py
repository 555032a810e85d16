"""CPU and memory of a scoring server's process tree (its supervisor, workers and log writer), read from /proc.

CPU is the tree's CPU time over a short interval (``SAMPLE_SECONDS``), as ``top`` computes it; memory is the tree's
proportional set size (PSS: a page shared by the forked workers is counted once in all, not once per worker, which
summed RSS would do), or its RSS on a kernel without ``smaps_rollup``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ...core.usage import Usage

SAMPLE_SECONDS = 0.25
_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (field 3, the state, first), or None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants alive now."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _cpu_ticks(pids: list[int]) -> dict[int, int]:
    ticks = {}
    for pid in pids:
        if (fields := _stat(pid)) and fields[0] != "Z":
            ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks


def _memory(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def tree_usage(pid: int) -> Usage | None:
    """The process tree under ``pid`` now; None if ``pid`` is not running."""
    pids = tree(pid)
    before, started = _cpu_ticks(pids), time.monotonic()
    if pid not in before:
        return None
    time.sleep(SAMPLE_SECONDS)
    after, seconds = _cpu_ticks(pids), time.monotonic() - started
    busy = sum(after[p] - before[p] for p in after if p in before) / _TICKS
    return Usage(cpu_cores=round(busy / seconds, 3), memory_bytes=sum(_memory(p) for p in after))
