"""``Model.profile``: measured for real on the process target.

The models are deployed as a temporary service on local processes, each sample of the input dataset (a one-column
Tabular dataset of request bodies, as azureml's profiling expects) is sent once in order, and the service's process
tree is read from /proc meanwhile: CPU as ticks per interval, memory as resident set size. The recommendation is the
peak plus 20 % headroom, rounded up to ACI's steps (0.1 core, 0.1 GB). The service and its image are deleted after.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import AciWidgetsError, UserErrorException, WebserviceException

if TYPE_CHECKING:
    from .model import Model
    from .workspace import Workspace

HEADROOM = 1.2
DEFAULT_CPU, DEFAULT_MEMORY_GB = 3.5, 15.0  # azureml's profiling instance when cpu / memory_in_gb are not given
_SAMPLE_EVERY = 0.05  # seconds between two /proc readings while the samples are sent


class ModelProfile:
    """The outcome of ``Model.profile``: ``wait_for_completion(show_output=True)``, ``get_details()``."""

    def __init__(self, workspace: Workspace, name: str, description: str | None) -> None:
        self.workspace = workspace
        self.name = name
        self.description = description
        self.created_time = datetime.now(timezone.utc)
        self.state = "InProgress"
        self.error: str | None = None
        self.log: list[str] = []
        self._figures: dict[str, Any] = {}

    recommended_cpu = property(lambda self: self._figures.get("recommendedCpu"))
    recommended_memory = property(lambda self: self._figures.get("recommendedMemoryInGB"))

    def wait_for_completion(self, show_output: bool = False) -> None:
        """Profiling ran in ``Model.profile``; this shows its log and raises if it failed."""
        if show_output:
            print("\n".join(self.log))
        if self.state == "Failed":
            raise WebserviceException(f"Profiling {self.name!r} failed: {self.error}")

    wait_for_profiling = wait_for_completion

    def serialize(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "state": self.state, "error": self.error,
                "createdTime": self.created_time.isoformat(), **self._figures}

    def get_details(self) -> dict[str, Any]:
        """azureml's keys: requestedCpu, maxUtilizedCpu, recommendedCpu, latencyPercentile50InMs, ..."""
        return {k: v for k, v in self.serialize().items() if v is not None}

    get_results = get_details

    def __repr__(self) -> str:
        return f"ModelProfile(name={self.name!r}, state={self.state!r}, {self._figures})"


def profile(workspace: Workspace, profile_name: str, models: list[Model], inference_config: Any,
            input_dataset: Any = None, cpu: float | None = None, memory_in_gb: float | None = None,
            description: str | None = None) -> ModelProfile:
    from .model import Model

    models = [models] if isinstance(models, Model) else list(models or [])
    if not models:
        raise UserErrorException("Model.profile() needs at least one registered model.")
    samples = _samples(workspace, models, input_dataset)
    result = ModelProfile(workspace, profile_name, description)
    service_name = f"profile-{uuid.uuid4().hex[:12]}"
    result.log.append(f"Deploying {', '.join(m.id for m in models)} as temporary service {service_name} "
                      "on local processes")
    service = None
    try:
        service = Model.deploy(workspace, service_name, models, inference_config, deployment_target="process")
        service._wait()
        pid = (service._handle() or {}).get("pid")
        result.log.append(f"Sending {len(samples)} samples")
        figures = _measure(service, int(pid), samples)
        requested_cpu = float(cpu) if cpu else DEFAULT_CPU
        requested_memory = float(memory_in_gb) if memory_in_gb else DEFAULT_MEMORY_GB
        figures.update(requestedCpu=requested_cpu, requestedMemoryInGB=requested_memory,
                       recommendedCpu=_step_up(figures["maxUtilizedCpu"] * HEADROOM),
                       recommendedMemoryInGB=_step_up(figures["maxUtilizedMemoryInGB"] * HEADROOM))
        result._figures = figures
        result.state = "Succeeded" if figures["successQueries"] == figures["totalQueries"] else "Failed"
        if result.state == "Failed":
            result.error = (f"{figures['totalQueries'] - figures['successQueries']} of {figures['totalQueries']} "
                            f"samples failed; the first error: {figures.pop('firstError')}")
        figures.pop("firstError", None)
        result.log.append(f"Profiling {result.state.lower()}: {result.get_details()}")
    except AciWidgetsError as exc:
        result.state, result.error = "Failed", str(exc)
        result.log.append(f"Profiling failed: {exc}")
    finally:
        if service is not None:
            image = service.image
            service.delete()
            if image is not None:
                with contextlib.suppress(AciWidgetsError):  # the service is gone; a kept image costs only disk
                    image.delete()
    return result


