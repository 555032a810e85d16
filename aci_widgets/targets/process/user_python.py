"""``user_managed_dependencies=True`` on the process target: the notebook's own Python (``sys.executable``) or
``env.python.interpreter_path`` runs the scoring runtime as it is. Nothing is installed into it, as on Azure, so it
must already have what the runtime needs (:data:`aci_widgets.runtime.REQUIREMENTS`); it is asked once, and a
Python that does not start or lacks httptools is a clear error saying how to fix it.
"""

from __future__ import annotations

import json
import subprocess

from ... import runtime
from ...core.errors import ImageBuildError
from ...core.operation import Reporter

_MODULES = {"httptools": "httptools", "orjson": "orjson", "pysimdjson": "simdjson"}
_REQUIRED = ("httptools",)  # imported at start-up; the others only by the fast path of a run() that declares input
_PROBE = ("import importlib.util, json, sys; print(json.dumps({'version': '%d.%d.%d' % sys.version_info[:3], "
          "'missing': [m for m in sys.argv[1:] if importlib.util.find_spec(m) is None]}))")


def check_user_python(python: str, report: Reporter) -> None:
    """Raise ``ImageBuildError`` unless ``python`` runs and has httptools; a notice names the optional ones missing."""
    fix = ("or set env.python.interpreter_path to a Python that has them, or user_managed_dependencies=False to "
           "have the environment installed.")
    try:
        done = subprocess.run([python, "-I", "-c", _PROBE, *_MODULES.values()], capture_output=True, text=True,
                              timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ImageBuildError(f"user_managed_dependencies=True runs {python} as it is, but it does not start "
                              f"({exc}). Set env.python.interpreter_path to a Python 3 on this machine, "
                              "or user_managed_dependencies=False.") from exc
    try:
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ImageBuildError(f"user_managed_dependencies=True runs {python} as it is, but it failed: "
                              f"{(done.stderr or done.stdout).strip()[-500:]}") from None
    missing = [dist for dist, module in _MODULES.items() if module in found["missing"]]
    wanted = [req for req in runtime.REQUIREMENTS if any(req.startswith(dist) for dist in missing)]
    install = f"{python} -m pip install " + " ".join(f"'{req}'" for req in wanted)
    if any(dist in _REQUIRED for dist in missing):
        raise ImageBuildError(
            f"user_managed_dependencies=True runs {python} (Python {found['version']}) as it is, and nothing is "
            f"installed into it; it lacks {', '.join(missing)}, which the scoring runtime needs. Install "
            f"them yourself ({install}), {fix}")
    if missing:
        report.notice(f"{python} lacks {', '.join(missing)}: a run() that declares its input type is served "
                      f"without the fast JSON path. To have it: {install}", "warning")
