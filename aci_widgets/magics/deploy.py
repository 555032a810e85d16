"""``%deploy_aci``: register, build and deploy in one line, watching it happen; and the magics' settings.

``DeployMagics`` is also the traitlets ``Configurable`` every aci_widgets magic reads its settings from::

    %config DeployMagics.target = "process"
    %config DeployMagics.workspace = "my-workspace"
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Enum, Unicode

from .arguments import parse_line
from .errors import first_line, user_errors

if TYPE_CHECKING:
    from ..core import Webservice, Workspace
    from ..widgets.deploy_form import DeployForm
    from ..widgets.deploy_request import StartedDeployment
    from ..widgets.progress import DeploymentProgress


def parse_tags(pairs: list[str] | None) -> dict[str, str]:
    """``["k=v", ...]`` to a dict; a pair without '=' is a usage error."""
    tags = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--tag takes key=value, got {pair!r}.")
        tags[key] = value
    return tags


@magics_class
class DeployMagics(Magics):
    """Deploy models to web services from a notebook (and hold the settings of every aci_widgets magic)."""

    target = Unicode(None, allow_none=True, help=(
        "Target of %deploy_aci when --target is not given: auto, process or docker. "
        "None: $ACI_WIDGETS_TARGET, else the workspace's own setting.")).tag(config=True)
    workspace = Unicode(None, allow_none=True, help=(
        "Workspace name. None: the one in .azureml/config.json if there is one, else 'aci-widgets' "
        "(created if needed).")).tag(config=True)
    workspace_path = Unicode(None, allow_none=True, help=(
        "Folder of the workspace (default: under $ACI_WIDGETS_HOME).")).tag(config=True)
    ui = Enum(["auto", "widgets", "text"], default_value="auto", help=(
        "How progress and results are shown: 'widgets' (live panels), 'text' (printed lines), or 'auto': "
        "widgets in a kernel with a frontend, text elsewhere.")).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.last_panel: DeploymentProgress | None = None

    # --- shared by all the magics ------------------------------------------------------------------------

    def get_workspace(self) -> Workspace:
        """The workspace the magics work in (see the ``workspace`` and ``workspace_path`` settings)."""
        from .workspace import open_workspace

        return open_workspace(self.workspace, self.workspace_path)

    def use_widgets(self) -> bool:
        """Whether to draw widgets (a notebook) or print text (terminal IPython, scripts)."""
        if self.ui != "auto":
            return self.ui == "widgets"
        from ..widgets.frontend import has_frontend

        return has_frontend(self.shell)

    def show(self, obj: Any) -> None:
        """Display ``obj`` in the current cell's output."""
        from IPython.display import display

        display(obj)

    # --- %deploy_aci -------------------------------------------------------------------------------------

    @magic_arguments()
    @argument("name", help="Service name: 3 to 32 lowercase letters, digits and '-', starting with a letter.")
    @argument("--model", action="append", default=[], metavar="FILE_OR_NAME",
              help="A model file or folder (registered under its name unless the same files already are), or a "
                   "registered model 'name' or 'name:version'. Repeat for several models.")
    @argument("--script", default="score.py", help="The scoring script, with init() and run(raw_data). "
                                                   "Default: score.py.")
    @argument("--conda", default=None, metavar="YML", help="Conda environment file (e.g. myenv.yml).")
    @argument("--cpu", type=float, default=1.0, help="CPU cores (default 1).")
    @argument("--memory", type=float, default=1.0, help="Memory in GB (default 1).")
    @argument("--tag", action="append", default=[], metavar="KEY=VALUE", help="A tag; repeat for several.")
    @argument("--image", default=None, metavar="NAME[:VERSION]",
              help="Build an image of this name (ContainerImage.create) and deploy it; without --model, deploy "
                   "this existing image.")
    @argument("--auth", action="store_true", help="Require a key (Authorization: Bearer) to call the service.")
    @argument("--target", default=None, metavar="auto|process|docker",
              help="Where to run it; default: %%config DeployMagics.target, else the workspace's setting.")
    @argument("--no-wait", action="store_true",
              help="Return at once; the deployment goes on in the background with a Cancel button.")
    @argument("--overwrite", action="store_true", help="Replace a running service of the same name.")
    @line_magic
    @user_errors
    def deploy_aci(self, line: str) -> Webservice:
        """Deploy models as a web service and show its progress live; returns the Webservice.

        Example::

            svc = %deploy_aci aci-mnist-1 --model sklearn_mnist_model.pkl --conda myenv.yml
        """
        from ..widgets.deploy_request import DeployRequest, start_deployment

        args = parse_line(self.deploy_aci, line)
        request = DeployRequest(name=args.name, models=list(args.model), script=args.script, conda=args.conda,
                                cpu=args.cpu, memory=args.memory, tags=parse_tags(args.tag), image=args.image,
                                auth=args.auth, target=args.target or self.target, overwrite=args.overwrite)
        started = start_deployment(self.get_workspace(), request)
        if self.use_widgets():
            self._present_panel(started, args.no_wait)
        else:
            self._present_text(started, args.no_wait)
        service = started.service
        if not args.no_wait:
            try:
                service._wait(show_output=False)  # the panel or the printed steps say it ended
            except Exception as exc:  # the detail is already on screen: panel or printed lines
                raise UsageError(f"{first_line(exc)} (details above)") from None
        return service

    # --- %deploy_form ------------------------------------------------------------------------------------

    @magic_arguments()
    @argument("--target", default=None, metavar="auto|process|docker",
              help="The target chosen in the form; default: %%config DeployMagics.target, else the workspace's.")
    @line_magic
    @user_errors
    def deploy_form(self, line: str) -> DeployForm:
        """Show the deploy form: pick a model, score script, environment, size and target, name the service,
        and Deploy opens the live panel below it (the cell stays free while it deploys).

        Example::

            %deploy_form
        """
        args = parse_line(self.deploy_form, line)
        if not self.use_widgets():
            raise UsageError("%deploy_form draws widgets: run it in a notebook (JupyterLab, Notebook, VS Code), or "
                             "set %config DeployMagics.ui = 'widgets'. Here, %deploy_aci does the same in one line.")
        from ..core.workspace import TARGETS
        from ..widgets.deploy_form import DeployForm

        target = args.target or self.target
        if target is not None and target not in TARGETS:
            raise UsageError(f"--target must be one of {', '.join(TARGETS)}, got {target!r}.")
        return DeployForm(self.get_workspace(), target=target)

    def _present_panel(self, started: StartedDeployment, background: bool) -> None:
        from ..core import events
        from ..widgets.progress import DeploymentProgress

        panel = DeploymentProgress(f"service {started.service.name}")
        if started.models:
            panel.note_step(events.REGISTER, "done", started.register_seconds, started.register_message)
        self.last_panel = panel
        self.show(panel)
        last = started.operations[-1] if started.operations else None
        if background:
            for operation in started.operations:
                panel.watch(operation, final=operation is last)
            panel.allow_cancel(*started.operations)
            return
        for operation in started.operations:
            panel.follow(operation, final=operation is last)

    def _present_text(self, started: StartedDeployment, background: bool) -> None:
        from ..core import events

        if started.models:
            print(f"{events.REGISTER}: {started.register_message}")
        name = started.service.name
        if background:
            print(f"Deploying {name!r} in the background: svc.wait_for_deployment(show_output=True) follows it, "
                  "svc.operation.cancel() stops it.")
            return
        for operation in started.operations:
            try:
                events.print_events(operation)
            except KeyboardInterrupt:
                for running in started.operations:
                    running.cancel()
                    running.wait()
                raise
