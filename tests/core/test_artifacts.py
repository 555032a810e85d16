import hashlib
import os

import pytest

from aci_widgets.core.artifacts import ArtifactStore


def test_put_file_is_content_addressed_and_deduplicated(tmp_path):
    store = ArtifactStore(tmp_path / "store")
    a = tmp_path / "a.bin"
    a.write_bytes(b"model bytes" * 1000)
    b = tmp_path / "b.bin"
    b.write_bytes(b"model bytes" * 1000)
    digest_a, size = store.put_file(a)
    digest_b, _ = store.put_file(b)
    assert digest_a == digest_b == hashlib.sha256(a.read_bytes()).hexdigest()
    assert size == a.stat().st_size
    assert store.read_bytes(digest_a) == a.read_bytes()
    objects = tmp_path / "store" / "objects"
    assert sorted(objects.rglob("*")) == [objects / digest_a[:2], store.path(digest_a)]  # one folder, one file
    assert not os.access(store.path(digest_a), os.W_OK) or os.geteuid() == 0


def test_put_tree_keeps_relative_paths(tmp_path):
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"w")
    (folder / "sub" / "vocab.txt").write_text("v")
    store = ArtifactStore(tmp_path / "store")
    manifest, size = store.put_tree(folder)
    assert sorted(manifest) == ["sub/vocab.txt", "weights.bin"]
    assert size == 2
    store.materialize(manifest, tmp_path / "out")
    assert (tmp_path / "out" / "sub" / "vocab.txt").read_text() == "v"


def test_failed_write_leaves_no_object_and_no_temporary(tmp_path, monkeypatch):
    store = ArtifactStore(tmp_path / "store")
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(3 * 1024 * 1024))

    def crash(_fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        store.put_file(src)
    assert not [p for p in (tmp_path / "store" / "objects").rglob("*") if p.is_file()]
    assert not list((tmp_path / "store" / "tmp").iterdir())
