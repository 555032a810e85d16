"""The jupyter_server side of the Deployments sidebar: REST handlers over the core's public API.

Enabled by ``jupyter-config/jupyter_server_config.d/aci_widgets.json`` (installed with the wheel); the package's
``_jupyter_server_extension_points()`` points here.
"""

from __future__ import annotations

from typing import Any


def _load_jupyter_server_extension(server_app: Any) -> None:  # noqa: ANN401 - jupyter_server's ServerApp
    from .handlers import setup_handlers

    setup_handlers(server_app.web_app)
    server_app.log.info("aci_widgets: Deployments sidebar handlers at /aci-widgets/")


load_jupyter_server_extension = _load_jupyter_server_extension  # the classic notebook server's name
