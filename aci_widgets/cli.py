"""``aci-widgets``: the main job (``demo``) and a few commands to look after a workspace's services."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .core import AciWidgetsError, Webservice, Workspace

DEMO_WORKSPACE = "aci-widgets-demo"
DEMO_SERVICE = "aci-mnist-demo"


def demo(args: argparse.Namespace) -> int:
    """Train (or reuse) a small MNIST model, register it, deploy it, score random test digits, draw them."""
    import numpy as np

    from .core import AciWebservice, ContainerImage, Model
    from .demo.assets import write_assets
    from .demo.gallery import save_gallery
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
              f"--workspace {ws.name}`)")
    else:
        service.delete()
        print(f"Deleted {service.name}.")
    return 0


def services(args: argparse.Namespace) -> int:
    ws = Workspace(args.workspace)
    rows = Webservice.list(ws)
    if not rows:
        print(f"No services in workspace {ws.name!r}.")
    for service in rows:
        print(f"{service.name:<24} {service.state:<14} {service.target or '-':<8} {service.scoring_uri or '-'}")
    return 0


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
                                 ("delete", delete, "stop and remove a service")):
        p = commands.add_parser(name, help=helptext)
        if name != "services":
            p.add_argument("name")
        if name == "logs":
            p.add_argument("--tail", type=int, default=200)
        p.add_argument("--workspace", default=DEMO_WORKSPACE)
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except AciWidgetsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.detail and exc.detail not in str(exc):
            print(exc.detail, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; whatever was being deployed has been stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
