"""What the widgets show beyond their traits: glyphs any browser can draw, logs without colour codes, the log
open while steps run, and the static copy each widget output carries for saved notebooks (GitHub, nbviewer)."""

import base64
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.ft2font import FT2Font
from widget_helpers import make_operation

from aci_widgets.core import events
from aci_widgets.core.operation import Operation
from aci_widgets.widgets.deploy_form import WORKSPACE_SETTING, DeployForm
from aci_widgets.widgets.gallery import PredictionGallery
from aci_widgets.widgets.log_view import LogView
from aci_widgets.widgets.progress import DeploymentProgress
from aci_widgets.widgets.static import WIDGET_VIEW
from aci_widgets.widgets.step_row import StepRow

PACKAGE = Path(__file__).resolve().parents[2] / "aci_widgets"
DRAWN = [*sorted((PACKAGE / "widgets").glob("*.py")), PACKAGE / "magics" / "display.py"]
RED = "\x1b[1;31m"


@pytest.fixture
def display_log():
    """An IPython shell whose display publisher records what a notebook would receive (display and update)."""
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    class Recorder(DisplayPublisher):
        def __init__(self):
            super().__init__()
            self.shown, self.updates = [], []

        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            record = {"data": data, "display_id": (transient or {}).get("display_id")}
            (self.updates if update else self.shown).append(record)

    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    saved, shell.display_pub = shell.display_pub, Recorder()
    yield shell.display_pub
    shell.display_pub = saved
    InteractiveShell.clear_instance()


def _dejavu(name: str) -> FT2Font:
    # The same DejaVu files as Debian's fonts-dejavu-core, shipped inside matplotlib.
    return FT2Font(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name))


def test_every_glyph_the_widgets_draw_is_in_dejavu():
    glyphs = {char for path in DRAWN for char in path.read_text() if ord(char) > 127}
    assert glyphs, "no non-ASCII character found: the scan is broken"
    for font in (_dejavu("DejaVuSans.ttf"), _dejavu("DejaVuSansMono.ttf")):
        missing = sorted(f"{c} U+{ord(c):04X}" for c in glyphs if font.get_char_index(ord(c)) == 0)
        assert not missing, f"{font.family_name} lacks {missing}: a browser without emoji fonts draws a box"


def test_the_glyph_check_can_fail():
    assert _dejavu("DejaVuSans.ttf").get_char_index(ord("⏳")) == 0


def test_the_running_step_is_a_css_spinner():
    row = StepRow("build image")
    row.state = "running"
    assert 'class="aci-spinner"' in row.value and "@keyframes aci-spin" in row.value
    row.state = "done"
    assert "aci-spinner" not in row.value and "✔" in row.value


def test_colour_codes_never_reach_the_log_or_the_error():
    log = LogView()
    log.append(f"{RED}ERROR\x1b[0m: pip failed")
    log.flush()
    assert log.lines == ["ERROR: pip failed"] and "\x1b" not in log.text.value

    def work(report):
        with report.step(events.BUILD):
            report.log(f"{RED}red line\x1b[0m")
            raise RuntimeError(f"{RED}boom\x1b[0m")

    op = Operation("image x:1", work).start()
    panel = DeploymentProgress.for_operation(op)
    panel.follow(op)
    assert panel.state == "Failed"
    assert "\x1b" not in panel.error + panel.detail + panel.error_html.value + panel.log_view.text.value
    assert "boom" in panel.error_html.value


def test_the_log_is_open_while_steps_run_and_folds_on_success():
    op = make_operation()
    panel = DeploymentProgress.for_operation(op)
    assert not panel.log_view.expanded  # nothing to show yet
    opened = []
    panel.watch(op)  # the panel draws each event in the operation's thread, before the probe below sees it
    op.subscribe(lambda event: opened.append(panel.log_view.expanded) if isinstance(event, events.LogLine) else None)
    op.start()
    assert panel.wait_finished(60)
    assert panel.state == "Healthy"
    assert opened and all(opened), "the log was folded while the build wrote to it"
    assert not panel.log_view.expanded


@pytest.mark.parametrize("fail_at", [events.BUILD, events.HEALTH])
def test_the_log_stays_open_when_the_deployment_fails(fail_at):
    op = make_operation(fail_at=fail_at).start()
    panel = DeploymentProgress.for_operation(op)
    panel.follow(op)
    assert panel.state == "Failed" and panel.log_view.expanded


def test_the_panels_static_copy_is_its_final_state(display_log):
    op = make_operation(detail="").start()
    panel = DeploymentProgress.for_operation(op)
    panel._ipython_display_()
    shown = display_log.shown[-1]
    assert WIDGET_VIEW in shown["data"] and "Waiting" in shown["data"]["text/html"]
    panel.follow(op)
    update = display_log.updates[-1]
    assert update["display_id"] == shown["display_id"]
    html, text = update["data"]["text/html"], update["data"]["text/plain"]
    assert update["data"][WIDGET_VIEW]["model_id"] == panel.model_id
    assert "Healthy" in html and all(step in html for step in events.STEPS) and html.count("✔") == 4
    assert "build line 1" in html and "<details>" in html  # the log, folded
    assert text.splitlines()[0] == "service demo: Healthy" and "✔ build image" in text


def test_the_gallerys_static_copy_is_its_png(display_log):
    X, y = np.zeros((20, 784)), np.arange(20) % 10
    gallery = PredictionGallery(lambda body: list(range(8)), n=8, seed=1, data=(X, y))
    gallery._ipython_display_()
    data = display_log.shown[-1]["data"]
    assert WIDGET_VIEW in data
    assert base64.b64decode(data["image/png"]) == gallery.image.value
    assert data["image/png"] and re.match(r"\d+/8 correct", data["text/plain"])


def test_the_forms_target_shows_the_workspace_setting(ws, workdir):
    form = DeployForm(ws)
    assert form.target.value == WORKSPACE_SETTING
    assert form.target.label == f"workspace setting ({ws.target})"
    assert form.request().target is None
    assert f"workspace setting ({ws.target})" in form.static_bundle()["text/html"]
    form.target.value = "process"
    assert form.request().target == "process"
