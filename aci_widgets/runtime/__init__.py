"""The scoring server every deployment target runs: ``python -m aci_widgets.runtime --score score.py``.

Stand-alone on purpose (stdlib + httptools only, nothing else from aci_widgets) so that it starts fast and
can be copied into an image as it is. Keep this file empty of imports: every target pays for them at start-up.
"""
