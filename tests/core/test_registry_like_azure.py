"""The registry behaves like Azure ML's: versions never reused, unreferenced files removed, leftovers of killed
registrations swept, a full disk reported clearly, names matched whole, and its files private to the user."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from aci_widgets.core import Workspace
from aci_widgets.core.errors import UserErrorException
from aci_widgets.core.model import Model
from aci_widgets.core.names import check_image_name, check_model_name, check_service_name, check_workspace_name


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_version_number_is_never_reused(ws, tmp_path):
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"1")
    Model.register(ws, weights, "m")
    second = Model.register(ws, weights, "m")
    second.delete()
    assert Model.register(ws, weights, "m").version == 3
    for model in Model.list(ws, name="m"):
        model.delete()
    assert Model.register(ws, weights, "m").version == 4


def test_deleting_a_model_removes_the_files_no_row_needs(ws, tmp_path):
    shared, own = tmp_path / "shared.bin", tmp_path / "own.bin"
    shared.write_bytes(b"shared" * 1000)
    own.write_bytes(b"own" * 1000)
    kept = Model.register(ws, shared, "kept")
    gone = Model.register(ws, own, "gone")
    also = Model.register(ws, shared, "also")
    shared_digest, own_digest = kept.manifest["shared.bin"], gone.manifest["own.bin"]
    gone.delete()
    also.delete()
    assert not ws.artifacts.has(own_digest)
    assert ws.artifacts.has(shared_digest)  # still named by "kept"
    kept.delete()
    assert not ws.artifacts.has(shared_digest)


def test_a_file_being_stored_by_another_process_is_not_collected(ws, tmp_path):
    data = tmp_path / "same.bin"
    data.write_bytes(b"x" * 4096)
    first = Model.register(ws, data, "first")
    digest = first.manifest["same.bin"]
    # Another process stores the same file and holds, as Model.register does between the file and the row.
    ready, release = tmp_path / "ready", tmp_path / "release"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from aci_widgets.core import Workspace
        ws = Workspace({ws.name!r}, path={str(ws.root)!r})
        with ws.artifacts.storing():
            ws.artifacts.put_file({str(data)!r})
            Path({str(ready)!r}).touch()
            while not Path({str(release)!r}).exists():
                time.sleep(0.01)
            from aci_widgets.core.model import Model
            ws.registry.insert_versioned("models", "second", {{"manifest": {{"same.bin": {digest!r}}}, "size": 4096,
                                         "tags": {{}}, "properties": {{}}, "description": None, "created": 0.0}})
    """)
    other = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert other.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)


        deleting = threading.Thread(target=first.delete)
        deleting.start()
        deleting.join(0.5)
        assert deleting.is_alive()  # the collection waits for the other writer's row
        release.touch()
        deleting.join(30)
        assert other.wait(30) == 0
    finally:
        if other.poll() is None:
            other.kill()
            other.wait()
    assert ws.artifacts.has(digest)
    assert Model(ws, "second").manifest == {"same.bin": digest}


def test_the_temporary_file_of_a_killed_registration_goes_on_the_next_open(ws, tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(400 * 1024 * 1024)  # sparse: reading it is fast, the temporary copy is real
    script = (f"from aci_widgets.core import Workspace\nfrom aci_widgets.core.model import Model\n"
              f"Model.register(Workspace({ws.name!r}, path={str(ws.root)!r}), {str(big)!r}, 'big')\n")
    proc = subprocess.Popen([sys.executable, "-c", script])
    tmp_dir = ws.root / "artifacts" / "tmp"
    deadline = time.monotonic() + 60
    while not any(p.stat().st_size > 1024 * 1024 for p in tmp_dir.glob("put-*")):
        assert proc.poll() is None and time.monotonic() < deadline, "the registration ended before the kill"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(tmp_dir.glob("put-*"))
    reopened = Workspace(ws.name, path=ws.root)
    assert list(tmp_dir.glob("*")) == []
    assert Model.list(reopened, name="big") == []


@pytest.fixture
def small_disk(tmp_path):
    folder = tmp_path / "small"
    folder.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], capture_output=True)
    if result.returncode != 0:
        pytest.fail(f"cannot mount a small tmpfs: {result.stderr.decode()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=True)


def test_a_full_disk_is_a_clear_error_and_leaves_the_registry_consistent(small_disk, tmp_path):
    ws = Workspace.create(f"full-{uuid.uuid4().hex[:6]}", target="process", path=small_disk / "ws")
    small = tmp_path / "small.bin"
    small.write_bytes(b"s" * 1000)
    Model.register(ws, small, "small")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024))
    with pytest.raises(UserErrorException, match=r"Not enough disk space.*needs 3\.0 MiB"):
        Model.register(ws, big, "big")
    assert [m.id for m in Model.list(ws)] == ["small:1"]
    assert list((ws.root / "artifacts" / "tmp").glob("*")) == []
    with ws.registry.connect() as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert Model.register(ws, small, "small").version == 2


@pytest.mark.parametrize("check", [check_service_name, check_image_name, check_model_name, check_workspace_name])
def test_a_name_with_a_trailing_newline_is_refused(check):
    with pytest.raises(UserErrorException):
        check("name1\n")
    check("name1")


def test_a_workspace_name_with_a_newline_makes_no_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ACI_WIDGETS_HOME", str(tmp_path))
    with pytest.raises(UserErrorException):
        Workspace.create("nlws\n")
    assert not (tmp_path / "workspaces").exists() or list((tmp_path / "workspaces").iterdir()) == []


def test_the_workspace_and_its_registry_are_private(ws):
    assert _mode(ws.root) == 0o700
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{ws.registry.path}{suffix}")
        if path.exists():
            assert _mode(path) == 0o600, path


def test_files_an_older_version_left_readable_are_made_private_on_open(ws):
    ws.root.chmod(0o755)
    ws.registry.path.chmod(0o644)
    Model.list(ws)  # leaves the -wal and -shm files behind, readable as the database was
    for suffix in ("-wal", "-shm"):
        path = Path(f"{ws.registry.path}{suffix}")
        if path.exists():
            path.chmod(0o644)
    Workspace(ws.name, path=ws.root)
    assert _mode(ws.root) == 0o700
    assert _mode(ws.registry.path) == 0o600
    for suffix in ("-wal", "-shm"):
        path = Path(f"{ws.registry.path}{suffix}")
        if path.exists():
            assert _mode(path) == 0o600
