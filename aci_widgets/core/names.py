"""Name rules, checked before anything is made, with messages that show the rule and a valid alternative.

Every rule is matched whole (``fullmatch``): ``$`` alone would accept a trailing newline, and a name becomes a folder.
"""

from __future__ import annotations

import re

from .errors import UserErrorException

_SERVICE = re.compile(r"[a-z][a-z0-9-]{1,30}[a-z0-9]")
_IMAGE = re.compile(r"[a-z0-9][a-z0-9.-]{0,30}[a-z0-9]|[a-z0-9]")
_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
_WORKSPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,32}")

SERVICE_RULE = ("3 to 32 characters: lowercase letters, digits and '-', starting with a letter "
                "and ending with a letter or digit")
IMAGE_RULE = "1 to 32 characters: lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"
MODEL_RULE = "1 to 255 characters: letters, digits, '.', '_' and '-', starting with a letter or digit"
WORKSPACE_RULE = "2 to 33 characters: letters, digits, '_' and '-', starting with a letter or digit"


def _suggest(name: str, allowed: str, lower: bool) -> str:
    text = name.lower() if lower else name
    text = re.sub(f"[^{allowed}]+", "-", text).strip("-._")
    return text[:32] if lower else text


def service_name_problem(name: str) -> str | None:
    """None if ``name`` is a valid service name, else the rule it breaks (for live validation in a form)."""
    if not isinstance(name, str) or not _SERVICE.fullmatch(name):
        return f"A service name must be {SERVICE_RULE}."
    return None


def check_service_name(name: str) -> str:
    problem = service_name_problem(name)
    if problem:
        hint = _suggest(str(name), "a-z0-9-", lower=True)
        if hint and hint[0].isdigit():
            hint = "svc-" + hint
        suggestion = f" Try {hint!r}." if hint and _SERVICE.fullmatch(hint) else ""
        raise UserErrorException(f"Invalid service name {name!r}. {problem}{suggestion}")
    return name


def check_image_name(name: str) -> str:
    if not isinstance(name, str) or not _IMAGE.fullmatch(name):
        hint = _suggest(str(name), "a-z0-9.-", lower=True)
        suggestion = f" Try {hint!r}." if hint and _IMAGE.fullmatch(hint) else ""
        raise UserErrorException(f"Invalid image name {name!r}. An image name must be {IMAGE_RULE}.{suggestion}")
    return name


def check_model_name(name: str) -> str:
    if not isinstance(name, str) or not _MODEL.fullmatch(name):
        hint = _suggest(str(name), "A-Za-z0-9._-", lower=False)
        suggestion = f" Try {hint!r}." if hint and _MODEL.fullmatch(hint) else ""
        raise UserErrorException(f"Invalid model name {name!r}. A model name must be {MODEL_RULE}.{suggestion}")
    return name


def check_workspace_name(name: str) -> str:
    if not isinstance(name, str) or not _WORKSPACE.fullmatch(name):
        raise UserErrorException(f"Invalid workspace name {name!r}. A workspace name must be {WORKSPACE_RULE}.")
    return name