def _samples(workspace: Workspace, models: list[Model], input_dataset: Any) -> list[str]:
    from .dataset import Dataset, TabularDataset

    if input_dataset is None:
        kept = next((m.sample_input_dataset for m in models if m.sample_input_dataset), None)
        if not isinstance(kept, dict) or not kept.get("name"):
            raise UserErrorException("Model.profile() needs input_dataset= (a Tabular dataset with one column of "
                                     "request bodies), or a model registered with sample_input_dataset=.")
        input_dataset = Dataset.get_by_name(workspace, kept["name"], version=kept.get("version") or "latest")
    if not isinstance(input_dataset, TabularDataset):
        raise UserErrorException("input_dataset must be a Tabular dataset with one column of request bodies "
                                 "(Dataset.Tabular.from_delimited_files(..., separator='\\n', header=False)).")
    frame = input_dataset.to_pandas_dataframe()
    if frame.shape[1] != 1 or frame.shape[0] == 0:
        raise UserErrorException(f"input_dataset must have one column and at least one row; it has "
                                 f"{frame.shape[1]} column(s) and {frame.shape[0]} row(s).")
    return [str(v) for v in frame.iloc[:, 0].tolist()]


def _measure(service: Any, pid: int, samples: list[str]) -> dict[str, Any]:
    tick = os.sysconf("SC_CLK_TCK")
    peak = {"cpu": 0.0, "rss": _tree_rss(pid)}
    done = threading.Event()

    def watch() -> None:
        last_ticks, last_time = _tree_ticks(pid), time.monotonic()
        while not done.wait(_SAMPLE_EVERY):
            ticks, now = _tree_ticks(pid), time.monotonic()
            peak["cpu"] = max(peak["cpu"], (ticks - last_ticks) / tick / (now - last_time))
            peak["rss"] = max(peak["rss"], _tree_rss(pid))
            last_ticks, last_time = ticks, now

    watcher = threading.Thread(target=watch, name="aci-profile-watch", daemon=True)
    watcher.start()
    latencies: list[float] = []
    ok, first_error = 0, None
    start = time.monotonic()
    try:
        for body in samples:
            sent = time.perf_counter()
            try:
                service.run(body)
                ok += 1
            except AciWidgetsError as exc:
                first_error = first_error or str(exc)
            latencies.append((time.perf_counter() - sent) * 1000)
    finally:
        elapsed = time.monotonic() - start
        done.set()
        watcher.join()
    ordered = sorted(latencies)
    return {"totalQueries": len(samples), "successQueries": ok, "successRate": ok / len(samples),
            "averageLatencyInMs": sum(latencies) / len(latencies),
            "latencyPercentile50InMs": _percentile(ordered, 50), "latencyPercentile90InMs": _percentile(ordered, 90),
            "latencyPercentile95InMs": _percentile(ordered, 95), "latencyPercentile99InMs": _percentile(ordered, 99),
            "latencyPercentile999InMs": _percentile(ordered, 99.9),
            "measuredQueriesPerSecond": len(samples) / elapsed if elapsed else None,
            "maxUtilizedCpu": round(peak["cpu"], 3), "maxUtilizedMemoryInGB": round(peak["rss"] / 2**30, 4),
            "firstError": first_error}


def _percentile(ordered: list[float], p: float) -> float:
    """Nearest rank: the smallest latency with at least p % of the samples at or below it."""
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _step_up(value: float) -> float:
    return max(0.1, math.ceil(round(value * 10, 6)) / 10)


def _tree(pid: int) -> list[int]:
    """The process and its descendants (workers), from the parent pids in /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, []))
    return found


def _tree_ticks(pid: int) -> int:
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            continue
    return total


def _tree_rss(pid: int) -> int:
    total = 0
    for p in _tree(pid):
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total

