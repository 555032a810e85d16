"""AKS-style deployments on Ray Serve (issue 17): throughput at 1 and 2 replicas beside the single-process runtime,
time to scale 1 to 3, a rolling update's duration and failed requests, and what Serve's proxy adds per request.

Same model and stock score.py as bench_scoring.py (the MNIST LogisticRegression, versions pinned in myenv.yml),
1 digit per request, key auth off on both. The single-process runtime is ``Webservice.deploy`` on the process target
(workspace under .bench/aci_home, as bench_scoring.py); Ray is a local cluster of this machine's cores started by
``ComputeTarget.create(ws, name, AksCompute.provisioning_configuration())`` (its own folder, stopped by pid at the
end) and ``AksWebservice.deploy_configuration(num_replicas=1, replica_max_concurrent_requests=8)``.

- req/s: ``--connections`` keep-alive clients on threads for ``--seconds``, every answer checked 200 (the client
  is Python: on 2 cores it competes with the servers, so read the ratios, not the absolute figures).
- scale 1 to 3: ``service.scale(3)`` until ``wait_for_deployment`` returns (Serve reports all 3 RUNNING).
- rolling update: ``service.update(models=...)`` (a new image version, so Serve replaces every replica) under the
  same load; its duration, and every request that did not answer 200 (goal: 0).
- proxy latency: the median of ``--sequential`` one-at-a-time requests on one connection, Ray (1 replica) minus
  the process target: the cost of Serve's proxy, router and the hop to the replica actor.

    python benchmarks/bench_ray.py [--seconds 10] [--connections 8] [--sequential 300]
    python benchmarks/bench_ray.py --quick     # smoke run (seconds, not figures to quote)
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from common import (
    BENCH,
    deploy_process,
    expected_predictions,
    load_average,
    machine_line,
    prepare_model,
    save_results,
    say,
    score_body,
    stop_prewarmed,
    tree_state,
    write_deploy_files,
)


@dataclass
class Load:
    """What ``--connections`` keep-alive clients got from one URL: answers by status, errors, latencies."""

    ok: int = 0
    failed: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def load(url: str, body: bytes, connections: int, seconds: float | None = None,
         stop: threading.Event | None = None) -> Load:
    """POST ``body`` to ``url`` from ``connections`` threads until ``seconds`` pass or ``stop`` is set."""
    parts = urllib.parse.urlsplit(url)
    result, lock = Load(), threading.Lock()
    end = time.perf_counter() + seconds if seconds else None
    stop = stop or threading.Event()

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        while not stop.is_set() and (end is None or time.perf_counter() < end):
            t0 = time.perf_counter()
            try:
                conn.request("POST", parts.path, body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                status = repr(exc)
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            with lock:
                if status == 200:
                    result.ok += 1
                    result.latencies.append(time.perf_counter() - t0)
                else:
                    result.failed.append(str(status))
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(connections)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - t0
    return result


def check(url: str, body: bytes, want: list[int]) -> None:
    """The server answers the model's predictions (else the figures would be of something else)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request("POST", parts.path, body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        answer = response.read()
    finally:
        conn.close()
    got = json.loads(answer)
    got = json.loads(got) if isinstance(got, str) else got
    if response.status != 200 or [int(v) for v in got] != want:
        raise RuntimeError(f"{url} answered {response.status} {answer[:200]!r}, expected predictions {want}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="length of each throughput measurement")
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--sequential", type=int, default=300, help="one-at-a-time requests for the proxy's latency")
    p.add_argument("--quick", action="store_true", help="smoke run: 2 s loads, 30 sequential requests")
    args = p.parse_args()
    if args.quick:
        args.seconds, args.sequential = 2.0, 30
    sys.stdout = sys.stderr  # wait_for_deployment prints its outcome: progress, not figures (report() has stdout)

    os.environ["ACI_WIDGETS_HOME"] = str(BENCH / "aci_home")
    from aci_widgets.core import ComputeTarget, ContainerImage, Webservice, Workspace
    from aci_widgets.core.compute import AksCompute, ComputeTargetException
    from aci_widgets.core.webservice import AksWebservice

    assets = prepare_model()
    body = score_body(assets.X_test, 1)
    want = expected_predictions(assets, 1)
    ws = Workspace.create("bench", exist_ok=True, target="process")
    score, env = write_deploy_files(BENCH / "work" / "ray")
    results: dict[str, Any] = {"tree": tree_state(), "load_before": load_average(), "seconds": args.seconds,
                               "connections": args.connections}
    services: list[Any] = []
    compute = None
    try:
        t0 = time.perf_counter()
        process = deploy_process(ws, "bench-ray-single", assets.pickle, score, env)
        services.append(process)
        say(f"[ray] process target up ({time.perf_counter() - t0:.1f} s)")
        with contextlib.suppress(ComputeTargetException):
            ComputeTarget(ws, "bench-ray").delete()  # a cluster a crashed run left
        t0 = time.perf_counter()
        compute = ComputeTarget.create(ws, "bench-ray", AksCompute.provisioning_configuration())
        compute.wait_for_completion(show_output=False)
        results["cluster_start_s"] = time.perf_counter() - t0
        say(f"[ray] cluster up ({results['cluster_start_s']:.1f} s)")
        config = ContainerImage.image_configuration(execution_script=str(score), runtime="python",
                                                    conda_file=str(env))
        t0 = time.perf_counter()
        ray = Webservice.deploy(ws, "bench-ray", [str(assets.pickle)], config, AksWebservice.deploy_configuration(
            num_replicas=1, replica_max_concurrent_requests=args.connections, auth_enabled=False),
            deployment_target=compute, overwrite=True)
        services.append(ray)
        ray.wait_for_deployment(show_output=False)
        results["deploy_s"] = time.perf_counter() - t0
        say(f"[ray] service up, 1 replica ({results['deploy_s']:.1f} s)")
        for url in (process.scoring_uri, ray.scoring_uri):
            check(url, body, want)

        results["p50_process_ms"] = statistics.median(_one_at_a_time(process.scoring_uri, body,
                                                                     args.sequential)) * 1000
        results["p50_ray_ms"] = statistics.median(_one_at_a_time(ray.scoring_uri, body, args.sequential)) * 1000
        results["rps_process"] = load(process.scoring_uri, body, args.connections, args.seconds).rps
        results["rps_ray_1"] = load(ray.scoring_uri, body, args.connections, args.seconds).rps
        ray.scale(2)
        ray.wait_for_deployment(show_output=False)
        results["rps_ray_2"] = load(ray.scoring_uri, body, args.connections, args.seconds).rps
        ray.scale(1)
        ray.wait_for_deployment(show_output=False)
        t0 = time.perf_counter()
        ray.scale(3)
        ray.wait_for_deployment(show_output=False)
        results["scale_1_to_3_s"] = time.perf_counter() - t0

        stop = threading.Event()
        during: list[Load] = []
        loader = threading.Thread(target=lambda: during.append(load(ray.scoring_uri, body, args.connections,
                                                                    stop=stop)))
        loader.start()
        try:
            time.sleep(min(2.0, args.seconds))
            t0 = time.perf_counter()
            ray.update(models=ray.models)  # a new image version: every replica is replaced
            ray.wait_for_deployment(show_output=False)
            results["rolling_update_s"] = time.perf_counter() - t0
            time.sleep(min(2.0, args.seconds))
        finally:
            stop.set()
            loader.join()
        results["rolling_update_ok"] = during[0].ok
        results["rolling_update_failed"] = len(during[0].failed)
        results["rolling_update_failures"] = sorted(set(during[0].failed))[:5]
        check(ray.scoring_uri, body, want)
    finally:
        for service in services:
            with contextlib.suppress(Exception):
                service.delete()
        if compute is not None:
            compute.delete()
        stop_prewarmed(BENCH / "aci_home")
    results["load_after"] = load_average()
    save_results("ray", results)
    report(results, args)


def _one_at_a_time(url: str, body: bytes, n: int) -> list[float]:
    """Latencies of ``n`` requests sent one after the other on one keep-alive connection (after 5 warm-ups)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    times = []
    try:
        for i in range(n + 5):
            t0 = time.perf_counter()
            conn.request("POST", parts.path, body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{url} answered {response.status}")
            if i >= 5:
                times.append(time.perf_counter() - t0)
    finally:
        conn.close()
    return times


def report(r: dict[str, Any], args: argparse.Namespace) -> None:
    """The figures, to the real stdout (main() sends everything else, the SDK's own lines too, to stderr)."""

    def out(text: str) -> None:
        sys.__stdout__.write(text + "\n")

    out(f"# Ray Serve (issue 17): {machine_line()}; {r['tree']}; load {r['load_before']} -> {r['load_after']}")
    out(f"{args.connections} keep-alive Python clients x {args.seconds:g} s, 1 digit per request, key auth off\n")
    out("| measure | figure |\n|---|---|")
    out(f"| req/s, single-process runtime (process target) | {r['rps_process']:.0f} |")
    out(f"| req/s, Ray Serve 1 replica | {r['rps_ray_1']:.0f} |")
    out(f"| req/s, Ray Serve 2 replicas | {r['rps_ray_2']:.0f} ({r['rps_ray_2'] / max(r['rps_ray_1'], 1e-9):.2f}x "
          "1 replica) |")
    out(f"| time to scale 1 to 3 replicas | {r['scale_1_to_3_s']:.1f} s |")
    out(f"| rolling update (3 replicas, new image) | {r['rolling_update_s']:.1f} s, "
          f"{r['rolling_update_failed']} failed of {r['rolling_update_ok'] + r['rolling_update_failed']} requests |")
    out(f"| p50 one request at a time: process target / Ray | {r['p50_process_ms']:.2f} ms / "
          f"{r['p50_ray_ms']:.2f} ms |")
    added = r["p50_ray_ms"] - r["p50_process_ms"]
    out(f"| Ray proxy's added latency per request (p50 difference) | {added:.2f} ms |")
    out(f"| cluster start / first deploy to Healthy | {r['cluster_start_s']:.1f} s / {r['deploy_s']:.1f} s |")
    if r["rolling_update_failures"]:
        print(f"\nfailures during the update (first kinds): {r['rolling_update_failures']}")
    if args.quick:
        print("\n(--quick: a smoke run, not figures to quote)")


if __name__ == "__main__":
    main()
