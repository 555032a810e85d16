"""``%aci_services``, ``%aci_logs``, ``%aci_delete``, ``%aci_predict``: look at, read, remove and try services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .arguments import parse_line
from .errors import user_errors

if TYPE_CHECKING:
    from .deploy import DeployMagics
    from .display import LogText, PredictionReport, ServicesTable


@magics_class
class ServiceMagics(Magics):
    """Everyday service chores, in the workspace the ``DeployMagics`` settings name."""

    def __init__(self, shell: Any, settings: DeployMagics) -> None:
        super().__init__(shell=shell)
        self.settings = settings

    def _service(self, name: str) -> Any:
        from ..core import Webservice

        return Webservice(self.settings.get_workspace(), name)

    @magic_arguments()
    @line_magic
    @user_errors
    def aci_services(self, line: str) -> ServicesTable:
        """A table of the workspace's services: state, target, scoring URI and age."""
        from ..core import Webservice
        from .display import ServicesTable

        parse_line(self.aci_services, line)
        ws = self.settings.get_workspace()
        return ServicesTable.of(Webservice.list(ws), ws.name)

    @magic_arguments()
    @argument("name", help="The service.")
    @argument("--tail", type=int, default=200, help="How many of the last lines to show (default 200).")
    @line_magic
    @user_errors
    def aci_logs(self, line: str) -> LogText:
        """The service's own log (the scoring server's output; init() tracebacks land here)."""
        from .display import LogText

        args = parse_line(self.aci_logs, line)
        if args.tail < 1:
            from IPython.core.error import UsageError

            raise UsageError(f"--tail must be at least 1, got {args.tail}.")
        return LogText(args.name, self._service(args.name).get_logs(num_lines=args.tail))

    @magic_arguments()
    @argument("name", help="The service to stop and remove (its image and models stay).")
    @line_magic
    @user_errors
    def aci_delete(self, line: str) -> None:
        """Stop a service and remove it from the workspace."""
        args = parse_line(self.aci_delete, line)
        self._service(args.name).delete()
        print(f"Deleted service {args.name!r}.")

    @magic_arguments()
    @argument("name", help="The service to call.")
    @argument("--n", type=int, default=8, help="How many random MNIST test digits to send (default 8).")
    @argument("--seed", type=int, default=None, help="Random seed, to send the same digits again.")
    @line_magic
    @user_errors
    def aci_predict(self, line: str) -> PredictionReport | Any:
        """Send random MNIST test digits to the service; show them with its predictions (green right, red wrong),
        the accuracy and the request's latency."""
        args = parse_line(self.aci_predict, line)
        service = self._service(args.name)
        if self.settings.use_widgets():
            from ..widgets.gallery import PredictionGallery

            return PredictionGallery(service, n=args.n, seed=args.seed)
        import numpy as np

        from ..widgets.prediction import predict_sample
        from .display import PredictionReport

        sample = predict_sample(service.run, args.n, np.random.default_rng(args.seed))
        return PredictionReport(sample.summary(), sample.png())
