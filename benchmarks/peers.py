"""The peers aci_widgets is measured against, each in its own venv under .bench/venvs, serving the same model.

- azmlinfsrv (azureml-inference-server-http): Azure ML's own scoring server (gunicorn sync worker + Flask). It runs
  a copy of the stock score.py whose init() loads the pickle from AZUREML_MODEL_DIR (``azureml.core`` is not
  installed there); run() is the stock body, character for character. It hard-codes ``0.0.0.0`` as its bind address;
  the launcher below sets its ``DEFAULT_HOST`` to 127.0.0.1 before it starts, and changes nothing else.
- mlflow (``mlflow models serve --env-manager local -w 1``: uvicorn + FastAPI), on the same pickle re-saved with
  ``mlflow.sklearn.save_model`` (no signature, so no schema enforcement: mlflow's fastest path). Its input format
  differs: ``{"inputs": [[784 floats], ...]}`` (tensor input) to ``/invocations``; it answers
  ``{"predictions": [...]}``. Telemetry is turned off (MLFLOW_DISABLE_TELEMETRY, DO_NOT_TRACK).

Both venvs get exactly the numpy / scikit-learn / joblib versions the model was pickled with (see ``common.pins``).

    python benchmarks/peers.py          # build both venvs (minutes, once), then start each peer and score once
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import (
    BENCH,
    MODEL_FILE,
    MODEL_VERSION,
    ONE_THREAD,
    ModelAssets,
    Server,
    expected_predictions,
    free_port,
    pins,
    post,
    prepare_model,
    say,
    score_body,
    spawn,
    wait_http,
)

AZMLINFSRV = "azmlinfsrv"
MLFLOW = "mlflow"
# What works with numpy 2.4 / scikit-learn 1.9 on Python 3.11 (azmlinfsrv 1.5.1 brings flask 3.1, gunicorn >= 23).
PEER_REQUIREMENTS = {
    AZMLINFSRV: ["azureml-inference-server-http==1.5.1"],
    MLFLOW: ["mlflow==3.17.2"],
}
VENVS = BENCH / "venvs"
_COMPLETE = ".bench-complete"
QUIET_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "AML_APP_INSIGHTS_ENABLED": "false",
    "PYTHONUNBUFFERED": "1",
}


def venv_python(name: str) -> Path:
    """The python of a peer's venv."""
    return VENVS / name / "bin" / "python"


def ensure_venv(name: str) -> Path:
    """Build ``.bench/venvs/<name>`` with the peer and the model's pins (kept while the requirements match)."""
    requirements = [*PEER_REQUIREMENTS[name], *pins()]
    folder = VENVS / name
    marker = folder / _COMPLETE
    if marker.is_file() and json.loads(marker.read_text()) == requirements:
        return venv_python(name)
    shutil.rmtree(folder, ignore_errors=True)  # a venv cannot be moved (its scripts name their path): build in place
    say(f"[peers] building {folder} with {' '.join(requirements)} (a few minutes, once)")
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    subprocess.run([str(venv_python(name)), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    *requirements], check=True)
    marker.write_text(json.dumps(requirements))
    return venv_python(name)


def peer_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The peers' environment: ours without Python path overrides, telemetry off, one BLAS thread, own HOME."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    home.mkdir(parents=True, exist_ok=True)
    env.update(QUIET_ENV, **ONE_THREAD, HOME=str(home), **(extra or {}))
    return env


# --- azmlinfsrv --------------------------------------------------------------------------------------------


def azml_score_py() -> str:
    """The stock score.py with init() reading AZUREML_MODEL_DIR itself; run() is untouched."""
    from aci_widgets.demo.assets import SCORE_PY

    old_import = "from aci_widgets.core.model import Model\n"
    old_path = "Model.get_model_path('sklearn_mnist_model.pkl')"
    if old_import not in SCORE_PY or old_path not in SCORE_PY:
        raise RuntimeError("aci_widgets.demo.assets.SCORE_PY changed shape; update benchmarks/peers.py")
    new_path = (f"os.path.join(os.environ['AZUREML_MODEL_DIR'], '{MODEL_FILE}', '{MODEL_VERSION}', "
                f"'{MODEL_FILE}')")
    text = SCORE_PY.replace(old_import, "").replace(old_path, new_path)
    return text.replace("import json\n", "import json\nimport os\n", 1)


