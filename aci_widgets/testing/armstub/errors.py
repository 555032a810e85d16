"""ARM's error bodies (CloudError: ``{"error": {"code", "message"}}``) as an exception the server turns into JSON."""

from __future__ import annotations


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


def not_found(kind: str, name: str, rg: str) -> ArmError:
    return ArmError(404, "ResourceNotFound", f"The Resource 'Microsoft.ContainerInstance/{kind}/{name}' under "
                                             f"resource group '{rg}' was not found. For more details please go to "
                                             "https://aka.ms/ARMResourceNotFoundFix")
