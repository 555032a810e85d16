"""The prediction gallery: MNIST digits with predictions, green right, red wrong, accuracy and latency."""

import io
import json
import re

import numpy as np
import pytest
from matplotlib.image import imread

from aci_widgets.core import AciWebservice, ContainerImage, Webservice, WebserviceException
from aci_widgets.widgets.gallery import PredictionGallery


def labeller(data, wrong=0):
    """A stand-in service that knows the labels of ``data`` and gets the first ``wrong`` digits wrong."""
    X, y = data
    index = {X[i].tobytes(): int(y[i]) for i in range(len(X))}

    def predict(body):
        rows = np.asarray(json.loads(body)["data"], dtype=X.dtype)
        labels = [index[row.tobytes()] for row in rows]
        return [(label + 1) % 10 if i < wrong else label for i, label in enumerate(labels)]

    return predict


def coloured_pixels(png):
    pixels = imread(io.BytesIO(bytes(png)), format="png")[..., :3]
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    red = int(np.sum((r > 0.8) & (g < 0.2) & (b < 0.2)))
    green = int(np.sum((g > 0.5) & (r < 0.2) & (b < 0.2)))
    return pixels.shape, red, green


@pytest.fixture
def small(mnist_data):
    X, y = mnist_data
    return X[:60], y[:60]


def test_all_right_is_all_green(small):
    gallery = PredictionGallery(labeller(small), n=8, seed=0, data=small)
    assert gallery.last.correct == 8
    assert re.fullmatch(r"8/8 correct \(100%\), request took \d+ ms", gallery.last.summary())
    assert gallery.last.summary() in gallery.summary.value
    shape, red, green = coloured_pixels(gallery.image.value)
    assert shape[0] > 100 and shape[1] > 400
    assert green > 0 and red == 0


def test_wrong_predictions_are_red_and_counted(small):
    gallery = PredictionGallery(labeller(small, wrong=2), n=8, seed=0, data=small)
    assert gallery.last.correct == 6 and gallery.last.accuracy == 0.75
    assert gallery.last.summary().startswith("6/8 correct (75%)")
    _, red, green = coloured_pixels(gallery.image.value)
    assert red > 0 and green > 0


def test_sample_again_sends_new_digits(small):
    gallery = PredictionGallery(labeller(small), n=5, seed=1, data=small)
    first = gallery.last.indices.tolist()
    first_png = bytes(gallery.image.value)
    gallery.again.click()
    assert gallery.last.indices.tolist() != first
    assert bytes(gallery.image.value) != first_png
    assert not gallery.again.disabled


def test_same_seed_same_digits(small):
    one = PredictionGallery(labeller(small), n=6, seed=7, data=small)
    two = PredictionGallery(labeller(small), n=6, seed=7, data=small)
    assert one.last.indices.tolist() == two.last.indices.tolist()


def test_a_failing_service_on_sample_again_shows_the_error(small):
    calls = []

    def flaky(body):
        calls.append(body)
        if len(calls) > 1:
            raise WebserviceException("Service 'x' did not answer")
        return labeller(small)(body)

    gallery = PredictionGallery(flaky, n=3, seed=0, data=small)
    gallery.again.click()
    assert "did not answer" in gallery.summary.value
    assert not gallery.again.disabled


def test_an_answer_of_the_wrong_size_is_refused(small):
    with pytest.raises(WebserviceException, match="not a list of 4 digit labels"):
        PredictionGallery(lambda body: [1, 2], n=4, data=small)


def test_string_answers_from_older_scripts_are_read(small):
    predict = labeller(small)
    gallery = PredictionGallery(lambda body: json.dumps(predict(body)), n=4, seed=0, data=small)
    assert gallery.last.correct == 4


def test_against_a_real_service(ws, mnist_numpy_model, mnist_data):
    config = ContainerImage.image_configuration(execution_script="score_mnist.py", runtime="python",
                                                conda_file="myenv.yml")
    service = Webservice.deploy(ws, "gallery-svc", ["mnist_weights.npy"], config,
                                AciWebservice.deploy_configuration())
    service.wait_for_deployment()
    gallery = PredictionGallery(service, n=10, seed=5)
    assert gallery.last.correct >= 6  # the linear model is right about 85% of the time
    truth = mnist_data[1][gallery.last.indices]
    assert gallery.last.labels.tolist() == truth.tolist()
