"""A container's CPU and memory now, from one non-streaming ``stats`` call, computed as ``docker stats`` does."""

from __future__ import annotations

from typing import Any

from ...core.usage import Usage


def usage_from_stats(stats: dict[str, Any]) -> Usage:
    """``container.stats(stream=False)`` as a ``Usage``: CPU is the container's share of the host's CPU time since
    the engine's previous sample, times the host's CPUs (cores busy); memory is the usage less the page cache
    (cgroup v1 ``total_inactive_file``/``cache``, v2 ``inactive_file``), as the docker CLI shows it."""
    cpu, pre = stats.get("cpu_stats") or {}, stats.get("precpu_stats") or {}
    container_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - \
        (pre.get("cpu_usage") or {}).get("total_usage", 0)
    system_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    cores = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    busy = container_delta / system_delta * cores if system_delta > 0 and container_delta > 0 else 0.0
    memory = stats.get("memory_stats") or {}
    detail = memory.get("stats") or {}
    cache = detail.get("total_inactive_file", detail.get("inactive_file", detail.get("cache", 0)))
    return Usage(cpu_cores=round(busy, 3), memory_bytes=max(0, int(memory.get("usage", 0)) - int(cache)))
