"""The README's main job, run as a user runs it: ``aci-widgets demo``."""

import re
import subprocess
import sys


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "aci_widgets.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=900)


def test_demo_deploys_scores_draws_and_cleans_up(tmp_path, mnist_source):
    # The demo finds MNIST as a user's would: $ACI_WIDGETS_MNIST_DIR (the session's cache, unless set), a download,
    # else the offline digits.
    result = _cli("demo", "--target", "process", "--workspace", "cli-demo", "--seed", "3", "--n", "12",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    out = result.stdout
    assert "Target: process" in out
    assert "aci-mnist-demo: Healthy at http://127.0.0.1:" in out
    right, total = map(int, re.search(r"(\d+)/(\d+) correct", out).groups())
    assert total == 12 and right >= 9
    png = tmp_path / "aci-widgets-demo" / "mnist-predictions.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Deleted aci-mnist-demo." in out
    # The demo stops every process it started: its server, and the pre-warmed process that forked it.
    warm = re.findall(r"Stopped pre-warmed process .*\(pid (\d+)\)", out)
    assert all(_gone(int(pid)) for pid in warm)
    listing = _cli("services", "--workspace", "cli-demo", cwd=tmp_path)
    assert "No services" in listing.stdout


def test_cli_errors_are_one_clear_line(tmp_path):
    _cli("services", "--workspace", "cli-err", cwd=tmp_path)  # the workspace does not exist yet
    result = _cli("logs", "nope", "--workspace", "cli-err", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


def _gone(pid, bound=30.0):
    """Whether ``pid`` ends (or is a zombie: whether init reaps it is not ours) within ``bound`` seconds."""
    import time

    give_up = time.monotonic() + bound
    while time.monotonic() < give_up:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


def test_ps_lists_what_runs_and_stop_all_stops_it(numpy_model, tmp_path):
    import uuid

    from aci_widgets.core import ContainerImage, LocalWebservice, Webservice, Workspace

    ws = Workspace.create(f"cli-ps-{uuid.uuid4().hex[:6]}", exist_ok=True, target="process")
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python", conda_file="myenv.yml")
    service = Webservice.deploy(ws, "ps-svc", ["weights.npy"], config, LocalWebservice.deploy_configuration())
    service.wait_for_deployment()
    service._refresh()
    pid, port = service._row["handle"]["pid"], service._row["handle"]["port"]

    listing = _cli("ps", "--workspace", ws.name, cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert re.search(rf"^service +ps-svc +process +pid {pid} +port {port} +Healthy", listing.stdout, re.M)
    warm = re.search(r"^pre-warmed process .* pid (\d+) .*serving 1 service", listing.stdout, re.M)
    assert warm, listing.stdout

    assert _cli("stop", "--workspace", ws.name, cwd=tmp_path).returncode == 2  # --all must be said
    stopped = _cli("stop", "--all", "--workspace", ws.name, cwd=tmp_path)
    assert stopped.returncode == 0, stopped.stderr
    assert f"Stopped service ps-svc (pid {pid})" in stopped.stdout
    # The pre-warmed process is gone either way: stopped by name, or gone by itself once its last service went.
    assert _gone(pid) and _gone(int(warm.group(1)))
    assert "Nothing runs" in _cli("ps", "--workspace", ws.name, cwd=tmp_path).stdout
    assert Webservice.list(ws) == []
