"""The scoring server every deployment target runs: ``python -m aci_widgets.runtime --score score.py``.

Stand-alone on purpose (nothing else from aci_widgets; at module level only the stdlib and httptools) so that it
starts fast and can be copied into an image as it is. Keep this file free of imports: every target pays for them
at start-up.
"""

# What every target installs beside the user's requirements: httptools for HTTP; orjson and pysimdjson for the
# fast path (fastpath.py, arrays.py), imported only when run() declares its input.
REQUIREMENTS = ("httptools>=0.6", "orjson>=3.9", "pysimdjson>=5.0")
