"""Models registered with ``mlflow.register_model`` against the workspace's tracking URI, seen by ``Model(ws, name)``.

Design: the aci_widgets registry stays the one source that deployments read; MLflow's registry is an inbox. When
``Model(ws, name)`` looks a name up, the MLflow versions of that name not imported yet are copied in (their files
into the artifact store, as the next versions of the name, in MLflow's order), marked with the property
``mlflow.model_version``. Checking is a read of MLflow's own SQLite table with the standard library, so a lookup
costs nothing when MLflow has nothing new (and nothing at all when the workspace has no tracking store); MLflow
itself is imported only to download the files of a version being imported. A name registered only through MLflow
therefore keeps MLflow's version numbers.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock

from .tracking import store_folder, tracking_db, tracking_uri

if TYPE_CHECKING:
    from .workspace import Workspace

VERSION_PROPERTY = "mlflow.model_version"


def import_new_versions(workspace: Workspace, name: str) -> bool:
    """Copy the MLflow versions of ``name`` that the registry does not have yet; True if any was copied."""
    if not tracking_db(workspace).is_file() or not _mlflow_versions(workspace, name):
        return False
    copied = False
    with FileLock(str(store_folder(workspace) / "import.lock")):  # two kernels looking up at once import once
        done = {row["properties"].get(VERSION_PROPERTY) for row in workspace.registry.select("models", name=name)}
        for version, run_id, description, tags in _mlflow_versions(workspace, name):
            if str(version) not in done:
                _import(workspace, name, version, run_id, description, tags)
                copied = True
    return copied


def _mlflow_versions(workspace: Workspace, name: str) -> list[tuple[int, str | None, str | None, dict[str, str]]]:
    try:
        conn = sqlite3.connect(f"file:{tracking_db(workspace)}?mode=ro", uri=True, timeout=30)
        try:
            rows = conn.execute("SELECT version, run_id, description FROM model_versions WHERE name = ? AND "
                                "status = 'READY' AND current_stage != 'Deleted_Internal' ORDER BY version",
                                (name,)).fetchall()
            tags = conn.execute("SELECT version, key, value FROM model_version_tags WHERE name = ?",
                                (name,)).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:  # a store still being created, or no registry tables yet: nothing to import
        return []
    by_version: dict[int, dict[str, str]] = {}
    for version, key, value in tags:
        by_version.setdefault(int(version), {})[key] = value
    return [(int(v), run_id, description, by_version.get(int(v), {})) for v, run_id, description in rows]


def _import(workspace: Workspace, name: str, version: int, run_id: str | None, description: str | None,
            tags: dict[str, str]) -> None:
    from mlflow.artifacts import download_artifacts

    from .model import Model
    from .tracking import client

    source = client(workspace).get_model_version_download_uri(name, str(version))
    with tempfile.TemporaryDirectory(prefix="aci-mlflow-") as tmp:
        local = Path(download_artifacts(artifact_uri=source, dst_path=tmp, tracking_uri=tracking_uri(workspace)))
        properties = {VERSION_PROPERTY: str(version), **({"azureml.runId": run_id} if run_id else {})}
        Model.register(workspace, local, name, tags=tags, properties=properties,
                       description=description or f"Imported from MLflow's registry (version {version}).")
