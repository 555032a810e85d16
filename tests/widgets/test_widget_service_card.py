"""The service card: state, URIs, masked keys, Test, Logs, and Delete that asks first."""

import pytest

from aci_widgets.core import AciWebservice, ContainerImage, Webservice, WebserviceException
from aci_widgets.widgets.service_card import MASK, ServiceCard


def _deploy(ws, name, script, model, auth):
    config = ContainerImage.image_configuration(execution_script=script, runtime="python", conda_file="myenv.yml")
    service = Webservice.deploy(ws, name, [model], config, AciWebservice.deploy_configuration(auth_enabled=auth))
    service.wait_for_deployment()
    return service


@pytest.fixture
def mnist_service(ws, mnist_numpy_model):
    return _deploy(ws, "card-mnist", "score_mnist.py", "mnist_weights.npy", auth=True)


def text_of(output):
    return "".join(item.get("text", "") for item in output.outputs)


def test_card_shows_state_target_and_links(mnist_service):
    card = ServiceCard(mnist_service)
    assert "card-mnist" in card.header.value
    assert card.badge.state == "Healthy"
    assert mnist_service.scoring_uri in card.info.value
    assert f'href="{mnist_service.swagger_uri}"' in card.info.value
    assert "process" in card.info.value


def test_keys_are_masked_until_revealed(mnist_service):
    primary, secondary = mnist_service.get_keys()
    card = ServiceCard(mnist_service)
    assert card.keys_row.layout.display == ""
    assert MASK in card.keys_html.value and primary not in card.keys_html.value
    card.reveal.value = True
    assert primary in card.keys_html.value and secondary in card.keys_html.value
    card.reveal.value = False
    assert primary not in card.keys_html.value


def test_test_button_sends_mnist_digits_and_shows_the_answer(mnist_service):
    card = ServiceCard(mnist_service)
    card.test_button.click()
    text = text_of(card.output)
    assert text.startswith("predicted [") and "labels [" in text and "/4 correct" in text


def test_logs_button_shows_the_service_log(mnist_service):
    card = ServiceCard(mnist_service)
    card.logs_button.click()
    assert "ready on" in text_of(card.output)


def test_delete_needs_confirmation(ws, mnist_service):
    card = ServiceCard(mnist_service)
    assert card.confirm_row.layout.display == "none"
    card.delete_button.click()
    assert card.confirm_row.layout.display == ""
    assert "card-mnist" in card.confirm_text.value
    assert Webservice(ws, "card-mnist").state == "Healthy"  # nothing deleted yet
    card.keep_button.click()
    assert card.confirm_row.layout.display == "none" and not card.delete_button.disabled
    assert Webservice(ws, "card-mnist").state == "Healthy"
    card.delete_button.click()
    card.confirm_button.click()
    with pytest.raises(WebserviceException, match="not found"):
        Webservice(ws, "card-mnist")
    assert card.deleted and card.badge.state == "Deleted"
    assert all(b.disabled for b in (card.test_button, card.logs_button, card.delete_button))
    assert "Deleted service 'card-mnist'." in text_of(card.output)


def test_without_auth_there_are_no_keys_and_errors_stay_in_the_card(ws, numpy_model):
    service = _deploy(ws, "card-dot", "score.py", "weights.npy", auth=False)
    card = ServiceCard(service)
    assert card.keys_row.layout.display == "none"
    card.test_button.click()  # MNIST digits into a 3-weight dot product: the service answers 500
    assert card.output.outputs[0]["name"] == "stderr"
    assert "Received bad response from service 'card-dot': 500" in text_of(card.output)


def test_a_followed_card_sees_its_service_deleted_elsewhere(ws, numpy_model):
    from widget_helpers import wait_until

    service = _deploy(ws, "card-gone", "score.py", "weights.npy", auth=False)
    card = ServiceCard(service)
    card.follow_service(every=0.05)
    assert card.badge.state == "Healthy"
    Webservice(ws, "card-gone").delete()  # as %aci_delete or another cell would
    wait_until(lambda: card.badge.state == "Deleted", "the card to notice the deletion")
    assert card.deleted and all(b.disabled for b in (card.test_button, card.logs_button, card.delete_button))
    assert "was deleted" in text_of(card.output)
    assert card.static_bundle()["text/plain"] == "Webservice card-gone: Deleted"


def test_the_logs_button_shows_no_colour_codes(ws, numpy_model):
    (numpy_model / "score.py").write_text("def init():\n    print('\\x1b[1;32mgreen\\x1b[0m hello')\n\n"
                                          "def run(raw_data):\n    return 1\n")
    card = ServiceCard(_deploy(ws, "card-ansi", "score.py", "weights.npy", auth=False))
    card.logs_button.click()
    text = text_of(card.output)
    assert "green hello" in text and "\x1b" not in text
