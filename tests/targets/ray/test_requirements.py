"""What replicas install: only what the cluster's Python lacks (no Ray cluster needed)."""

from __future__ import annotations

import sys
from importlib.metadata import version

from aci_widgets.targets.ray.target import to_install

NUMPY = f"numpy=={version('numpy')}"
LOCK = ["httptools==0.0.1", "orjson==0.0.1", NUMPY, "numpy-that-does-not-exist==1.0",
        'pywin32==306; sys_platform == "win32"']


def test_a_cluster_this_python_started_installs_only_what_it_lacks() -> None:
    assert to_install(LOCK, sys.executable) == ["numpy-that-does-not-exist==1.0"]
    assert to_install(["numpy>=999"], sys.executable) == ["numpy>=999"]
    assert to_install([NUMPY], sys.executable) == []  # replicas run in the cluster's Python as it is


def test_another_cluster_gets_everything_but_the_runtime_packages() -> None:
    assert to_install(LOCK, None) == LOCK[2:]
    assert to_install(LOCK, "/elsewhere/bin/python") == LOCK[2:]
