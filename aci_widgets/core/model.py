"""Registered models, with the names of ``azureml.core.model.Model``.

A model is a file or a folder stored in the workspace's artifact store, under a name and an increasing version.
Inside a running service, ``Model.get_model_path`` resolves against the image's model folder instead.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ModelNotFoundException, UserErrorException
from .inference_config import InferenceConfig  # noqa: F401 - azureml's path: aci_widgets.core.model.InferenceConfig
from .names import check_model_name
from .no_code import Framework

if TYPE_CHECKING:
    from .workspace import Workspace

MODEL_DIR_ENVS = ("ACI_WIDGETS_MODEL_DIR", "AZUREML_MODEL_DIR")


class Model:
    """``Model(ws, name)`` is the latest version; ``Model(ws, name, version=2)`` or ``Model(ws, id="name:2")``."""

    def __init__(self, workspace: Workspace, name: str | None = None, id: str | None = None,
                 tags: Any = None, version: int | None = None, *, _row: dict[str, Any] | None = None) -> None:
        self.workspace = workspace
        if _row is None:
            name, version, _row = workspace.registry.find_version("models", name, id, version)
            if not name:
                raise UserErrorException("Model() needs a name or an id ('name:version').")
            if _row is None or version is None:  # versions registered through MLflow come in on first lookup
                from .mlflow_models import import_new_versions  # here: a service's score.py never pays for it

                if import_new_versions(workspace, name):
                    _, _, _row = workspace.registry.find_version("models", name, None, version)
            if _row is None:
                raise ModelNotFoundException(_not_found_message(workspace, name, version))
        self._row = _row

    # --- attributes as in azureml ------------------------------------------------------------------------

    name = property(lambda self: self._row["name"])
    version = property(lambda self: self._row["version"])
    tags = property(lambda self: dict(self._row["tags"]))
    properties = property(lambda self: dict(self._row["properties"]))
    description = property(lambda self: self._row["description"])
    size = property(lambda self: self._row["size"])
    Framework = Framework

    def _details(self) -> dict[str, Any]:
        """What ``register`` kept beside the row: framework, sample datasets, resource configuration."""
        row = self.workspace.registry.get("model_details", name=self.name, version=self.version)
        return row["details"] if row else {}

    model_framework = property(lambda self: self._details().get("model_framework"))
    model_framework_version = property(lambda self: self._details().get("model_framework_version"))
    sample_input_dataset = property(lambda self: self._details().get("sample_input_dataset"))
    sample_output_dataset = property(lambda self: self._details().get("sample_output_dataset"))

    @property
    def resource_configuration(self) -> Any:
        from .resource_configuration import ResourceConfiguration

        kept = self._details().get("resource_configuration")
        return ResourceConfiguration(**kept) if kept else None

    @property
    def id(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def created_time(self) -> datetime:
        return datetime.fromtimestamp(self._row["created"], tz=timezone.utc)

    @property
    def files(self) -> list[str]:
        return sorted(self._row["manifest"])

    @property
    def manifest(self) -> dict[str, str]:
        return dict(self._row["manifest"])

    # --- operations --------------------------------------------------------------------------------------

    @staticmethod
    def register(workspace: Workspace, model_path: str | os.PathLike[str], model_name: str,
                 tags: dict[str, str] | None = None, properties: dict[str, Any] | None = None,
                 description: str | None = None, datasets: Any = None, model_framework: str | None = None,
                 model_framework_version: str | None = None, child_paths: Any = None,
                 sample_input_dataset: Any = None, sample_output_dataset: Any = None,
                 resource_configuration: Any = None, **_azure: Any) -> Model:
        """Store the file or folder at ``model_path`` as the next version of ``model_name``.

        ``model_framework`` (``Model.Framework.SCIKITLEARN``...) enables the no-code ``Model.deploy``.
        """
        check_model_name(model_name)
        path = Path(model_path)
        if not path.exists():
            raise UserErrorException(f"Model file {str(model_path)!r} not found (relative to {Path.cwd()}).")
        if path.is_dir() and not any(p.is_file() for p in path.rglob("*")):
            raise UserErrorException(f"Model folder {str(model_path)!r} is empty.")
        _check_str_dict(tags, "tags")
        with workspace.artifacts.storing():  # files first: a crash leaves no dangling row; no collection between
            manifest, size = workspace.artifacts.put_tree(path)
            row = {"manifest": manifest, "size": size, "tags": dict(tags or {}),
                   "properties": dict(properties or {}), "description": description, "created": time.time()}
            details = _details(model_framework, model_framework_version, sample_input_dataset,
                               sample_output_dataset, resource_configuration)
            # The details go in the model's own transaction: a crash leaves the model with them, or no model.
            version = workspace.registry.insert_versioned(
                "models", model_name, row, also={"model_details": {"details": details}} if details else None)
        return Model(workspace, model_name, version=version)

    @staticmethod
    def deploy(workspace: Workspace, name: str, models: list[Model], inference_config: Any = None,
               deployment_config: Any = None, deployment_target: Any = None, overwrite: bool = False,
               show_output: bool = False) -> Any:
        """Deploy ``models`` as service ``name``; returns the Webservice (see ``wait_for_deployment``).
        Without ``inference_config``, a scikit-learn model registered with its ``model_framework`` is deployed
        with a generated scoring script (no-code deployment)."""
        from .model_deploy import deploy

        return deploy(workspace, name, models, inference_config, deployment_config, deployment_target, overwrite,
                      show_output)

    @staticmethod
    def package(workspace: Workspace, models: list[Model], inference_config: Any = None,
                generate_dockerfile: bool = False, image_name: str | None = None,
                image_label: str | None = None) -> Any:
        """An image of ``models`` (built on the workspace's target; see ``wait_for_creation``), or with
        ``generate_dockerfile=True`` its Docker build context only, for ``package.save(path)``."""
        from .model_package import package

        return package(workspace, models, inference_config, generate_dockerfile, image_name, image_label)

    @staticmethod
    def profile(workspace: Workspace, profile_name: str, models: list[Model], inference_config: Any,
                input_dataset: Any = None, cpu: float | None = None, memory_in_gb: float | None = None,
                description: str | None = None) -> Any:
        """Measure the models as a temporary local service fed with the dataset's request bodies (default: the
        model's ``sample_input_dataset``); see ``ModelProfile.get_details()``."""
        from .model_profile import profile

        return profile(workspace, profile_name, models, inference_config, input_dataset, cpu, memory_in_gb,
                       description)

    @staticmethod
    def list(workspace: Workspace, name: str | None = None, tags: list[Any] | None = None,
             properties: list[Any] | None = None, latest: bool = False) -> list[Model]:
        """Models, optionally filtered: ``tags=["data", ["type", "classification"]]`` as in azureml."""
        rows = workspace.registry.select("models", **({"name": name} if name else {}))
        models = [Model(workspace, _row=row) for row in rows if _match(row["tags"], tags)
                  and _match(row["properties"], properties)]
        if latest:
            newest: dict[str, Model] = {}
            for model in models:
                newest[model.name] = model
            models = list(newest.values())
        return models

    @staticmethod
    def get_model_path(model_name: str, version: int | None = None, _workspace: Workspace | None = None) -> str:
        """The local path of a model's file (or folder).

        Inside a service it resolves in the image's model folder, by model name or by file name. In a notebook,
        pass ``_workspace`` and it lays the model out under ``./azureml-models/<name>/<version>``.
        """
        root = next((os.environ[e] for e in MODEL_DIR_ENVS if os.environ.get(e)), None)
        if root and _workspace is None:
            from ..runtime.model_dir import ModelPathNotFound, get_model_path

            try:
                return get_model_path(model_name, version, root)
            except ModelPathNotFound as exc:
                raise ModelNotFoundException(str(exc)) from None
        if _workspace is None:
            raise UserErrorException(
                "Model.get_model_path() outside a service needs the workspace: "
                "Model.get_model_path(name, _workspace=ws).")
        model = Model(_workspace, model_name, version=version)
        dest = Path("azureml-models") / model.name / str(model.version)
        model.download(dest, exist_ok=True)
        files = model.files
        return str(dest / files[0]) if len(files) == 1 else str(dest)

    def download(self, target_dir: str | os.PathLike[str] = ".", exist_ok: bool = False) -> str:
        """Write the model's files under ``target_dir``; returns the file's (or the folder's) path."""
        dest = Path(target_dir)
        clashes = [rel for rel in self.files if (dest / rel).exists()]
        if clashes and not exist_ok:
            raise UserErrorException(f"{dest / clashes[0]} already exists; pass exist_ok=True to overwrite it.")
        dest.mkdir(parents=True, exist_ok=True)
        for rel, digest in self.manifest.items():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.workspace.artifacts.path(digest), dest / rel)
        return str(dest / self.files[0]) if len(self.files) == 1 else str(dest)

    def add_tags(self, tags: dict[str, str]) -> None:
        _check_str_dict(tags, "tags")
        self.workspace.registry.update("models", {"name": self.name, "version": self.version},
                                       tags={**self.tags, **tags})
        self._row = Model(self.workspace, self.name, version=self.version)._row

    def delete(self) -> None:
        """Remove this version, as on Azure: refused while a service uses it; images built from it keep a copy of
        its files (so they still deploy and rebuild). One transaction; then the files no row needs are removed."""
        key = [self.name, self.version]
        with self.workspace.registry.batch() as batch:
            images = [r for r in batch.select("images") if key in r["models"]]
            using = {(r["name"], r["version"]) for r in images}
            services = [s["name"] for s in batch.select("services") if (s["image_name"], s["image_version"]) in using]
            if services:
                raise UserErrorException(f"Model {self.id} is used by service(s) {', '.join(services)}; delete "
                                         "them first.")
            for image in images:
                copies = {**image["spec"].get("model_copies", {}), self.id: self.manifest}
                batch.upsert("images", {**image, "spec": {**image["spec"], "model_copies": copies}})
            batch.delete("models", name=self.name, version=self.version)
            batch.delete("model_details", name=self.name, version=self.version)
        self.workspace.artifacts.collect(self.manifest.values(), self.workspace.registry.referenced_digests)

    def serialize(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "version": self.version, "tags": self.tags,
                "properties": self.properties, "description": self.description, "files": self.files,
                "size": self.size, "createdTime": self.created_time.isoformat()}

    def __repr__(self) -> str:
        return f"Model(workspace={self.workspace.name!r}, name={self.name!r}, version={self.version})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and other.id == self.id and other.workspace == self.workspace

    def __hash__(self) -> int:
        return hash((self.id, self.workspace.root))


