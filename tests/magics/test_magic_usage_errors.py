"""A user's mistake is a UsageError: one line, no traceback, and nothing is registered or deployed."""

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from aci_widgets.core import Model, Webservice


@pytest.mark.parametrize(("line", "message"), [
    ("%aci_logs nope", "Service 'nope' not found"),
    ("%aci_delete nope", "Service 'nope' not found"),
    ("%aci_predict nope", "Service 'nope' not found"),
    ("%aci_logs", "the following arguments are required: name"),
    ("%aci_predict nope --n many", "invalid int value"),
    ("%aci_logs 'nope", "Cannot read the arguments: No closing quotation"),
    ("%deploy_aci Bad_Name --model weights.npy", "Invalid service name 'Bad_Name'"),
    ("%deploy_aci svc-1", "Give at least one --model"),
    ("%deploy_aci svc-1 --model weights.npy --script missing.py", "Score script 'missing.py' not found"),
    ("%deploy_aci svc-1 --model nosuchmodel", "'nosuchmodel' is neither a file"),
    ("%deploy_aci svc-1 --model weights.npy --tag novalue", "--tag takes key=value"),
    ("%deploy_aci svc-1 --model weights.npy --cpu 99", "cpu_cores must be a number above 0 and at most 4"),
    ("%deploy_aci svc-1 --model weights.npy --conda missing.yml", "missing.yml"),
    ("%deploy_aci svc-1 --model weights.npy --target nowhere", "Unknown target 'nowhere'"),
    ("%deploy_aci svc-1 --image nosuchimage", "Image 'nosuchimage' not found"),
])
def test_mistakes_raise_one_line_usage_errors(ip, ws, numpy_model, line, message):
    with pytest.raises(UsageError) as caught:
        ip.run_cell(line)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert Model.list(ws) == []
    assert Webservice.list(ws) == []


def test_usage_error_shows_no_traceback(ip, numpy_model, capsys):
    result = InteractiveShell.run_cell(ip, "%aci_logs nope")  # the plain shell's run_cell: shows, not raises
    assert isinstance(result.error_in_exec, UsageError)
    out = capsys.readouterr()
    shown = out.out + out.err
    assert "UsageError: Service 'nope' not found" in shown
    assert "Traceback" not in shown

