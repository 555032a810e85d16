"""The deploy form: the fields of ``%deploy_aci`` as widgets, with the service name checked as it is typed."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import ipywidgets as widgets

from ..core import Model
from ..core.errors import AciWidgetsError
from ..core.names import service_name_problem
from ..core.workspace import TARGETS
from .deploy_request import DeployRequest, StartedDeployment, start_deployment
from .progress import DeploymentProgress
from .service_card import ServiceCard
from .static import StaticFallback

if TYPE_CHECKING:
    from ..core import Webservice, Workspace

REGISTERED, FILE = "Registered model", "Model file"
WORKSPACE_SETTING = "workspace"  # the target dropdown's value for "the workspace's own setting"; None would show blank


class DeployForm(StaticFallback, widgets.VBox):
    """Choose a model, script, environment, size and target; name the service; Deploy opens the live panel.

    The panel appears below the form and follows the deployment in the background (the cell is free, a
    Cancel button stops it); a service card replaces nothing and is added once the service is Healthy.
    """

    def __init__(self, workspace: Workspace, target: str | None = None,
                 on_deployed: Callable[[Webservice], None] | None = None) -> None:
        self.workspace = workspace
        self.on_deployed = on_deployed
        style = {"description_width": "9em"}

        def wide() -> widgets.Layout:  # one Layout each: a shared one would hide and show them together
            return widgets.Layout(width="32em")

        self.source = widgets.ToggleButtons(options=[REGISTERED, FILE], value=REGISTERED,
                                            description="Model", style=style)
        self.model = widgets.Dropdown(options=[], description="Registered", style=style, layout=wide())
        self.model_file = widgets.Text(placeholder="sklearn_mnist_model.pkl", description="File", style=style,
                                       layout=wide())
        self.script = widgets.Text(value="score.py", description="Score script", style=style, layout=wide())
        self.conda = widgets.Text(value="myenv.yml" if Path("myenv.yml").is_file() else "",
                                  placeholder="myenv.yml (optional)", description="Conda file", style=style,
                                  layout=wide())
        self.cpu = widgets.BoundedFloatText(value=1.0, min=0.1, max=4.0, step=0.1, description="CPU cores",
                                            style=style)
        self.memory = widgets.BoundedFloatText(value=1.0, min=0.1, max=16.0, step=0.1, description="Memory (GB)",
                                               style=style)
        self.target = widgets.Dropdown(options=[(f"workspace setting ({workspace.target})", WORKSPACE_SETTING),
                                                *((name, name) for name in TARGETS)],
                                       value=target or WORKSPACE_SETTING, description="Target", style=style)
        self.auth = widgets.Checkbox(value=False, description="Require keys (auth)", style=style)
        self.name = widgets.Text(placeholder="aci-mnist-1", description="Service name", continuous_update=True,
                                 style=style, layout=wide())
        self.name_rule = widgets.HTML()
        self.deploy_button = widgets.Button(description="Deploy", icon="rocket", button_style="primary",
                                            disabled=True)
        self.status = widgets.HTML()
        self.results = widgets.VBox()
        self.source.observe(lambda _change: self._show_source(), "value")
        self.name.observe(lambda _change: self.validate_name(), "value")
        self.deploy_button.on_click(lambda _button: self.deploy())
        super().__init__([self.source, self.model, self.model_file, self.script, self.conda,
                          widgets.HBox([self.cpu, self.memory]), self.target, self.auth,
                          widgets.HBox([self.name, self.name_rule]), widgets.HBox([self.deploy_button, self.status]),
                          self.results])
        self.panel: DeploymentProgress | None = None
        self.started: StartedDeployment | None = None
        self.refresh_models()
        self._show_source()
        self.validate_name()

    def refresh_models(self) -> None:
        """Fill the dropdown from the registry, the most recently registered first."""
        models = sorted(Model.list(self.workspace), key=lambda m: (m.created_time, m.version), reverse=True)
        ids = [m.id for m in models]
        self.model.options = ids
        if ids:
            self.model.value = ids[0]

    def validate_name(self) -> str | None:
        """Show the naming rule while the name breaks it; Deploy is enabled only for a valid name."""
        problem = service_name_problem(self.name.value) if self.name.value else "Name the service."
        if problem:
            self.name_rule.value = f'<span style="color:#d13438">✘ {html.escape(problem)}</span>'
        else:
            self.name_rule.value = '<span style="color:#107c10">✔ valid name</span>'
        self.deploy_button.disabled = problem is not None
        return problem

    def request(self) -> DeployRequest:
        """The deployment the form describes."""
        model = self.model.value if self.source.value == REGISTERED else self.model_file.value.strip()
        return DeployRequest(name=self.name.value.strip(), models=[model] if model else [],
                             script=self.script.value.strip(), conda=self.conda.value.strip() or None,
                             cpu=float(self.cpu.value), memory=float(self.memory.value), auth=self.auth.value,
                             target=None if self.target.value == WORKSPACE_SETTING else self.target.value,
                             overwrite=False)

    def deploy(self) -> DeploymentProgress | None:
        """Start the deployment and open its panel below the form; a mistake is shown next to the button."""
        if self.validate_name():
            return None
        try:
            started = start_deployment(self.workspace, self.request())
        except AciWidgetsError as exc:
            self.status.value = f'<span style="color:#d13438">{html.escape(str(exc))}</span>'
            return None
        self.status.value = ""
        self.started = started
        panel = DeploymentProgress(f"service {started.service.name}")
        if started.models:
            panel.note_step("register model", "done", started.register_seconds, started.register_message)
        panel.on_finished(lambda state: self._finished(started.service, state))
        self.panel = panel
        self.results.children = (panel,)
        for operation in started.operations:
            panel.watch(operation, final=operation is started.operations[-1])
        panel.allow_cancel(*started.operations)
        self.refresh_models()
        return panel

    def wait_finished(self, timeout: float | None = None) -> bool:
        """Block until the deployment's panel (and the card, when Healthy) is drawn; then refresh the form's static
        copy from this thread (a script or a notebook runner waiting for the deployment). True if it finished."""
        finished = self.panel is not None and self.panel.wait_finished(timeout)
        if finished:
            self.update_static()
        return finished

    def _finished(self, service: Webservice, state: str) -> None:
        if state == "Healthy":
            card = ServiceCard(service)
            self.results.children = (*self.results.children, card)
            card.follow_service()
        self.update_static()
        if state == "Healthy" and self.on_deployed is not None:
            self.on_deployed(service)

    def static_bundle(self) -> dict[str, str]:
        """The form's choices, then the panel and the card below it, as HTML and text."""
        fields = [("model", self.request().models[0] if self.request().models else "–"),
                  ("score script", self.script.value), ("conda file", self.conda.value or "–"),
                  ("CPU cores", f"{self.cpu.value:g}"), ("memory (GB)", f"{self.memory.value:g}"),
                  ("target", self.target.label), ("auth", "keys required" if self.auth.value else "no"),
                  ("service name", self.name.value or "–")]
        rows = "".join(f'<tr><td style="text-align:left;color:#6b6b6b;padding-right:1em">{k}</td>'
                       f'<td style="text-align:left">{html.escape(str(v))}</td></tr>' for k, v in fields)
        html_parts = [f'<div class="aci-form"><b>Deploy form</b><table>{rows}</table>']
        text_parts = ["Deploy form: " + ", ".join(f"{k}: {v}" for k, v in fields)]
        for child in self.results.children:
            if isinstance(child, StaticFallback):
                bundle = child.static_bundle()
                html_parts.append(bundle.get("text/html", ""))
                text_parts.append(bundle.get("text/plain", ""))
        return {"text/html": "".join(html_parts) + "</div>", "text/plain": "\n".join(text_parts)}

    def _show_source(self) -> None:
        registered = self.source.value == REGISTERED
        self.model.layout.display = "" if registered else "none"
        self.model_file.layout.display = "none" if registered else ""
