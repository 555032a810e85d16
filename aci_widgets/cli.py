"""``aci-widgets``: the main job (``demo``) and a few commands to look after a workspace's services."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from .core import AciWidgetsError, Webservice, Workspace
from .core.running import Running, running, stop_all, stop_unused

DEMO_WORKSPACE = "aci-widgets-demo"
DEMO_SERVICE = "aci-mnist-demo"


def demo(args: argparse.Namespace) -> int:
    """Train (or reuse) a small MNIST model, register it, deploy it, score random test digits, draw them."""
    from .core import AciWebservice, ContainerImage, Model
    from .demo.assets import write_assets
    from .demo.model import train_demo_model

    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    ws = Workspace.create(args.workspace, exist_ok=True)
    if args.target:
        ws.target = args.target
    print(f"Workspace {ws.name!r} in {ws.root} (target: {ws.target})")

    started = time.perf_counter()
    model_path, x_test, y_test = train_demo_model(workdir)
    print(f"Model: {model_path} ({time.perf_counter() - started:.1f} s to train or load); "
          f"{len(x_test)} held-out test digits")
    score_py, myenv = write_assets(workdir)
    model = Model.register(ws, str(model_path), "sklearn_mnist", tags={"data": "mnist", "type": "classification"},
                           description="Mnist handwriting recognition")
    print(f"Registered {model.id}")

    image_config = ContainerImage.image_configuration(
        execution_script=str(score_py), runtime="python", conda_file=str(myenv),
        description="Image with mnist model", tags={"data": "mnist", "type": "classification"})
    aciconfig = AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=1, tags={"data": "mnist"},
                                                   description="Handwriting recognition")
    service = Webservice.deploy_from_model(ws, args.service, [model], image_config, aciconfig, overwrite=True)
    try:
        _score_and_draw(args, ws, service, x_test, y_test)
    finally:
        if not args.keep:  # whatever happened, stop every process this demo started
            if _exists(ws, service.name):
                service.delete()
                print(f"Deleted {service.name}.")
            _say_stopped(stop_unused(ws))
    return 0


def _exists(ws: Workspace, name: str) -> bool:
    return any(s.name == name for s in Webservice.list(ws))


def _score_and_draw(args: argparse.Namespace, ws: Workspace, service: Webservice, x_test: Any, y_test: Any) -> None:
    import numpy as np

    from .demo.gallery import save_gallery

    service.wait_for_deployment(show_output=True)
    print(f"{service.name}: {service.state} at {service.scoring_uri}")

    rng = np.random.default_rng(args.seed)
    picks = rng.choice(len(x_test), size=args.n, replace=False)
    body = json.dumps({"data": x_test[picks].tolist()})
    sent = time.perf_counter()
    predictions = service.run(input_data=body)
    latency_ms = (time.perf_counter() - sent) * 1000
    labels = y_test[picks]
    right = sum(int(p) == int(y) for p, y in zip(predictions, labels, strict=True))
    print(f"\n{'digit':>6} {'label':>6} {'predicted':>10}")
    for index, label, predicted in zip(picks, labels, predictions, strict=True):
        print(f"{index:>6} {label:>6} {predicted:>10}  {'ok' if int(label) == int(predicted) else 'WRONG'}")
    print(f"{right}/{args.n} correct; one request of {args.n} digits took {latency_ms:.1f} ms")
    png = save_gallery(Path(args.out).resolve(), x_test[picks], predictions, labels,
                       title=f"{service.name}: {right}/{args.n} correct")
    print(f"Gallery of the digits with their predictions: {png}")

    if args.keep:
        print(f"Service kept running: {service.scoring_uri} (remove it with `aci-widgets delete {service.name} "
              f"--workspace {ws.name}`, or everything with `aci-widgets stop --all --workspace {ws.name}`)")


def services(args: argparse.Namespace) -> int:
    ws = Workspace(args.workspace)
    rows = Webservice.list(ws)
    if not rows:
        print(f"No services in workspace {ws.name!r}.")
    for service in rows:
        state, error = service.state, service.error
        print(f"{service.name:<24} {state:<14} {service.target or '-':<8} {service.scoring_uri or '-'}")
        if state != "Healthy" and error:
            print(f"{'':<24} {error.splitlines()[0]}")
    return 0


def ps(args: argparse.Namespace) -> int:
    """What runs on this machine for the workspace: services, pre-warmed processes, containers."""
    ws = Workspace(args.workspace)
    found = running(ws)
    if not found:
        print(f"Nothing runs for workspace {ws.name!r}.")
    for item in found:
        where = f"pid {item.pid}" if item.pid else "-"
        port = f"port {item.port}" if item.port else "-"
        print(f"{item.kind:<19} {item.name:<32} {item.target:<8} {where:<11} {port:<11} {item.state}"
              + (f"  [{item.detail}]" if item.detail else ""))
    return 0


def stop(args: argparse.Namespace) -> int:
    """``stop --all``: delete every service of the workspace and stop what ran for them."""
    if not args.all:
        print("error: say `aci-widgets stop --all` to stop every service, pre-warmed process and container of "
              f"workspace {args.workspace!r}, or `aci-widgets delete NAME` for one service.", file=sys.stderr)
        return 2
    ws = Workspace(args.workspace)
    _say_stopped(stop_all(ws), f"Nothing ran for workspace {ws.name!r}.")
    return 0


def config(args: argparse.Namespace) -> int:
    """The workspace's deployment settings and where each comes from; secrets masked (the aci target's)."""
    from .targets.aci.settings import describe

    ws = Workspace(args.workspace)
    print(f"workspace {ws.name!r} ({ws.root}), target {ws.target}")
    for name, value, source in describe(ws):
        print(f"  {name:<18} {value:<44} {source}")
    return 0


def _say_stopped(stopped: list[Running], none: str = "") -> None:
    for item in stopped:
        what = f"pid {item.pid}" if item.pid else (item.detail or "")
        print(f"Stopped {item.kind} {item.name} ({what}): {item.state}." if what else
              f"Stopped {item.kind} {item.name}: {item.state}.")
    if not stopped and none:
        print(none)


def logs(args: argparse.Namespace) -> int:
    print(Webservice(Workspace(args.workspace), args.name).get_logs(num_lines=args.tail))
    return 0


def delete(args: argparse.Namespace) -> int:
    Webservice(Workspace(args.workspace), args.name).delete()
    print(f"Deleted {args.name}.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aci-widgets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("demo", help="deploy an MNIST model locally and show its predictions")
    p.add_argument("--workspace", default=DEMO_WORKSPACE)
    p.add_argument("--service", default=DEMO_SERVICE)
    p.add_argument("--target", choices=["auto", "process", "docker"], default=None,
                   help="where to run it (default: the workspace's setting, auto at first)")
    p.add_argument("--n", type=int, default=8, help="how many random test digits to score")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--workdir", default="aci-widgets-demo", help="where score.py, myenv.yml and the model go")
    p.add_argument("--out", default="aci-widgets-demo/mnist-predictions.png", help="the gallery PNG")
    p.add_argument("--keep", action="store_true", help="leave the service running")
    p.set_defaults(func=demo)

    for name, func, helptext in (("services", services, "list a workspace's services"),
                                 ("logs", logs, "print a service's log"),
                                 ("delete", delete, "stop and remove a service"),
                                 ("ps", ps, "list what runs for a workspace: services, pre-warmed processes, "
                                            "containers"),
                                 ("stop", stop, "with --all: delete every service of a workspace and stop its "
                                                "pre-warmed processes and containers (images and models stay)"),
                                 ("config", config, "show a workspace's settings for Azure Container Instances "
                                                    "and where each comes from (secrets masked)")):
        p = commands.add_parser(name, help=helptext)
        if name in ("logs", "delete"):
            p.add_argument("name")
        if name == "logs":
            p.add_argument("--tail", type=int, default=200)
        if name == "stop":
            p.add_argument("--all", action="store_true", help="everything of the workspace")
        p.add_argument("--workspace", default=DEMO_WORKSPACE)
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except AciWidgetsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.detail and exc.detail not in str(exc) and not exc.detail_shown:
            print(exc.detail, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; whatever was being deployed has been stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
