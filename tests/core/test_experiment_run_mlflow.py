"""Experiments and runs in the workspace's MLflow store; MLflow-registered models seen by Model(ws, name).

One workspace for the module: creating a tracking store runs MLflow's schema migrations (seconds).
"""

import io
import sqlite3
import uuid

import pytest
from support import cleanup_workspace

from aci_widgets.core import Experiment, Model, Run, UserErrorException, Workspace
from aci_widgets.core.run import OfflineRun


@pytest.fixture(scope="module")
def mlws(tmp_path_factory):
    workspace = Workspace.create(f"ml-{uuid.uuid4().hex[:8]}", target="process",
                                 path=tmp_path_factory.mktemp("mlws") / "ws")
    yield workspace
    cleanup_workspace(workspace)


def test_tracking_uri_is_a_sqlite_store_inside_the_workspace(mlws):
    uri = mlws.get_mlflow_tracking_uri()
    db = mlws.root / "mlflow" / "mlflow.db"
    assert uri == f"sqlite:///{db}" and mlws.get_mlflow_tracking_uri() == uri
    with sqlite3.connect(db) as conn:
        (location,) = conn.execute("SELECT artifact_location FROM experiments WHERE name = 'Default'").fetchone()
    assert location == (mlws.root / "mlflow" / "artifacts" / "0").as_uri()


def test_a_run_logs_uploads_registers_and_completes(mlws, workdir):
    experiment = Experiment(mlws, "train-in-notebook")
    run = experiment.start_logging()
    run.log("alpha", 0.5)
    run.log("mse", 3.25)
    run.log("mse", 2.5)
    run.log("note", "plain text")
    run.log_list("alphas", [0.1])
    (workdir / "model.pkl").write_bytes(b"weights")
    run.upload_file("outputs/model.pkl", "model.pkl")
    run.upload_file(name="outputs/extra.txt", path_or_stream=io.BytesIO(b"stream"))
    assert (workdir / "outputs").is_dir()  # start_logging made it, as azureml does
    (workdir / "outputs" / "written.txt").write_text("kept at complete()")
    assert run.get_metrics() == {"alpha": 0.5, "mse": [3.25, 2.5], "note": "plain text", "alphas": [0.1]}
    model = run.register_model(model_name="from-run", model_path="outputs/model.pkl", tags={"area": "test"})
    assert model.tags == {"area": "test"} and model.properties["azureml.runId"] == run.id
    assert (workdir / "dl").mkdir() is None and Model(mlws, "from-run").download("dl") == "dl/model.pkl"
    assert (workdir / "dl" / "model.pkl").read_bytes() == b"weights"
    with pytest.raises(UserErrorException, match="its files: outputs/extra.txt, outputs/model.pkl"):
        run.register_model("nope", model_path="outputs/missing.pkl")
    run.complete()
    assert run.get_status() == "Completed"
    assert "outputs/written.txt" in run.get_file_names()
    again = Experiment(mlws, "train-in-notebook").get_runs()
    assert [r.id for r in again] == [run.id] and again[0].get_metrics("mse") == {"mse": [3.25, 2.5]}


def test_get_context_outside_a_submitted_run_is_an_offline_run(capsys):
    run = Run.get_context()
    assert isinstance(run, OfflineRun) and run.id.startswith("OfflineRun_")
    run.log("accuracy", 0.9)
    assert "Attempted to log scalar metric accuracy" in capsys.readouterr().out
    assert run.get_metrics() == {"accuracy": 0.9}
    with pytest.raises(UserErrorException, match="allow_offline=False"):
        Run.get_context(allow_offline=False)


def test_models_registered_through_mlflow_are_visible_to_model(mlws, workdir):
    import mlflow

    (workdir / "weights.txt").write_text("1 2 3")
    client = mlflow.MlflowClient(mlws.get_mlflow_tracking_uri())
    for _ in range(2):
        run = client.create_run(client.get_experiment_by_name("Default").experiment_id)
        client.log_artifact(run.info.run_id, str(workdir / "weights.txt"), artifact_path="model")
        client.log_artifact(run.info.run_id, str(workdir / "weights.txt"), artifact_path="model/sub")
        if not client.search_registered_models("name = 'mlflow-made'"):
            client.create_registered_model("mlflow-made")
        source = f"{client.get_run(run.info.run_id).info.artifact_uri}/model"
        client.create_model_version("mlflow-made", source, run_id=run.info.run_id, tags={"from": "mlflow"})
    model = Model(mlws, "mlflow-made")  # imports both versions on first access, in MLflow's order
    assert (model.version, model.tags, model.files) == (2, {"from": "mlflow"}, ["sub/weights.txt", "weights.txt"])
    assert model.properties["mlflow.model_version"] == "2"
    assert Model(mlws, "mlflow-made", version=1).properties["mlflow.model_version"] == "1"
    assert len(Model.list(mlws, name="mlflow-made")) == 2  # a second lookup imports nothing again
    assert Model(mlws, "mlflow-made").version == 2
