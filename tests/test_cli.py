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
    listing = _cli("services", "--workspace", "cli-demo", cwd=tmp_path)
    assert "No services" in listing.stdout


def test_cli_errors_are_one_clear_line(tmp_path):
    _cli("services", "--workspace", "cli-err", cwd=tmp_path)  # the workspace does not exist yet
    result = _cli("logs", "nope", "--workspace", "cli-err", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
