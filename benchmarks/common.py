"""Shared by the benchmark scripts: paths, the one model every server serves, payloads, processes, machine facts.

Everything the benchmarks make lives under ``<repo>/.bench/`` (git-ignored): venvs, the trained model, logs.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from aci_widgets.core import Webservice, Workspace

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / ".bench"
MODEL_FILE = "sklearn_mnist_model.pkl"
MODEL_VERSION = "1"
# CI's layout: shared/ beside the repo. An explicit ACI_WIDGETS_MNIST_DIR wins.
MNIST_DEFAULT = REPO / ".." / "shared" / "data" / "mnist"


# Native thread pools sized from these at load time. Every server here is "one worker", and the process target's
# pre-warmed (forked) servers run with one BLAS/OpenMP thread, so all servers get one.
ONE_THREAD = dict.fromkeys(("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                            "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS"), "1")
# Pre-warmed processes of the process target outlive a deployment; ours stop at the end of each script, and this
# bounds how long one could outlive a crashed run.
PREWARM_IDLE = {"ACI_WIDGETS_PREWARM_IDLE_SECONDS": "300"}


def setup_env() -> None:
    """MNIST from the shared copy (unless chosen), one BLAS thread per server, short-lived pre-warmed processes."""
    os.environ.setdefault("ACI_WIDGETS_MNIST_DIR", str(MNIST_DEFAULT.resolve()))
    for name, value in {**ONE_THREAD, **PREWARM_IDLE}.items():
        os.environ.setdefault(name, value)


def stop_prewarmed(home: Path) -> list[int]:
    """Stop the pre-warmed processes ("zygotes") of every environment under ``home`` (an ACI_WIDGETS_HOME)."""
    try:
        from aci_widgets.targets.process.prewarm import stop_zygotes
    except ImportError:
        return []
    pids: list[int] = []
    for env_dir in sorted((home / "envs").glob("*")):
        if (env_dir / "zygotes").is_dir():
            with contextlib.suppress(Exception):
                pids += stop_zygotes(env_dir)
    return pids


def tree_state() -> str:
    """The commit measured, and whether the work tree had changes (the figures are of the tree as it was)."""
    def git(*args: str) -> str:
        """git's output in the repo."""
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    rev = git("rev-parse", "--short", "HEAD") or "no commit"
    dirty = [line[3:] for line in git("status", "--porcelain", "--", "aci_widgets").splitlines()]
    return f"{rev}" + (f" + uncommitted changes in {len(dirty)} aci_widgets path(s)" if dirty else "")


def pins() -> list[str]:
    """The versions the model is pickled with here: every server's environment gets exactly these."""
    import joblib
    import sklearn

    return [f"numpy=={np.__version__}", f"scikit-learn=={sklearn.__version__}", f"joblib=={joblib.__version__}"]


# --- the model ---------------------------------------------------------------------------------------------


@dataclass
class ModelAssets:
    """The trained model laid out as Azure ML does (``<models>/<name>/<version>/<file>``) and held-out digits."""

    models_dir: Path
    X_test: np.ndarray

    @property
    def pickle(self) -> Path:
        """The model file."""
        return self.models_dir / MODEL_FILE / MODEL_VERSION / MODEL_FILE


def prepare_model() -> ModelAssets:
    """Train the demo model once (cached in .bench/model, keyed by the sklearn version) and load test digits."""
    import sklearn

    from aci_widgets import mnist
    from aci_widgets.demo.model import train_model

    setup_env()
    X, y = mnist.load_mnist("test", allow_download=False)
    cut = 8_000 if len(X) == 10_000 else len(X) * 4 // 5
    assets = ModelAssets(BENCH / "model" / "azureml-models", X[cut:])
    stamp = BENCH / "model" / "stamp.json"
    wanted = {"sklearn": sklearn.__version__, "numpy": np.__version__, "train": cut}
    if not assets.pickle.is_file() or not stamp.is_file() or json.loads(stamp.read_text()) != wanted:
        train_model(X[:cut], y[:cut], assets.pickle)
        stamp.write_text(json.dumps(wanted))
    return assets


def score_body(X: np.ndarray, n: int) -> bytes:
    """The stock score.py's request body for the first ``n`` digits: ``{"data": [[784 floats], ...]}``."""
    return json.dumps({"data": X[:n].tolist()}).encode()


def expected_predictions(assets: ModelAssets, n: int) -> list[int]:
    """What every server must answer for the first ``n`` digits (checked before each measurement)."""
    import joblib

    model = joblib.load(assets.pickle)
    return [int(v) for v in model.predict(np.array(assets.X_test[:n].tolist()))]


# --- processes and HTTP ------------------------------------------------------------------------------------


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(port: int, path: str, body: bytes, timeout: float = 30.0) -> tuple[int, bytes]:
    """One POST to 127.0.0.1; returns (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def keepalive_rps(port: int, body: bytes, seconds: float, connections: int, host: str = "127.0.0.1") -> float:
    """Requests answered 200 per second by ``connections`` keep-alive clients on threads: the fallback when wrk
    is missing (the GIL makes this client the bottleneck sooner than wrk)."""
    counts = [0] * connections
    stop = time.perf_counter() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        while time.perf_counter() < stop:
            conn.request("POST", "/score", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            counts[i] += response.status == 200
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def wait_http(port: int, path: str, proc: subprocess.Popen[bytes] | None, timeout: float, log: Path | None) -> float:
    """Poll ``GET path`` until it answers 200; return the seconds waited. Raises if the process died."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering\n{tail(log)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                conn.request("GET", path)
                if conn.getresponse().status == 200:
                    return time.perf_counter() - start
            finally:
                conn.close()
        time.sleep(0.05)
    raise TimeoutError(f"no answer on 127.0.0.1:{port}{path} after {timeout:.0f} s\n{tail(log)}")


