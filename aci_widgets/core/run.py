"""``azureml.core.Run``: an interactive run (``experiment.start_logging()``) kept as an MLflow run.

Numbers go to MLflow metrics (one history per name); anything else ``run.log`` accepts (text, lists of text, rows)
goes to a tag holding its JSON history, so ``get_metrics()`` answers both as azureml does: a value logged once is
a scalar, logged several times (or with ``log_list``) a list. Files go to the run's artifacts; files written under
``./outputs`` during the run are uploaded at ``complete()``, as azureml does for a tracked outputs folder.
``Run.get_context()`` outside a submitted run is an offline run that keeps what it is given in memory.
"""

from __future__ import annotations

import io
import json
import numbers
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from .errors import UserErrorException

if TYPE_CHECKING:
    from .experiment import Experiment
    from .model import Model

_VALUES = "aci_widgets.log."  # tag prefix: the JSON history of a non-numeric metric
_LISTS = "aci_widgets.list."  # tag prefix: the metric was logged with log_list (always a list)
_STATUS = {"RUNNING": "Running", "FINISHED": "Completed", "FAILED": "Failed", "KILLED": "Canceled",
           "SCHEDULED": "NotStarted"}


class Run:
    """A run of ``experiment``; made by ``Experiment.start_logging()`` or reattached with ``Run(experiment, id)``."""

    def __init__(self, experiment: Experiment, run_id: str, outputs: str | bool | None = None, **_: Any) -> None:
        self.experiment = experiment
        self.id = run_id
        self._client = experiment._client
        self._outputs = None if outputs is False else Path(outputs or "outputs").resolve()

    # --- context -------------------------------------------------------------------------------------------

    @staticmethod
    def get_context(allow_offline: bool = True, used_for_context_manager: bool = False, **_: Any) -> Run:
        """The run this code was submitted in; in a notebook or script of one's own, an offline run."""
        if not allow_offline:
            raise UserErrorException("Run.get_context(allow_offline=False): this code is not running in a submitted "
                                     "run (runs are not submitted here); use Experiment(ws, name).start_logging().")
        return OfflineRun()

    workspace = property(lambda self: self.experiment.workspace)
    name = property(lambda self: self._info().run_name)
    display_name = name

    def _info(self) -> Any:
        return self._client.get_run(self.id).info

    # --- metrics -------------------------------------------------------------------------------------------

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """A metric: numbers keep their history in MLflow, other values as JSON."""
        if _is_number(value):
            step = len(self._client.get_metric_history(self.id, name)) if step is None else step
            self._client.log_metric(self.id, name, float(value), step=step)
        else:
            self._append_value(name, value)

    def log_list(self, name: str, value: list[Any], description: str = "") -> None:
        self._client.set_tag(self.id, _LISTS + name, "1")
        for item in value:
            self.log(name, item)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        self._append_value(name, kwargs)

    def log_table(self, name: str, value: dict[str, list[Any]], description: str = "") -> None:
        self._append_value(name, value)

    def log_image(self, name: str, path: str | None = None, plot: Any = None, description: str = "") -> None:
        """The image (a file, or a matplotlib figure/pyplot) as the run's file ``<name>.png``."""
        if (path is None) == (plot is None):
            raise UserErrorException("log_image() needs exactly one of path= or plot=.")
        if plot is not None:
            buffer = io.BytesIO()
            plot.savefig(buffer, format="png")
            buffer.seek(0)
            self.upload_file(f"{name}.png", buffer)
        else:
            self.upload_file(f"{name}{Path(path).suffix or '.png'}", path)

    def _append_value(self, name: str, value: Any) -> None:
        tags = self._client.get_run(self.id).data.tags
        history = json.loads(tags.get(_VALUES + name, "[]"))
        self._client.set_tag(self.id, _VALUES + name, json.dumps(history + [value], default=str))

    def get_metrics(self, name: str | None = None, recursive: bool = False, run_type: Any = None,
                    populate: bool = False) -> dict[str, Any]:
        """Name -> value (logged once) or list of values, numbers and others alike."""
        data = self._client.get_run(self.id).data
        found: dict[str, list[Any]] = {}
        for metric in data.metrics:
            history = sorted(self._client.get_metric_history(self.id, metric), key=lambda m: (m.step, m.timestamp))
            found[metric] = [_plain(m.value) for m in history]
        for key, value in data.tags.items():
            if key.startswith(_VALUES):
                found.setdefault(key[len(_VALUES):], []).extend(json.loads(value))
        lists = {k[len(_LISTS):] for k in data.tags if k.startswith(_LISTS)}
        out = {k: v if len(v) != 1 or k in lists else v[0] for k, v in found.items()}
        return {name: out[name]} if name is not None and name in out else ({} if name is not None else out)

    # --- files ---------------------------------------------------------------------------------------------

    def upload_file(self, name: str, path_or_stream: str | Path | BinaryIO, datastore_name: str | None = None) -> Any:
        """Store a file (a path or a binary stream) as the run's file ``name`` (``outputs/model.pkl``...)."""
        name = _artifact_name(name)
        with tempfile.TemporaryDirectory(prefix="aci-upload-") as tmp:
            local = Path(tmp) / Path(name).name
            if isinstance(path_or_stream, (str, Path)):
                if not Path(path_or_stream).is_file():
                    raise UserErrorException(f"upload_file: {str(path_or_stream)!r} is not a file "
                                             f"(relative to {Path.cwd()}).")
                shutil.copyfile(path_or_stream, local)
            else:
                with open(local, "wb") as out:
                    shutil.copyfileobj(path_or_stream, out)
            folder = str(Path(name).parent)
            self._client.log_artifact(self.id, str(local), artifact_path=None if folder == "." else folder)

    def upload_files(self, names: list[str], paths: list[str], **_: Any) -> None:
        for name, path in zip(names, paths, strict=True):
            self.upload_file(name, path)

    def upload_folder(self, name: str, path: str, **_: Any) -> None:
        if not Path(path).is_dir():
            raise UserErrorException(f"upload_folder: {path!r} is not a folder (relative to {Path.cwd()}).")
        self._client.log_artifacts(self.id, str(path), artifact_path=_artifact_name(name))

    def get_file_names(self) -> list[str]:
        names: list[str] = []
        pending = [None]
        while pending:
            for item in self._client.list_artifacts(self.id, pending.pop()):
                (pending if item.is_dir else names).append(item.path)
        return sorted(names)

    def download_file(self, name: str, output_file_path: str | None = None, _validate_checksum: bool = False) -> None:
        with tempfile.TemporaryDirectory(prefix="aci-download-") as tmp:
            local = Path(self._download(name, tmp))
            dest = Path(output_file_path or Path(name).name)
            if dest.is_dir():
                dest = dest / local.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local, dest)

    def download_files(self, prefix: str | None = None, output_directory: str | None = None, **_: Any) -> None:
        for name in self.get_file_names():
            if prefix is None or name.startswith(prefix):
                self.download_file(name, str(Path(output_directory or ".") / name))

    def _download(self, name: str, into: str) -> str:
        name = _artifact_name(name)
        known = self.get_file_names()
        if name not in known and not any(k.startswith(name.rstrip("/") + "/") for k in known):
            raise UserErrorException(f"Run {self.id} has no file or folder {name!r}; its files: "
                                     f"{', '.join(known) or 'none (upload them with run.upload_file)'}.")
        return self._client.download_artifacts(self.id, name, into)

    # --- models --------------------------------------------------------------------------------------------

    def register_model(self, model_name: str, model_path: str | None = None, tags: dict[str, str] | None = None,
                       properties: dict[str, Any] | None = None, model_framework: str | None = None,
                       model_framework_version: str | None = None, description: str | None = None,
                       datasets: Any = None, sample_input_dataset: Any = None, sample_output_dataset: Any = None,
                       resource_configuration: Any = None, **_azure: Any) -> Model:
        """Register a file or folder of this run's uploads (``model_path='outputs/model.pkl'``) as a model."""
        from .model import Model

        if not model_path:
            raise UserErrorException("register_model() needs model_path: the run's file or folder to register, "
                                     f"one of {', '.join(self.get_file_names()) or 'none uploaded yet'}.")
        with tempfile.TemporaryDirectory(prefix="aci-register-") as tmp:
            local = self._download(model_path, tmp)
            return Model.register(self.workspace, local, model_name, tags=tags,
                                  properties={**(properties or {}), "azureml.runId": self.id},
                                  description=description, model_framework=model_framework,
                                  model_framework_version=model_framework_version,
                                  sample_input_dataset=sample_input_dataset,
                                  sample_output_dataset=sample_output_dataset,
                                  resource_configuration=resource_configuration)

    # --- state ---------------------------------------------------------------------------------------------

    def tag(self, key: str, value: str | None = None) -> None:
        self._client.set_tag(self.id, key, "" if value is None else str(value))

    def set_tags(self, tags: dict[str, Any]) -> None:
        for key, value in tags.items():
            self.tag(key, value)

    def get_tags(self) -> dict[str, str]:
        tags = self._client.get_run(self.id).data.tags
        return {k: v for k, v in tags.items() if not k.startswith(("mlflow.", _VALUES, _LISTS))}

    def get_status(self) -> str:
        return _STATUS.get(self._info().status, self._info().status)

    def get_details(self) -> dict[str, Any]:
        info = self._info()
        return {"runId": self.id, "experimentName": self.experiment.name, "status": self.get_status(),
                "startTimeUtc": info.start_time, "endTimeUtc": info.end_time, "tags": self.get_tags()}

    def complete(self, _set_status: bool = True) -> None:
        """Upload what the run wrote under ./outputs, then mark it Completed."""
        if self._outputs is not None and self._outputs.is_dir() and any(self._outputs.iterdir()):
            self._client.log_artifacts(self.id, str(self._outputs), artifact_path="outputs")
        self._client.set_terminated(self.id, "FINISHED")

    def fail(self, error_details: Any = None, error_code: Any = None, _set_status: bool = True) -> None:
        if error_details is not None:
            self.tag("error", error_details)
        self._client.set_terminated(self.id, "FAILED")

    def cancel(self) -> None:
        self._client.set_terminated(self.id, "KILLED")

    def __enter__(self) -> Run:
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        self.complete() if kind is None else self.fail(repr(exc))

    def __repr__(self) -> str:
        return f"Run(experiment={self.experiment.name!r}, id={self.id!r}, status={self.get_status()!r})"


