"""The labextension's TypeScript unit tests (src/__tests__/*.spec.ts, jest), run by the README's test command.

They need node; jlpm comes with jupyter_builder (a build requirement, and installed with jupyterlab). Without node
the test skips on a developer machine and fails under CI=true. The node packages come from the committed yarn.lock
(``pip install -e .`` installs them when it builds the extension; here too if they are missing).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from support import requirement_missing

REPO = Path(__file__).resolve().parents[2]


def _jlpm() -> list[str]:
    beside = Path(sys.executable).with_name("jlpm")  # the environment's own, even when it is not activated
    return [str(beside)] if beside.exists() else [sys.executable, "-c", "from jupyter_builder.jlpm import main; main()"]


def test_the_sidebar_s_typescript_unit_tests_pass() -> None:
    if shutil.which("node") is None:
        requirement_missing("node (for the labextension's jest tests)", "no `node` on PATH")
    if not (REPO / "node_modules" / ".bin" / "jest").exists():
        install = subprocess.run([*_jlpm(), "install"], cwd=REPO, capture_output=True, text=True)
        assert install.returncode == 0, f"jlpm install failed:\n{install.stdout[-3000:]}\n{install.stderr[-3000:]}"
    run = subprocess.run([*_jlpm(), "test", "--ci"], cwd=REPO, capture_output=True, text=True)
    # jest reports on stderr: the failing expectations with their file and line.
    assert run.returncode == 0, f"jlpm test failed:\n{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    assert "Tests:" in run.stderr and " failed" not in run.stderr.split("Tests:")[1].splitlines()[0], run.stderr
