"""``azureml.core.Experiment``: a named group of runs, kept as an MLflow experiment in the workspace's store."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UserErrorException
from .tracking import artifact_root, client

if TYPE_CHECKING:
    from .run import Run
    from .workspace import Workspace

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,254}")


class Experiment:
    """``Experiment(ws, "my-experiment")``: made in the workspace's tracking store on first use."""

    def __init__(self, workspace: Workspace, name: str, _skip_name_validation: bool = False, **_azure: Any) -> None:
        if not isinstance(name, str) or not (_skip_name_validation or _NAME.fullmatch(name)):
            raise UserErrorException(f"Experiment name {name!r} is not valid: 1 to 255 letters, digits, '_' and '-', "
                                     "starting with a letter or digit.")
        self.workspace = workspace
        self.name = name
        self._client = client(workspace)
        found = self._client.get_experiment_by_name(name)
        self.id = found.experiment_id if found else self._client.create_experiment(
            name, artifact_location=(artifact_root(workspace) / f"experiment-{name}").as_uri())

    def start_logging(self, *args: Any, outputs: str | None = None, snapshot_directory: str | None = None,
                      display_name: str | None = None, **kwargs: Any) -> Run:
        """A new interactive run (``run.log``, ``run.upload_file``, ``run.complete()``)."""
        from .run import Run

        if outputs is not False:  # as azureml: ./outputs exists for the run to write its files into
            Path(outputs or "outputs").mkdir(parents=True, exist_ok=True)
        created = self._client.create_run(self.id, run_name=display_name)
        return Run(self, created.info.run_id, outputs=outputs)

    def get_runs(self) -> list[Run]:
        """This experiment's runs, newest first, as azureml returns them."""
        from .run import Run

        found = self._client.search_runs([self.id], order_by=["attributes.start_time DESC"])
        return [Run(self, r.info.run_id) for r in found]

    @staticmethod
    def list(workspace: Workspace, experiment_name: str | None = None, **_: Any) -> list[Experiment]:
        names = [e.name for e in client(workspace).search_experiments() if e.name != "Default"]
        return [Experiment(workspace, n, _skip_name_validation=True) for n in names
                if experiment_name in (None, n)]

    def __repr__(self) -> str:
        return f"Experiment(workspace={self.workspace.name!r}, name={self.name!r})"