def tail(path: Path | None, lines: int = 30) -> str:
    """The last lines of a log, for error messages."""
    if path is None or not path.is_file():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Server:
    """A scoring server under test: where to POST, the body format, and how to stop it."""

    name: str
    port: int
    path: str
    bodies: dict[int, bytes]
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    stop_hook: Callable[[], None] | None = None
    pgid: int | None = None  # the server's process group, whose CPU time is counted (default: proc's)

    def cpu_seconds(self) -> tuple[float, float]:
        """(user, system) CPU seconds used so far by every process of the server's process group."""
        pgid = self.pgid if self.pgid is not None else (self.proc.pid if self.proc else None)
        return group_cpu(pgid) if pgid is not None else (0.0, 0.0)

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL after 10 s."""
        if self.stop_hook is not None:
            self.stop_hook()
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def group_cpu(pgid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of the live processes in process group ``pgid``, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # fields after "(comm)": state ppid pgrp ... utime(11) stime(12)
                user += int(fields[11]) / tick
                system += int(fields[12]) / tick
    return user, system


def spawn(command: list[str], log: Path, cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a server in its own session (so its whole process group can be stopped), output to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        return subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


# --- machine facts -----------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """Date, CPU model, cores, Python: the header of every printed table."""
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "nproc": str(os.cpu_count()),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def machine_line() -> str:
    """Date, cores, CPU, Python and OS on one line."""
    m = machine()
    return f"{m['date']}; {m['nproc']} x {m['cpu']}; Python {m['python']}; {m['os']}"


def save_results(name: str, data: dict[str, object]) -> Path:
    """Write a script's figures to .bench/results/<name>.json (run_all.py reads them for the goals)."""
    path = BENCH / "results" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2, default=str))
    return path


def load_average() -> str:
    """The 1-minute load average (other work on this machine skews every figure)."""
    return f"{os.getloadavg()[0]:.1f}"


def median_range(values: list[float], digits: int = 2) -> str:
    """A figure as its rounds' median and ``[min-max]`` (the range left out when there is one round)."""
    if not values:
        return "n/a"
    text = f"{statistics.median(values):,.{digits}f}"
    return text if len(values) == 1 else f"{text} [{min(values):,.{digits}f}-{max(values):,.{digits}f}]"


def run_header(title: str, rounds: int, load_before: str) -> str:
    """What every script prints above its figures: the date and machine, the commit, the rounds, the load."""
    return (f"{title}; {rounds} round(s), medians [min-max]; {machine_line()}; aci_widgets {tree_state()}; "
            f"1-min load average {load_before} before, {load_average()} after")


def say(*parts: object) -> None:
    """Progress goes to stderr; the figures go to stdout."""
    print(*parts, file=sys.stderr, flush=True)


# A score.py that does no work: what a server costs per request by itself (HTTP, framework, event loop).
EMPTY_SCORE_PY = """\
def init():
    pass


def run(raw_data):
    return [7]
"""


# --- aci_widgets through its core API ---------------------------------------------------------------------


def pinned_myenv() -> str:
    """The stock myenv.yml with the model's versions pinned (conda ``=x.y.z`` maps to pip ``==x.y.z``)."""
    from aci_widgets.demo.assets import MYENV_YML

    text = MYENV_YML.replace("  - python=3.11\n", f"  - python={sys.version_info.major}.{sys.version_info.minor}\n")
    for pin in pins():
        name, version = pin.split("==")
        if f"  - {name}\n" not in text:
            raise RuntimeError(f"MYENV_YML no longer lists {name}; update benchmarks/common.py")
        text = text.replace(f"  - {name}\n", f"  - {name}={version}\n")
    return text


def write_deploy_files(folder: Path, score_text: str | None = None) -> tuple[Path, Path]:
    """score.py (the stock one unless given) and the pinned myenv.yml in ``folder``."""
    from aci_widgets.demo.assets import SCORE_PY

    folder.mkdir(parents=True, exist_ok=True)
    score, env = folder / "score.py", folder / "myenv.yml"
    score.write_text(score_text or SCORE_PY)
    env.write_text(pinned_myenv())
    return score, env


def deploy_process(ws: Workspace, name: str, model: Path, score: Path, env: Path) -> Webservice:
    """``Webservice.deploy`` on the process target, the tutorial's way; returns once it is Healthy."""
    from aci_widgets.core import AciWebservice, ContainerImage, Webservice

    config = ContainerImage.image_configuration(execution_script=str(score), runtime="python",
                                                conda_file=str(env))
    service = Webservice.deploy(ws, name, [str(model)], config, AciWebservice.deploy_configuration(),
                                deployment_target="process", overwrite=True)
    with contextlib.redirect_stdout(sys.stderr):  # its "operation finished" line is progress, not a figure
        service.wait_for_deployment(show_output=False)
    return service
