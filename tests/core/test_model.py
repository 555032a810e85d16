"""The model registry: versions, tags, lookups, and safety across processes and crashes."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from aci_widgets.core import Model, ModelNotFoundException, UserErrorException


def test_register_versions_and_lookup(ws, workdir):
    (workdir / "m.pkl").write_bytes(b"v1")
    first = Model.register(ws, "m.pkl", "sklearn_mnist", tags={"data": "mnist"}, description="Mnist")
    (workdir / "m.pkl").write_bytes(b"v2")
    second = Model.register(workspace=ws, model_path="m.pkl", model_name="sklearn_mnist")
    assert (first.version, second.version) == (1, 2)
    assert first.id == "sklearn_mnist:1"
    assert Model(ws, "sklearn_mnist").version == 2
    assert Model(ws, "sklearn_mnist", version=1).tags == {"data": "mnist"}
    assert Model(ws, id="sklearn_mnist:1").description == "Mnist"
    assert first.files == ["m.pkl"]


def test_list_filters_by_name_and_tags(ws, workdir):
    (workdir / "a.pkl").write_bytes(b"a")
    Model.register(ws, "a.pkl", "a", tags={"data": "mnist", "type": "classification"})
    Model.register(ws, "a.pkl", "b", tags={"data": "iris"})
    assert [m.name for m in Model.list(ws)] == ["a", "b"]
    assert [m.name for m in Model.list(ws, tags=[["data", "mnist"]])] == ["a"]
    assert [m.name for m in Model.list(ws, tags=["type"])] == ["a"]
    assert [m.name for m in Model.list(ws, name="b")] == ["b"]


def test_unknown_model_lists_what_exists(ws, workdir):
    (workdir / "a.pkl").write_bytes(b"a")
    Model.register(ws, "a.pkl", "known")
    with pytest.raises(ModelNotFoundException, match="Registered models: known"):
        Model(ws, "unknown")
    with pytest.raises(ModelNotFoundException, match="'known:7'"):
        Model(ws, "known", version=7)


def test_register_errors_are_clear(ws, workdir):
    with pytest.raises(UserErrorException, match="not found"):
        Model.register(ws, "missing.pkl", "m")
    (workdir / "a.pkl").write_bytes(b"a")
    with pytest.raises(UserErrorException, match="model name"):
        Model.register(ws, "a.pkl", "bad name")
    (workdir / "empty").mkdir()
    with pytest.raises(UserErrorException, match="empty"):
        Model.register(ws, "empty", "m")


def test_folder_model_and_download(ws, workdir):
    (workdir / "model" / "sub").mkdir(parents=True)
    (workdir / "model" / "w.bin").write_bytes(b"w")
    (workdir / "model" / "sub" / "v.txt").write_text("v")
    model = Model.register(ws, "model", "folder-model")
    assert model.files == ["sub/v.txt", "w.bin"]
    path = model.download(workdir / "out")
    assert (workdir / "out" / "sub" / "v.txt").read_text() == "v"
    assert path == str(workdir / "out")
    with pytest.raises(UserErrorException, match="exist_ok=True"):
        model.download(workdir / "out")


def test_get_model_path_in_a_notebook_and_in_a_service(ws, workdir, monkeypatch):
    (workdir / "sklearn_mnist_model.pkl").write_bytes(b"pickle")
    Model.register(ws, "sklearn_mnist_model.pkl", "sklearn_mnist")
    local = Model.get_model_path("sklearn_mnist", _workspace=ws)
    assert Path(local).read_bytes() == b"pickle"
    assert local.endswith("azureml-models/sklearn_mnist/1/sklearn_mnist_model.pkl")
    # Inside a service the runtime sets the model folder: by model name or by file name.
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(workdir / "azureml-models"))
    assert Model.get_model_path("sklearn_mnist") == str(workdir / local)
    assert Model.get_model_path("sklearn_mnist_model.pkl") == str(workdir / local)
    with pytest.raises(ModelNotFoundException, match="sklearn_mnist"):
        Model.get_model_path("other")


_REGISTER_MANY = textwrap.dedent("""
    import sys
    from aci_widgets.core import Model, Workspace
    ws = Workspace("{name}", path="{path}")
    for i in range({count}):
        with open(f"{{sys.argv[1]}}-{{i}}.bin", "wb") as f:
            f.write(f"{{sys.argv[1]}} {{i}}".encode() * 1000)
        Model.register(ws, f"{{sys.argv[1]}}-{{i}}.bin", "shared", tags={{"writer": sys.argv[1], "i": str(i)}})
""")


def test_concurrent_registrations_from_two_processes_lose_nothing(ws, workdir):
    script = workdir / "register_many.py"
    script.write_text(_REGISTER_MANY.format(name=ws.name, path=ws.root, count=25))
    writers = [subprocess.Popen([sys.executable, str(script), name], cwd=workdir) for name in ("a", "b")]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    models = Model.list(ws, name="shared")
    assert sorted(m.version for m in models) == list(range(1, 51))
    assert sorted((m.tags["writer"], int(m.tags["i"])) for m in models) == \
        sorted((w, i) for w in "ab" for i in range(25))
    for model in models:  # every row's file is there, with the content that writer wrote
        data = ws.artifacts.path(model.manifest[model.files[0]]).read_bytes()
        assert data == f"{model.tags['writer']} {model.tags['i']}".encode() * 1000


_REGISTER_FOREVER = textwrap.dedent("""
    import os, sys
    from aci_widgets.core import Model, Workspace
    ws = Workspace("{name}", path="{path}")
    i = 0
    while True:
        with open("big.bin", "wb") as f:
            f.write(os.urandom(4 * 1024 * 1024))
        Model.register(ws, "big.bin", "crashy", tags={{"i": str(i)}})
        i += 1
        print(i, flush=True)
""")


def _wait_for_new_temporary(folder: Path, seen: set[str], proc: subprocess.Popen) -> None:
    """Wait (bounded) until ``proc`` is writing a file into the store: a temporary not in ``seen`` appears."""
    give_up = time.monotonic() + 60
    while True:
        names = {e.name for e in os.scandir(folder)} if folder.is_dir() else set()
        if names - seen:
            seen |= names
            return
        assert proc.poll() is None, "the registering process ended by itself"
        assert time.monotonic() < give_up, "the registering process never began writing a file"
        time.sleep(0.0005)


def test_a_process_killed_mid_register_leaves_the_registry_consistent(ws, workdir):
    script = workdir / "register_forever.py"
    script.write_text(_REGISTER_FOREVER.format(name=ws.name, path=ws.root))
    temporaries = ws.artifacts.root / "tmp"  # where the store writes a file before renaming it into place
    seen: set[str] = set()
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, str(script)], cwd=workdir, stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip().isdigit()  # one registration done; now kill it mid-way through more
        _wait_for_new_temporary(temporaries, seen, proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    models = Model.list(ws, name="crashy")
    assert models, "some registrations completed before the kills"
    for model in models:
        assert ws.artifacts.has(model.manifest["big.bin"])
        assert ws.artifacts.path(model.manifest["big.bin"]).stat().st_size == 4 * 1024 * 1024
    assert [m.version for m in models] == list(range(1, len(models) + 1))
    (workdir / "after.bin").write_bytes(b"after")
    assert Model.register(ws, "after.bin", "crashy").version == len(models) + 1
