"""IPython magics: ``%deploy_aci``, ``%deploy_form``, ``%%score_script``, ``%aci_services``, ``%aci_logs``,
``%aci_delete``, ``%aci_predict``; loaded with ``%load_ext aci_widgets``.

Loading also installs the live panel as the presenter behind the SDK's ``show_output=True`` (in a notebook
only) and the HTML cards of ``Webservice``/``Model``/``Image``; unloading restores both. Everything heavy
(ipywidgets, numpy, matplotlib) is imported on first use, so ``%load_ext`` stays fast.
"""

from __future__ import annotations

from typing import Any

_STATE_KEY = "_aci_widgets_state"


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics, the notebook presenter and the display formatters."""
    from ..core import events
    from ..widgets.formatters import install_formatters
    from ..widgets.presenter import PanelPresenter
    from .deploy import DeployMagics
    from .score_script import ScoreScriptMagics
    from .services import ServiceMagics

    if getattr(ipython, _STATE_KEY, None):
        return
    settings = DeployMagics(shell=ipython)
    magics = [settings, ScoreScriptMagics(ipython, settings), ServiceMagics(ipython, settings)]
    for instance in magics:
        ipython.register_magics(instance)
    presenter = PanelPresenter(events.print_events, settings.use_widgets)
    previous = events.set_presenter(presenter)
    presenter.fallback = previous
    uninstall_formatters = install_formatters(ipython, settings.use_widgets)
    setattr(ipython, _STATE_KEY, {"magics": magics, "previous_presenter": previous, "presenter": presenter,
                                  "uninstall_formatters": uninstall_formatters})


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics and formatters; give ``show_output=True`` back to the previous presenter."""
    from ..core import events

    state = getattr(ipython, _STATE_KEY, None)
    if not state:
        return
    events.set_presenter(state["previous_presenter"])
    state["uninstall_formatters"]()
    manager = ipython.magics_manager
    for instance in state["magics"]:
        for kind, names in instance.magics.items():
            for name in names:
                manager.magics[kind].pop(name, None)
        manager.registry.pop(type(instance).__name__, None)
        if instance in ipython.configurables:
            ipython.configurables.remove(instance)
    setattr(ipython, _STATE_KEY, None)
