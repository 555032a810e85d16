"""Cached environments: keyed by requirements, built once across processes, never left half-built."""

import subprocess
import sys
import textwrap

import pytest

from aci_widgets.core.errors import ImageBuildError
from aci_widgets.core.operation import Operation
from aci_widgets.targets.process.envs import RUNTIME_REQUIREMENTS, env_key, envs_root


def test_key_ignores_order_and_duplicates_but_not_content():
    assert env_key(["numpy", "scikit-learn"]) == env_key(["scikit-learn", "numpy", "numpy"])
    assert env_key(["numpy"]) != env_key(["numpy==2.0.*"])
    assert env_key([]) == env_key(list(RUNTIME_REQUIREMENTS))


_BUILD = textwrap.dedent("""
    from aci_widgets.core.operation import Operation
    from aci_widgets.targets.process.envs import ensure_env
    op = Operation("env", lambda report: ensure_env([], report)).start()
    op.result()
    print([e.message for e in op.events if type(e).__name__ == "Notice"])
""")


def test_two_processes_build_one_environment_once(tmp_path, monkeypatch):
    monkeypatch.setenv("ACI_WIDGETS_HOME", str(tmp_path / "home"))
    builders = [subprocess.Popen([sys.executable, "-c", _BUILD], stdout=subprocess.PIPE, text=True)
                for _ in range(2)]
    outputs = [b.communicate(timeout=300)[0] for b in builders]
    assert [b.returncode for b in builders] == [0, 0]
    # Exactly one of them built it; the other waited on the lock and reused it.
    assert sum("built by another process" in out for out in outputs) == 1
    envs = [p for p in envs_root().iterdir() if p.is_dir()]
    assert len(envs) == 1
    assert (envs[0] / "bin" / "python").exists()
    assert "httptools" in (envs[0] / "requirements.lock").read_text()


def test_a_failed_install_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("ACI_WIDGETS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ACI_WIDGETS_INSTALLER", "pip")  # pip's messages (uv's: test_envs_uv.py)
    from aci_widgets.targets.process.envs import ensure_env

    op = Operation("env", lambda report: ensure_env(["no-such-package-aci-widgets==9.9"], report)).start()
    with pytest.raises(ImageBuildError) as info:
        op.result(300)
    assert str(info.value).startswith("pip install failed: Could not find a version that satisfies the requirement"
                                      " no-such-package-aci-widgets==9.9")
    assert "no-such-package-aci-widgets" in info.value.detail
    assert not [p for p in envs_root().iterdir() if p.is_dir()]


def test_a_failed_build_from_source_names_pips_root_cause(tmp_path, monkeypatch):
    """An old pin with no wheel for this Python: pip says only subprocess-exited-with-error at the end."""
    monkeypatch.setenv("ACI_WIDGETS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ACI_WIDGETS_INSTALLER", "pip")
    from aci_widgets.targets.process.envs import ensure_env

    op = Operation("env", lambda report: ensure_env(["scikit-learn==0.20.3"], report)).start()
    with pytest.raises(ImageBuildError) as info:
        op.result(600)
    first, hint = str(info.value).splitlines()[:2]
    assert first == ("pip install failed: ModuleNotFoundError: No module named 'pkg_resources'"
                     " (while building scikit-learn==0.20.3 from source)")
    assert "pin a version of scikit-learn that has a wheel for Python 3." in hint
