"""%aci_services, %aci_logs, %aci_delete and %aci_predict against real services."""

import io
import re

import pytest
from IPython.core.error import UsageError

from aci_widgets.core import Webservice, WebserviceException


@pytest.fixture
def dot(ip, numpy_model):
    return ip.run_line_magic("deploy_aci", "dot-svc --model weights.npy --conda myenv.yml")


def test_services_table_has_state_target_uri_and_age(ip, dot):
    table = ip.run_line_magic("aci_services", "")
    text = repr(table)
    header, rule, row = text.splitlines()
    assert header.split() == ["name", "state", "target", "scoring", "URI", "age"]
    assert set(rule) <= {"-", " "}
    assert row.split()[:4] == ["dot-svc", "Healthy", "process", dot.scoring_uri]
    assert re.search(r"  \d+ (s|min|h|d)$", row), row  # an age in a readable unit, whatever it is
    html = table._repr_html_()
    assert "<table>" in html and "dot-svc" in html and dot.scoring_uri in html and "Healthy" in html


def test_services_table_when_there_are_none(ip, ws):
    table = ip.run_line_magic("aci_services", "")
    assert repr(table) == f"No services in workspace {ws.name!r}."


def test_logs_show_the_servers_output_and_tail_cuts_it(ip, dot):
    logs = ip.run_line_magic("aci_logs", "dot-svc")
    assert "ready on" in repr(logs)
    assert "<pre" in logs._repr_html_()
    last = ip.run_line_magic("aci_logs", "dot-svc --tail 1")
    assert repr(last).splitlines() == repr(logs).splitlines()[-1:]  # the log's last line, alone
    with pytest.raises(UsageError, match="--tail must be at least 1"):
        ip.run_line_magic("aci_logs", "dot-svc --tail 0")


def test_delete_stops_and_removes_the_service(ip, ws, dot, capsys):
    uri = dot.scoring_uri
    ip.run_line_magic("aci_delete", "dot-svc")
    assert capsys.readouterr().out.strip() == "Deleted service 'dot-svc'."
    with pytest.raises(WebserviceException, match="not found"):
        Webservice(ws, "dot-svc")
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(uri, data=b"{}", timeout=5)
    with pytest.raises(UsageError, match="Service 'dot-svc' not found"):
        ip.run_line_magic("aci_delete", "dot-svc")


def test_predict_text_mode_returns_the_gallery_png_and_accuracy(ip, mnist_numpy_model):
    ip.run_line_magic("deploy_aci", "mnist-svc --model mnist_weights.npy --script score_mnist.py --conda myenv.yml")
    report = ip.run_line_magic("aci_predict", "mnist-svc --n 12 --seed 3")
    import re

    found = re.fullmatch(r"(\d+)/12 correct \((\d+)%\), request took \d+ ms", repr(report))
    assert found, repr(report)
    assert int(found.group(1)) >= 8  # the linear model is right about 85% of the time
    from matplotlib.image import imread

    pixels = imread(io.BytesIO(report._repr_png_()), format="png")
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert repr(ip.run_line_magic("aci_predict", "mnist-svc --n 12 --seed 3")).split(",")[0] == \
        repr(report).split(",")[0]  # same seed, same digits, same score


def test_predict_widgets_mode_returns_a_gallery_widget(ip, mnist_numpy_model):
    from aci_widgets.widgets.gallery import PredictionGallery

    ip.run_line_magic("deploy_aci", "mnist-svc2 --model mnist_weights.npy --script score_mnist.py --conda myenv.yml")
    ip.run_line_magic("config", "DeployMagics.ui = 'widgets'")
    gallery = ip.run_line_magic("aci_predict", "mnist-svc2 --n 5 --seed 1")
    assert isinstance(gallery, PredictionGallery)
    last = gallery.last
    assert len(last.images) == len(last.labels) == len(last.predictions) == 5
    assert set(last.predictions.tolist()) <= set(range(10)) and set(last.labels.tolist()) <= set(range(10))
    assert last.summary().startswith(f"{int((last.predictions == last.labels).sum())}/5 correct")
    assert bytes(gallery.image.value).startswith(b"\x89PNG")
    assert gallery.last.summary() in gallery.summary.value


def test_predict_against_a_non_mnist_service_is_a_usage_error(ip, dot):
    with pytest.raises(UsageError, match="Received bad response from service 'dot-svc': 500"):
        ip.run_line_magic("aci_predict", "dot-svc --n 3")


def test_predict_bounds_n(ip, dot):
    with pytest.raises(UsageError, match="between 1 and 100"):
        ip.run_line_magic("aci_predict", "dot-svc --n 0")
