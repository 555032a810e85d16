"""piplog.py on real pip output, captured from pip 23.2 on Python 3.11 (tests/core/piplogs/*.log):

- old-pin-pkg-resources: ``pip install scikit-learn==0.20.3`` (its setup.py needs pkg_resources, gone from the
  build's setuptools); metadata-generation-failed: ``pip install six==1.16.0 'scipy<1.0'`` (numpy.distutils in the
  build breaks); no-matching-version: ``scikit-learn==99.0``; conflicting-pins: ``numpy==1.26.4 pandas==2.2.2
  numpy==2.0.0``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aci_widgets.core.piplog import PipFailure, root_cause

LOGS = Path(__file__).parent / "piplogs"


def _log(name: str) -> str:
    return (LOGS / f"{name}.log").read_text()


def test_an_old_pin_names_the_missing_module_and_the_package_being_built() -> None:
    log = _log("old-pin-pkg-resources")
    assert "subprocess-exited-with-error" in log  # what pip itself ends with
    failure = root_cause(log)
    assert failure == PipFailure("ModuleNotFoundError: No module named 'pkg_resources'", "scikit-learn==0.20.3")
    assert str(failure) == ("ModuleNotFoundError: No module named 'pkg_resources'"
                            " (while building scikit-learn==0.20.3 from source)")


def test_a_failed_metadata_step_names_the_builds_last_exception() -> None:
    failure = root_cause(_log("metadata-generation-failed"))
    assert failure == PipFailure(
        "TypeError: Compiler.__init__() takes from 1 to 3 positional arguments but 4 were given", "scipy<1.0")


def test_a_missing_version_names_the_requirement_and_the_newest_versions() -> None:
    failure = root_cause(_log("no-matching-version"))
    assert failure == PipFailure("Could not find a version that satisfies the requirement scikit-learn==99.0"
                                 " (from versions: ..., 1.8.0rc1, 1.8.0, 1.9.0rc1, 1.9.0, 1.9.1)")


def test_conflicting_pins_name_the_conflict_not_resolution_impossible() -> None:
    failure = root_cause(_log("conflicting-pins"))
    assert failure == PipFailure("Cannot install numpy==1.26.4 and numpy==2.0.0 because these package versions"
                                 " have conflicting dependencies.")


def test_lines_as_they_stream_with_colour_codes_give_the_same_cause() -> None:
    lines = [f"\x1b[31m{line}\x1b[0m" for line in _log("old-pin-pkg-resources").splitlines()]
    assert root_cause(iter(lines)) == root_cause(_log("old-pin-pkg-resources"))


@pytest.mark.parametrize("log", ["", "Collecting numpy\nSuccessfully installed numpy-2.0.0\n",
                                 "error: subprocess-exited-with-error\nERROR: Failed building wheel for x\n"])
def test_no_specific_cause_is_none(log: str) -> None:
    assert root_cause(log) is None


def test_a_compiler_error_counts_when_the_build_raised_nothing() -> None:
    log = ("Collecting pkg==1.0\n  error: subprocess-exited-with-error\n  ╰─> [3 lines of output]\n"
           "      running build_ext\n      src/fast.c:1:10: fatal error: Python.h: No such file or directory\n"
           "      [end of output]\nerror: subprocess-exited-with-error\n")
    assert root_cause(log) == PipFailure("src/fast.c:1:10: fatal error: Python.h: No such file or directory",
                                         "pkg==1.0")