def _match(values: dict[str, Any], wanted: list[Any] | None) -> bool:
    for item in wanted or []:
        if isinstance(item, (list, tuple)):
            key, value = item
            if values.get(key) != value:
                return False
        elif item not in values:
            return False
    return True


def _details(framework: str | None, framework_version: str | None, sample_input: Any, sample_output: Any,
             resources: Any) -> dict[str, Any]:
    def dataset(value: Any) -> Any:  # a Dataset is kept by name and version, anything else as its text
        if value is None or isinstance(value, (str, int, float, dict, list)):
            return value
        return {"name": getattr(value, "name", None), "version": getattr(value, "version", None)} \
            if hasattr(value, "name") else str(value)

    if resources is not None and not isinstance(resources, dict):
        resources = {k: getattr(resources, k, None) for k in ("cpu", "memory_in_gb", "gpu")}
    found = {"model_framework": framework, "model_framework_version": framework_version,
             "sample_input_dataset": dataset(sample_input), "sample_output_dataset": dataset(sample_output),
             "resource_configuration": resources}
    return {k: v for k, v in found.items() if v is not None}


def _check_str_dict(value: Any, what: str) -> None:
    if value is not None and not (isinstance(value, dict) and all(isinstance(k, str) for k in value)):
        raise UserErrorException(f"{what} must be a dict with string keys, got {value!r}.")


def _not_found_message(workspace: Workspace, name: str, version: int | None) -> str:
    names = sorted({row["name"] for row in workspace.registry.select("models")})
    what = f"{name}:{version}" if version is not None else name
    known = f" Registered models: {', '.join(names)}." if names else " No model is registered yet."
    return f"Model {what!r} not found in workspace {workspace.name!r}.{known}"
