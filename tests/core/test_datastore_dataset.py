"""Datastores are folders of the workspace; datasets are registered definitions read with pandas."""

import json
from pathlib import Path

import pytest

from aci_widgets.core import Dataset, Datastore, Model, UserErrorException
from aci_widgets.data.dataset_factory import PromoteHeadersBehavior


def test_upload_register_and_read_back_a_tabular_dataset(ws, workdir, capsys):
    (workdir / "data").mkdir()
    (workdir / "data" / "a.csv").write_text("x,y\n1,2\n3,4\n")
    (workdir / "data" / "b.csv").write_text("x,y\n5,6\n")
    store = ws.get_default_datastore()
    assert store.name == "workspaceblobstore" and Datastore.get_default(ws).root == store.root
    store.upload_files(["data/a.csv"], target_path="train", overwrite=True)
    store.upload(src_dir="data", target_path="all")
    assert (ws.root / "datastores" / "workspaceblobstore" / "all" / "b.csv").read_text() == "x,y\n5,6\n"

    (workdir / "data" / "a.csv").write_text("x,y\n9,9\n")
    store.upload_files(["data/a.csv"], target_path="train")  # kept: overwrite=False
    assert "already exists" in capsys.readouterr().out
    assert (store.root / "train" / "a.csv").read_text() == "x,y\n1,2\n3,4\n"

    ds = Dataset.Tabular.from_delimited_files(path=[(store, "all/*.csv")])
    assert ds.to_pandas_dataframe()["y"].tolist() == [2, 4, 6]
    registered = ds.register(ws, "numbers", description="three rows", tags={"k": "v"})
    assert (registered.name, registered.version, registered.tags) == ("numbers", 1, {"k": "v"})
    with pytest.raises(UserErrorException, match="create_new_version=True"):
        Dataset.Tabular.from_delimited_files(path=[(store, "train/a.csv")]).register(ws, "numbers")
    Dataset.Tabular.from_delimited_files(path=[(store, "train/a.csv")]).register(ws, "numbers",
                                                                               create_new_version=True)
    assert Dataset.get_by_name(ws, "numbers").to_pandas_dataframe()["x"].tolist() == [1, 3]
    assert Dataset.get_by_name(ws, "numbers", version=1).to_pandas_dataframe()["x"].tolist() == [1, 3, 5]
    assert set(ws.datasets) == {"numbers"}
    with pytest.raises(UserErrorException, match="Registered: numbers"):
        Dataset.get_by_name(ws, "nope")


def test_json_lines_without_headers_as_profiling_expects_and_kept_by_a_model(ws, workdir):
    body = json.dumps({"data": [[1.0, 2.0]]})
    (workdir / "req.txt").write_text("\n".join([body] * 3))
    store = Datastore.get_default(ws)
    store.upload_files(["./req.txt"], target_path="sample_request_data", show_progress=False)
    ds = Dataset.Tabular.from_delimited_files([(store, "sample_request_data/req.txt")], separator="\n",
                                              infer_column_types=True, header=PromoteHeadersBehavior.NO_HEADERS)
    ds = ds.register(workspace=ws, name="requests", create_new_version=True)
    frame = ds.to_pandas_dataframe()
    assert list(frame.columns) == ["Column1"] and frame["Column1"].tolist() == [body] * 3
    (workdir / "m.txt").write_text("m")
    model = Model.register(ws, "m.txt", "with-samples", sample_input_dataset=ds, sample_output_dataset=ds)
    assert Model(ws, "with-samples").sample_input_dataset == {"name": "requests", "version": 1}
    assert model.sample_output_dataset == {"name": "requests", "version": 1}


def test_a_missing_file_and_a_url_are_clear_errors(ws):
    store = ws.get_default_datastore()
    with pytest.raises(UserErrorException, match="names no file. Upload it first"):
        Dataset.Tabular.from_delimited_files(path=[(store, "nothing/*.csv")])
    with pytest.raises(UserErrorException, match="not reachable here"):
        Dataset.Tabular.from_delimited_files(path="https://example.com/x.csv")


def test_a_file_dataset_downloads_its_files(ws, workdir):
    (workdir / "f").mkdir()
    (workdir / "f" / "one.bin").write_bytes(b"1")
    store = ws.get_default_datastore()
    store.upload("f", target_path="files", show_progress=False)
    files = Dataset.File.from_files(path=[(store, "files")])
    assert files.to_path() == ["/one.bin"]
    written = files.download(target_path=str(workdir / "out"))
    assert [Path(p).read_bytes() for p in written] == [b"1"]
