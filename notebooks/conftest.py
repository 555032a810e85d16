"""nbval plumbing for the tutorial notebooks: ``pytest tests notebooks --nbval-lax`` runs them with the tests.

Every cell runs, top to bottom, in a fresh kernel of this Python; cells tagged ``nbval-check-output`` must also
print what the stored notebook shows, after ``nbval-sanitize.cfg`` (ports, times, ids) has been applied to both.
Widget views are left out of every comparison: their model ids change on every run.

The notebooks deploy into an isolated aci_widgets home (the same one as ``tests/``, when both run in one session),
and whatever a failed notebook left running is deleted when the session ends; any process or container of the
session still there after that fails the run (tests/leftovers.py). MNIST comes as in tests/conftest.py: from
``$ACI_WIDGETS_MNIST_DIR`` when set, else from a cache folder of the session (a download, or the offline digits).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _tests_folder() -> Path:
    """tests/ of this checkout; of the installed (editable) package when this file was copied elsewhere."""
    if (HERE.parent / "tests" / "support.py").is_file():
        return HERE.parent / "tests"
    import aci_widgets

    return Path(aci_widgets.__file__).resolve().parents[1] / "tests"


sys.path.insert(0, str(_tests_folder()))

import leftovers  # noqa: E402
from support import isolate_mnist_cache, isolate_user_folders, requirement_missing  # noqa: E402

SANITIZE_FILE = HERE / "nbval-sanitize.cfg"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Each notebook deploys into a workspace of its own, named with this prefix (see tests/notebooks).
WORKSPACE_PREFIX = "nb-"


def pytest_configure(config: pytest.Config) -> None:
    # The same session home as tests/conftest.py (whichever runs first sets it); the kernels inherit it.
    if not os.environ.get("ACI_WIDGETS_TEST_HOME"):
        home = Path(os.environ.get("TMPDIR", "/tmp")) / f"aci-widgets-tests-{os.getpid()}"
        os.environ["ACI_WIDGETS_TEST_HOME"] = str(home)
    os.environ["ACI_WIDGETS_HOME"] = os.environ["ACI_WIDGETS_TEST_HOME"]
    isolate_mnist_cache(Path(os.environ["ACI_WIDGETS_TEST_HOME"]))  # the kernels inherit it
    isolate_user_folders(Path(os.environ["ACI_WIDGETS_TEST_HOME"]))
    leftovers.start_session(config)
    option = config.option
    if getattr(option, "nbval_sanitize_with", "unset") is None:
        option.nbval_sanitize_with = str(SANITIZE_FILE)
    # Run the notebooks with the Python that runs pytest (where aci_widgets is installed), whatever the
    # "python3" kernelspec of this machine points at, unless a kernel was named on the command line.
    if hasattr(option, "nbval_current_env") and not getattr(option, "nbval_kernel_name", None):
        option.nbval_current_env = True


def _without_widget_views(outputs: list) -> list:
    return [out for out in outputs if WIDGET_VIEW not in out.get("data", {})]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Drop widget views (whole outputs, their text/plain repr included) from both sides of every comparison."""
    from nbval.plugin import IPyNbCell

    for item in items:
        if not isinstance(item, IPyNbCell):
            continue
        compare = item.compare_outputs

        def compare_without_widgets(test, ref, skip_compare=None, _compare=compare):  # noqa: ANN001, ANN202
            return _compare(_without_widget_views(test), _without_widget_views(ref), skip_compare)

        item.compare_outputs = compare_without_widgets


def pytest_runtest_setup(item: pytest.Item) -> None:
    """04-aci runs against the local ACI stand-in, which needs Docker, docker-registry and htpasswd: without them
    its cells skip on a developer machine (as the Docker tests do) and fail under CI."""
    if Path(str(item.fspath)).name != "04-aci.ipynb":
        return
    from aci_widgets.testing import AciStandIn

    reason = AciStandIn.missing()
    if reason is not None:
        requirement_missing("the ACI stand-in (Docker, docker-registry, htpasswd)", reason)


@pytest.hookimpl(tryfirst=True, specname="pytest_sessionfinish")
def delete_what_notebooks_left(session: pytest.Session, exitstatus: int) -> None:
    """Delete the services a notebook left running (it failed before its clean-up cell)."""
    home = os.environ.get("ACI_WIDGETS_TEST_HOME", "")
    workspaces = Path(home) / "workspaces"
    if "aci-widgets-tests-" not in home or not workspaces.is_dir():
        return
    from aci_widgets.core import Webservice, Workspace

    for folder in sorted(workspaces.glob(f"{WORKSPACE_PREFIX}*")):
        if not (folder / "workspace.json").is_file():
            continue
        try:
            services = Webservice.list(Workspace(folder.name, path=folder))
        except Exception as exc:  # noqa: BLE001 - clean-up must go on with the next workspace
            print(f"notebook clean-up: cannot open workspace {folder.name}: {exc}")
            continue
        for service in services:
            try:
                service.delete()
                print(f"notebook clean-up: deleted {service.name} left by a notebook in {folder.name}")
            except Exception as exc:  # noqa: BLE001
                print(f"notebook clean-up: could not delete {service.name}: {exc}")


@pytest.hookimpl(trylast=True)  # after the kernels are stopped
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Whatever the session still runs is stopped and fails the run; then the home goes."""
    leftovers.finish_session(session)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # noqa: ANN001
    leftovers.report(terminalreporter, config)
