"""The process target's CPU and memory of a server's process tree, read from /proc, on real processes."""

from __future__ import annotations

import subprocess
import sys

from support import wait_until

from aci_widgets.targets.process.usage import tree, tree_usage

# A parent (the "supervisor") whose child (the "worker") holds 200 MiB and spins: only the tree's sum sees both.
CHILD = "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096]); print('ready', flush=True)\nwhile True: pass"
PARENT = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {CHILD!r}])"


def test_the_tree_sums_a_busy_worker_s_cpu_and_memory() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE)
    try:
        assert parent.stdout is not None and parent.stdout.readline() == b"ready\n"
        wait_until(lambda: len(tree(parent.pid)) == 2, "the parent and its child in the tree")
        usage = tree_usage(parent.pid)
        assert usage is not None and usage.measured
        assert usage.memory_bytes > 200 * 2**20  # the child's touched 200 MiB, counted from the parent
        assert usage.cpu_cores > 0  # the child spins for the whole sample
    finally:
        for pid in reversed(tree(parent.pid)):
            subprocess.run(["kill", "-9", str(pid)], check=False)
        parent.wait()
    assert tree_usage(parent.pid) is None  # gone: nothing to measure
