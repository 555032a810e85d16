"""A failed RUN pip install step: the build error names pip's root cause, read from the step's own output."""

from pathlib import Path

from aci_widgets.targets.docker.build import _build_error, _Progress

PIP_LOG = Path(__file__).parents[2] / "core" / "piplogs" / "old-pin-pkg-resources.log"


def test_the_build_error_names_pips_root_cause_after_the_failed_step():
    progress = _Progress()
    progress.feed("Step 4/6 : RUN pip install scikit-learn==0.20.3\n ---> Running in 0123456789ab\n")
    progress.feed(PIP_LOG.read_text())
    chunk = {"error": "The command '/bin/sh -c pip install scikit-learn==0.20.3' returned a non-zero code: 1"}
    error = _build_error("aci-widgets/demo:1", progress, chunk)
    assert str(error).splitlines() == [
        "Building image aci-widgets/demo:1 failed at Step 4/6 : RUN pip install scikit-learn==0.20.3",
        "ModuleNotFoundError: No module named 'pkg_resources' (while building scikit-learn==0.20.3 from source)",
    ]
    assert error.detail.endswith(chunk["error"])