class OfflineRun:
    """What ``Run.get_context()`` gives outside a submitted run: logs are kept in memory (and said), files skipped."""

    def __init__(self) -> None:
        self.id = f"OfflineRun_{uuid.uuid4()}"
        self.experiment = None
        self._metrics: dict[str, list[Any]] = {}
        self._lists: set[str] = set()

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        print(f"Attempted to log scalar metric {name}:\n{value}")
        self._metrics.setdefault(name, []).append(value)

    def log_list(self, name: str, value: list[Any], description: str = "") -> None:
        print(f"Attempted to log list metric {name}:\n{value}")
        self._lists.add(name)
        self._metrics.setdefault(name, []).extend(value)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        print(f"Attempted to log row metric {name}:\n{kwargs}")
        self._metrics.setdefault(name, []).append(kwargs)

    def log_image(self, name: str, path: str | None = None, plot: Any = None, description: str = "") -> None:
        print(f"Attempted to log image metric {name}")

    def upload_file(self, name: str, path_or_stream: Any, datastore_name: str | None = None) -> None:
        print(f"Attempted to upload file {name} (an offline run keeps no files)")

    def get_metrics(self, name: str | None = None, **_: Any) -> dict[str, Any]:
        out = {k: v if len(v) != 1 or k in self._lists else v[0] for k, v in self._metrics.items()}
        return {name: out[name]} if name in out else ({} if name is not None else out)

    def tag(self, key: str, value: str | None = None) -> None:
        pass

    def get_status(self) -> str:
        return "Running"

    def complete(self, _set_status: bool = True) -> None:
        pass

    def fail(self, *_: Any, **__: Any) -> None:
        pass

    def register_model(self, model_name: str, *_: Any, **__: Any) -> None:
        raise UserErrorException(f"register_model({model_name!r}) on an offline run (Run.get_context() outside a "
                                 "submitted run): register with Model.register(ws, path, name), or log in a run "
                                 "from Experiment(ws, name).start_logging().")


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _plain(value: float) -> float | int:
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def _artifact_name(name: str) -> str:
    clean = str(name).replace("\\", "/").lstrip("/")
    if not clean or ".." in Path(clean).parts:
        raise UserErrorException(f"A run file name must be a relative path inside the run, got {name!r}.")
    return clean
