"""The workspace's MLflow tracking store: a SQLite database and an artifact folder inside the workspace.

MLflow is an optional extra (``pip install 'aci_widgets[mlflow]'``): only the training-side calls need it. The store
is created the first time it is asked for, with the workspace's artifact folder as the root of the default
experiment, so runs and their files stay in the workspace (experiments that aci_widgets creates get their own folder
there too; ``mlflow.set_experiment`` called directly uses MLflow's default, ``./mlruns``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from .errors import UserErrorException

if TYPE_CHECKING:
    from .workspace import Workspace

INSTALL_HINT = "pip install 'aci_widgets[mlflow]'"


def store_folder(workspace: Workspace) -> Path:
    return workspace.root / "mlflow"


def tracking_db(workspace: Workspace) -> Path:
    return store_folder(workspace) / "mlflow.db"


def artifact_root(workspace: Workspace) -> Path:
    return store_folder(workspace) / "artifacts"


def tracking_uri(workspace: Workspace) -> str:
    """``sqlite:///<workspace>/mlflow/mlflow.db``, created (tables and default experiment) on first use."""
    db = tracking_db(workspace)
    uri = f"sqlite:///{db}"
    if db.is_file():
        return uri
    db.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(db.parent / "create.lock")):
        if not db.is_file():
            store_class = _mlflow_attr("mlflow.store.tracking.sqlalchemy_store", "SqlAlchemyStore")
            artifact_root(workspace).mkdir(parents=True, exist_ok=True)
            tmp = db.with_suffix(".creating")  # the tables are made whole before the name appears
            tmp.unlink(missing_ok=True)
            store = store_class(f"sqlite:///{tmp}", artifact_root(workspace).as_uri())
            store.engine.dispose()  # no connection left open on the temporary name
            tmp.rename(db)
    return uri


def client(workspace: Workspace) -> Any:
    """An ``MlflowClient`` bound to the workspace's store (the process-wide ``mlflow`` settings stay untouched)."""
    return _mlflow_attr("mlflow.tracking", "MlflowClient")(tracking_uri(workspace))


def _mlflow_attr(module: str, name: str) -> Any:
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise UserErrorException(
            f"Experiments, runs and the MLflow tracking store need MLflow and SQLAlchemy ({exc.name} is missing): "
            f"{INSTALL_HINT}") from None

