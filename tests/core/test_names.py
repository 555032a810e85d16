import pytest

from aci_widgets.core.errors import UserErrorException
from aci_widgets.core.names import (
    check_image_name,
    check_model_name,
    check_service_name,
    check_workspace_name,
    service_name_problem,
)


@pytest.mark.parametrize("name", ["aci-mnist-1", "abc", "a" * 32, "svc-9"])
def test_valid_service_names(name):
    assert check_service_name(name) == name
    assert service_name_problem(name) is None


@pytest.mark.parametrize("name", ["ab", "a" * 33, "Aci-mnist", "1abc", "abc-", "a_b_c", "aci mnist", ""])
def test_invalid_service_names_say_the_rule(name):
    with pytest.raises(UserErrorException) as info:
        check_service_name(name)
    assert "3 to 32 characters" in str(info.value)


def test_invalid_service_name_suggests_a_valid_one():
    with pytest.raises(UserErrorException, match="Try 'aci-mnist-1'"):
        check_service_name("ACI_mnist_1")


def test_image_model_workspace_rules():
    assert check_image_name("myimage1") == "myimage1"
    assert check_model_name("sklearn_mnist_model.pkl") == "sklearn_mnist_model.pkl"
    assert check_workspace_name("docs-ws") == "docs-ws"
    with pytest.raises(UserErrorException, match="image name"):
        check_image_name("My Image")
    with pytest.raises(UserErrorException, match="model name"):
        check_model_name("../escape")
    with pytest.raises(UserErrorException, match="workspace name"):
        check_workspace_name("-bad")
