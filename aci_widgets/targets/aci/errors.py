"""Azure's errors as one clear line saying what to do; ARM's own message is kept in the detail.

The SDK raises ``HttpResponseError`` subclasses whose ``.error.code`` is ARM's code. The code decides the line, and
ARM's message too where the REST specification names no code (it names none for ACI): a taken DNS label is
``DnsNameLabelAlreadyTaken`` "... is not available", a size beyond the region's is 409 ``ServiceUnavailable`` "The
requested resource is not available in the location ...", as Azure answers; an invalid name or label is matched by
its message, whatever its code (see aci_widgets/testing/armstub/validation.py for the sources).
"""

from __future__ import annotations

from typing import Any

from ...core.errors import AciWidgetsError, TargetUnavailable, UserErrorException, WebserviceException
from .settings import AciSettings

# ACI's rules, as Azure states them (the core checks the DNS label with the same rule before calling Azure):
DNS_LABEL_RULE = "5 to 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit"
GROUP_NAME_RULE = ("1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit, without "
                   "two '-' in a row")
LOGIN_HINT = ("run `az login` (or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET), or set "
              "ACI_WIDGETS_ARM_TOKEN to the output of `az account get-access-token --query accessToken -o tsv`")


def explain(exc: BaseException, settings: AciSettings, name: str = "", size: str = "") -> AciWidgetsError:
    """An error of ours for ``exc`` (an SDK or azure-identity error) met while working on service ``name``."""
    code, message, status = _parts(exc)
    detail = f"Azure said: ({code}) {message}" if code else f"Azure said: {message}"
    where = f"resource group {settings.resource_group!r} of subscription {settings.subscription_id}"
    lower, text = code.lower(), message.lower()
    if status in (401, 403) or lower in ("authenticationfailed", "authorizationfailed") \
            or lower.startswith(("invalidauthenticationtoken", "expiredauthenticationtoken")) \
            or type(exc).__name__ in ("ClientAuthenticationError", "CredentialUnavailableError"):
        verb = "refused access" if status == 403 or lower == "authorizationfailed" else "could not log you in"
        return TargetUnavailable(f"Azure {verb} ({code or type(exc).__name__}) at {settings.endpoint}: {LOGIN_HINT}.",
                                 detail)
    if lower in ("subscriptionnotfound", "invalidsubscriptionid"):
        return UserErrorException(f"Subscription {settings.subscription_id} was not found: check subscription_id "
                                  "($AZURE_SUBSCRIPTION_ID) against `az account list -o table`.", detail)
    if lower == "resourcegroupnotfound":
        return UserErrorException(f"Resource group {settings.resource_group!r} does not exist in subscription "
                                  f"{settings.subscription_id}: create it with `az group create -n "
                                  f"{settings.resource_group} -l {settings.location}` or set resource_group "
                                  "($AZURE_RESOURCE_GROUP).", detail)
    if lower == "containergroupquotareached" or ("quota" in text and "exceeded" in text):
        return WebserviceException(f"The container-group quota of subscription {settings.subscription_id} in "
                                   f"{settings.location} is reached: delete services you no longer need "
                                   "(`aci-widgets ps`, service.delete()) or ask Azure for more quota.", detail)
    if lower == "inaccessibleimage":
        return WebserviceException(f"ACI cannot pull the image of service {name!r} from {settings.registry}: check "
                                   "the registry credentials (ACI_WIDGETS_REGISTRY_USERNAME / "
                                   "ACI_WIDGETS_REGISTRY_PASSWORD or `docker login`) and that the image was pushed.",
                                   detail)
    if "dnsnamelabel" in lower or "dns name label" in text:
        if any(word in f"{lower} {text}" for word in ("taken", "not available", "inuse", "in use", "already")):
            return UserErrorException(f"The DNS name label of service {name!r} is already taken in "
                                      f"{settings.location} (labels are shared by every Azure customer of a region): "
                                      "choose another dns_name_label in AciWebservice.deploy_configuration(...).",
                                      detail)
        return UserErrorException(f"The DNS name label of service {name!r} is not valid in Azure: choose a "
                                  f"dns_name_label of {DNS_LABEL_RULE}.", detail)
    if "containergroupname" in lower or lower in ("invalidname", "invalidresourcename") \
            or ("container group name" in text and "invalid" in text):
        return UserErrorException(f"{name!r} is not a valid container-group name in Azure: deploy the service under "
                                  f"a name of {GROUP_NAME_RULE}.", detail)
    if "resourcerequest" in lower or "not available in the location" in text or "resource requested" in text:
        return UserErrorException(f"ACI in {settings.location} cannot give service {name!r} the size asked"
                                  f"{' (' + size + ')' if size else ''}, more than the region offers or has free at "
                                  "the moment: choose smaller cpu_cores / memory_gb in "
                                  "AciWebservice.deploy_configuration(...), another location, or retry later.", detail)
    if lower == "resourcenotfound" or status == 404:
        return WebserviceException(f"Service {name!r} was not found in Azure ({where}): it was deleted outside "
                                   "aci_widgets; deploy it again.", detail)
    what = f"({code}) {message}" if code else message
    return WebserviceException(f"Azure refused the request for service {name!r} in {where}: {what}", detail)


def _parts(exc: BaseException) -> tuple[str, str, int | None]:
    error: Any = getattr(exc, "error", None)
    code = str(getattr(error, "code", "") or "")
    message = str(getattr(error, "message", "") or "") or str(getattr(exc, "message", "") or exc)
    status = getattr(exc, "status_code", None)
    return code, message.strip(), status