def start_azmlinfsrv(assets: ModelAssets, bodies: dict[int, bytes], score_text: str | None = None,
                     label: str = AZMLINFSRV) -> Server:
    """``azmlinfsrv --entry_script score.py --port P`` (one gunicorn sync worker) on 127.0.0.1."""
    python = ensure_venv(AZMLINFSRV)
    app = BENCH / "work" / label
    app.mkdir(parents=True, exist_ok=True)
    (app / "score.py").write_text(score_text or azml_score_py())
    port = free_port()
    launcher = ("import sys; import azureml_inference_server_http.amlserver as s; s.DEFAULT_HOST = '127.0.0.1'; "
                "sys.argv[0] = 'azmlinfsrv'; s.run()")
    command = [str(python), "-c", launcher, "--entry_script", "score.py", "--port", str(port)]
    env = peer_env(BENCH / "home" / AZMLINFSRV, {"AZUREML_MODEL_DIR": str(assets.models_dir)})
    log = BENCH / "logs" / f"{label}.log"
    proc = spawn(command, log, app, env)
    server = Server(label, port, "/score", bodies, proc, log)
    wait_http(port, "/", proc, 120, log)
    return server


# --- mlflow ------------------------------------------------------------------------------------------------


def mlflow_model(assets: ModelAssets) -> Path:
    """The same pickle re-saved as an mlflow sklearn model (redone when the pickle changes)."""
    python = ensure_venv(MLFLOW)
    dest = BENCH / "model" / "mlflow_model"
    stamp = BENCH / "model" / "mlflow_model.stamp"
    source = f"{assets.pickle.stat().st_mtime_ns}:{assets.pickle.stat().st_size}"
    if dest.is_dir() and stamp.is_file() and stamp.read_text() == source:
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    script = ("import sys, joblib, mlflow.sklearn; "
              "mlflow.sklearn.save_model(joblib.load(sys.argv[1]), sys.argv[2])")
    subprocess.run([str(python), "-c", script, str(assets.pickle), str(dest)], check=True,
                   env=peer_env(BENCH / "home" / MLFLOW), cwd=BENCH, stdout=subprocess.DEVNULL)
    stamp.write_text(source)
    return dest


def mlflow_body(X: np.ndarray, n: int) -> bytes:
    """mlflow's tensor input: ``{"inputs": [[784 floats], ...]}``."""
    return json.dumps({"inputs": X[:n].tolist()}).encode()


def start_mlflow(assets: ModelAssets, bodies: dict[int, bytes]) -> Server:
    """``mlflow models serve -m MODEL --env-manager local -w 1 -h 127.0.0.1 -p P`` with the venv's mlflow."""
    python = ensure_venv(MLFLOW)
    model = mlflow_model(assets)
    port = free_port()
    command = [str(python.parent / "mlflow"), "models", "serve", "-m", str(model), "--env-manager", "local",
               "-w", "1", "-h", "127.0.0.1", "-p", str(port)]
    # mlflow execs `uvicorn` found on PATH: the venv's.
    env = peer_env(BENCH / "home" / MLFLOW)
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    log = BENCH / "logs" / f"{MLFLOW}.log"
    work = BENCH / "work" / MLFLOW
    work.mkdir(parents=True, exist_ok=True)
    proc = spawn(command, log, work, env)
    server = Server(MLFLOW, port, "/invocations", bodies, proc, log)
    wait_http(port, "/ping", proc, 180, log)
    return server


def predictions(answer: bytes) -> list[int]:
    """The class list from any server's answer (a list, or mlflow's ``{"predictions": [...]}``)."""
    value = json.loads(answer)
    if isinstance(value, dict):
        value = value.get("predictions")
    return [int(v) for v in value] if isinstance(value, list) else []


def main() -> int:
    """Build both venvs, start each peer, score 3 digits, stop it."""
    assets = prepare_model()
    want = expected_predictions(assets, 3)
    for name, start, body in ((AZMLINFSRV, start_azmlinfsrv, score_body(assets.X_test, 3)),
                              (MLFLOW, start_mlflow, mlflow_body(assets.X_test, 3))):
        t0 = time.perf_counter()
        server = start(assets, {3: body})
        took = time.perf_counter() - t0
        try:
            status, answer = post(server.port, server.path, body)
            ok = status == 200 and predictions(answer) == want
            print(f"{name:<12} started in {took:5.1f} s; POST {server.path}: {status} {answer[:60]!r} "
                  f"{'(correct)' if ok else f'(WRONG, expected {want})'}")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
