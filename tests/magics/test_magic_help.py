"""Loading the extension: help text, configuration, laziness, unload."""

import subprocess
import sys

import pytest
from IPython.core.magic import Magics

from aci_widgets.core import events


def test_deploy_aci_help_lists_every_option(ip, capsys):
    ip.run_cell("%deploy_aci?")
    out = capsys.readouterr().out
    assert "Deploy models as a web service" in out
    for option in ("--model FILE_OR_NAME", "--script", "--conda", "--cpu", "--memory", "--tag", "--image",
                   "--auth", "--target", "--no-wait", "--overwrite"):
        assert option in out
    assert "%config DeployMagics.target" in out


@pytest.mark.parametrize(("magic", "expected"), [
    ("%%score_script", "--test-input EXPR_OR_FILE"),
    ("%aci_services", "state, target, scoring URI and age"),
    ("%aci_logs", "--tail TAIL"),
    ("%aci_delete", "positional arguments"),
    ("%aci_predict", "--seed SEED"),
    ("%deploy_form", "--target auto|process|docker"),
])
def test_every_magic_has_real_help(ip, capsys, magic, expected):
    ip.run_cell(f"{magic}?")
    out = capsys.readouterr().out
    assert f"  {magic} " in out or f"  {magic}\n" in out  # the usage line names the magic as typed
    assert expected in out


def test_config_sets_the_settings(ip, settings, capsys):
    assert isinstance(settings, Magics)
    ip.run_line_magic("config", "DeployMagics.target = 'process'")
    assert settings.target == "process"
    ip.run_line_magic("config", "DeployMagics")
    out = capsys.readouterr().out
    for trait in ("DeployMagics.target", "DeployMagics.workspace", "DeployMagics.workspace_path", "DeployMagics.ui"):
        assert trait in out


def test_unload_restores_presenter_formatters_and_magics(ip):
    from aci_widgets.core import Webservice

    assert events._presenter is not events.print_events
    html = ip.display_formatter.formatters["text/html"]
    assert html.lookup_by_type(Webservice)
    ip.run_line_magic("unload_ext", "aci_widgets")
    assert events._presenter is events.print_events
    with pytest.raises(KeyError):
        html.lookup_by_type(Webservice)
    assert "deploy_aci" not in ip.magics_manager.magics["line"]
    assert "score_script" not in ip.magics_manager.magics["cell"]
    ip.run_line_magic("load_ext", "aci_widgets")  # the fixture unloads again
    assert "deploy_aci" in ip.magics_manager.magics["line"]


def test_load_ext_imports_no_widgets_numpy_or_matplotlib(tmp_path):
    code = ("import sys\nfrom IPython.core.interactiveshell import InteractiveShell\n"
            "ip = InteractiveShell.instance()\nip.run_line_magic('load_ext', 'aci_widgets')\n"
            "assert 'deploy_aci' in ip.magics_manager.magics['line']\n"
            "print(sorted(m for m in ('ipywidgets', 'numpy', 'matplotlib', 'yaml') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert done.stdout.strip() == "[]"


def test_workspace_defaults_to_config_file_then_to_aci_widgets(ip, settings, ws, workdir):
    settings.workspace = None
    settings.workspace_path = None
    ws.write_config(workdir)
    assert settings.get_workspace() == ws
    (workdir / ".azureml" / "config.json").unlink()
    default = settings.get_workspace()
    assert default.name == "aci-widgets"
