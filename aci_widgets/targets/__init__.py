"""Deployment targets, one package each, found by the core through the ``aci_widgets.targets`` entry points."""
