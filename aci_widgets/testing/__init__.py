"""Test support shipped with the package, as moto is for AWS: a local stand-in of Azure Resource Manager for ACI
container groups and a private image registry, so that the aci target, its tests, its benchmark and the ACI
tutorial run on a machine with Docker and no Azure subscription.

Nothing in the package imports this: it is loaded only by whoever asks for it (``from aci_widgets.testing import
AciStandIn``).
"""

from .standin import AciStandIn

__all__ = ["AciStandIn"]
