"""Exceptions a user sees. Each message says what went wrong and what to do about it."""

from __future__ import annotations


class AciWidgetsError(Exception):
    """Base of every error this package raises on purpose. ``detail`` holds a traceback or log tail, if any;
    ``detail_shown`` is true when a progress presenter has already shown it, so a front end need not repeat it."""

    def __init__(self, message: str, detail: str = "", *, detail_shown: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.detail_shown = detail_shown

    def __str__(self) -> str:
        return self.message


class UserErrorException(AciWidgetsError):
    """Bad input from the user: a name, a path, an argument. Named as in the azureml SDK."""


class WebserviceException(AciWidgetsError):
    """A deployment failed or a service could not be reached. Named as in the azureml SDK."""


class ImageBuildError(AciWidgetsError):
    """An image could not be built; ``detail`` has the failing step and the tool's own error lines."""


class ModelNotFoundException(UserErrorException):
    """No registered model matches the name (and version) asked for."""


class TargetUnavailable(AciWidgetsError):
    """The target asked for cannot run here (no Docker engine, no Azure credentials)."""


class OperationCancelled(AciWidgetsError):
    """The user cancelled (Ctrl-C or the Cancel button); whatever was half-made has been removed."""


class BaseImageUnavailable(TargetUnavailable):
    """The target answers but cannot get the image's base image (not present, and the pull failed).

    ``image`` is the base image, ``reason`` the engine's own words, ``fix`` how to make it available there; under
    ``auto`` the core then uses the process target instead.
    """

    def __init__(self, message: str, image: str, reason: str, fix: str, detail: str = "") -> None:
        super().__init__(message, detail)
        self.image = image
        self.reason = reason
        self.fix = fix
