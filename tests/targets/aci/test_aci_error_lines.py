"""How the aci target reads ARM's answers it has not seen from this project's stand-in: the REST specification names
no error code for ACI, so a stand-in written from it (or Azure itself) may answer an invalid or taken DNS label, an
invalid name or a size the region lacks under another code. The line is then chosen by ARM's message, and ARM's
message stays in the detail."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ODataV4Format

from aci_widgets.core.errors import UserErrorException, WebserviceException
from aci_widgets.targets.aci.errors import explain
from aci_widgets.targets.aci.settings import AciSettings

SETTINGS = AciSettings("sub-1", "rg-1", "westeurope", "myacr.azurecr.io", "https://management.azure.com", None)
TAKEN = "The DNS name label 'iris-demo' in container group 'iris' is not available. Try using a different label."
INVALID = ("The DNS name label 'Iris_Demo' in container group 'iris' is invalid. It can contain only lowercase "
           "letters, numbers and hyphens. The first character must be a letter. The last character must be a letter "
           "or number. The value must be between 5 and 63 characters long.")
SIZE = ("The requested resource is not available in the location 'westeurope' at this moment. Please retry with a "
        "different resource request or in another location. Resource requested: '5' CPU '5' GB memory 'Linux' OS")
QUOTA = ("Resource type 'Microsoft.ContainerInstance/containerGroups' container group quota 'ContainerGroups' "
         "exceeded in region 'westeurope'. Limit: '0', Usage: '0' Requested: '1'.")


def _arm(status: int, code: str, message: str) -> HttpResponseError:
    error = HttpResponseError(message=f"({code}) {message}")
    error.error = ODataV4Format({"error": {"code": code, "message": message}})
    error.status_code = status
    return error


@pytest.mark.parametrize(("status", "code", "message", "kind", "says"), [
    (400, "DnsNameLabelAlreadyTaken", TAKEN, UserErrorException, "is already taken in westeurope"),
    (409, "Conflict", TAKEN, UserErrorException, "is already taken in westeurope"),
    (400, "InvalidDnsNameLabel", INVALID, UserErrorException, "is not valid in Azure: choose a dns_name_label of 5"),
    (400, "BadRequest", INVALID, UserErrorException, "is not valid in Azure: choose a dns_name_label of 5"),
    (409, "ServiceUnavailable", SIZE, UserErrorException, "choose smaller cpu_cores / memory_gb"),
    (400, "ResourceRequestsNotSupported", "too big", UserErrorException, "choose smaller cpu_cores / memory_gb"),
    (409, "ServiceUnavailable", QUOTA, WebserviceException, "container-group quota"),
    (400, "InvalidResourceName", "The resource name 'ab--cd' is invalid.", UserErrorException,
     "not a valid container-group name in Azure"),
    (400, "BadRequest", "The container group name 'ab--cd' is invalid.", UserErrorException,
     "not a valid container-group name in Azure"),
])
def test_each_refusal_is_one_line_whatever_its_code(status: int, code: str, message: str, kind: type, says: str
                                                    ) -> None:
    error = explain(_arm(status, code, message), SETTINGS, "iris", "5 vCPU, 5 GB")
    assert type(error) is kind
    assert says in error.message and "\n" not in error.message
    assert error.detail == f"Azure said: ({code}) {message}"


def test_an_unknown_refusal_keeps_arms_words_in_the_line() -> None:
    error = explain(_arm(400, "SomethingNew", "Something new went wrong."), SETTINGS, "iris")
    assert "Azure refused the request for service 'iris'" in error.message
    assert "(SomethingNew) Something new went wrong." in error.message
