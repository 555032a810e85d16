"""A content-addressed store for model files, scripts and environment files.

Every file is written to a temporary name, flushed to disk and renamed into ``objects/<sha256>``, so a reader never
sees half a file and a crash leaves at worst an unreferenced temporary. Identical files are stored once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

_CHUNK = 1024 * 1024


class ArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.objects.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        return self.objects / digest[:2] / digest[2:]

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def put_file(self, source: str | os.PathLike[str]) -> tuple[str, int]:
        """Store a file; returns (sha256 hex digest, size). Safe against crashes and concurrent writers."""
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(exist_ok=True)
        sha = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="put-")
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                while chunk := src.read(_CHUNK):
                    sha.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            digest = sha.hexdigest()
            final = self.path(digest)
            if final.exists():
                os.unlink(tmp_name)
            else:
                final.parent.mkdir(exist_ok=True)
                os.chmod(tmp_name, 0o444)
                os.replace(tmp_name, final)
                _fsync_dir(final.parent)
            return digest, size
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise

    def put_bytes(self, data: bytes) -> str:
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=tmp_dir, delete=False) as tmp:
            tmp.write(data)
        try:
            return self.put_file(tmp.name)[0]
        finally:
            os.unlink(tmp.name)

    def read_bytes(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

    def put_tree(self, source: str | os.PathLike[str]) -> tuple[dict[str, str], int]:
        """Store a file or a folder; returns its manifest (relative path -> digest) and total size.

        A single file's manifest has one entry named after the file, so a model keeps its file name.
        """
        source = Path(source)
        manifest: dict[str, str] = {}
        total = 0
        if source.is_file():
            digest, total = self.put_file(source)
            return {source.name: digest}, total
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            digest, size = self.put_file(path)
            manifest[path.relative_to(source).as_posix()] = digest
            total += size
        return manifest, total

    def materialize(self, manifest: dict[str, str], dest: Path) -> None:
        """Lay a manifest's files out under ``dest`` (hard links where possible: no copy of big models)."""
        for rel, digest in manifest.items():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                target.unlink()
            try:
                os.link(self.path(digest), target)
            except OSError:
                shutil.copyfile(self.path(digest), target)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
