"""glibc malloc settings for a server that allocates and frees the same megabytes on every request.

By default glibc serves a large allocation with a fresh mmap and hands the free top of its heap back to the system
once it exceeds a threshold. A scoring server gets a body, parses it and builds arrays, a few megabytes for 100
MNIST digits, and frees them all before the next request: each request then maps, faults in and zero-fills that
memory again. Measured here on a 100-digit body, that was ~1.1 of 1.4 ms of the whole server's CPU for a run()
that does nothing, and ~2.5 of 5.9 ms on the fast path. Keeping freed memory in the process, as jemalloc and
tcmalloc do by design, removes it; the price is a resident size that stays at its high-water mark (capped below).
"""

from __future__ import annotations

import os
import sys

MIB = 1024 * 1024
# mallopt() parameters (malloc.h) and the values set: the environment variables below set the same parameters.
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
SETTINGS = ((_M_MMAP_THRESHOLD, 32 * MIB), (_M_TRIM_THRESHOLD, 128 * MIB), (_M_TOP_PAD, 16 * MIB))
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")


def keep_freed_memory() -> str | None:
    """Apply SETTINGS through mallopt(); None when done, else why not (for the start-up log)."""
    if sys.platform != "linux":
        return "malloc left as it is (not Linux)"
    chosen = [name for name in _USER_SETTINGS if name in os.environ]
    if chosen:
        return f"malloc left as it is ({', '.join(chosen)} set in the environment)"
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return "malloc left as it is (no mallopt: not glibc)"
    if not all(mallopt(param, value) == 1 for param, value in SETTINGS):  # glibc returns 1 on success
        return "malloc left as it is (mallopt refused the settings)"
    return None
