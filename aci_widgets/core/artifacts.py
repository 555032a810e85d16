"""A content-addressed store for model files, scripts and environment files.

Every file is written to a temporary name, flushed to disk and renamed into ``objects/<sha256>``, so a reader never
sees half a file and a crash leaves at worst an unreferenced temporary. Identical files are stored once.

Writers hold a shared lock (``flock`` on ``gc.lock``) from the first file they store until the row that names it is
committed (:meth:`ArtifactStore.storing`); collecting unreferenced files and sweeping the temporaries of killed
writers take it exclusively, so neither can remove a file another process is about to refer to. The OS drops the
lock of a process killed with SIGKILL.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .errors import UserErrorException

_CHUNK = 1024 * 1024


class ArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.objects.mkdir(parents=True, exist_ok=True)
        self._lock_path = self.root / "gc.lock"
        self._local = threading.local()
        self.sweep_temporaries()

    @contextlib.contextmanager
    def storing(self) -> Iterator[None]:
        """Hold while storing files and committing the row that names them: no collection runs meanwhile."""
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            self._local.depth = 1
            yield
        finally:
            self._local.depth = 0
            os.close(fd)

    @contextlib.contextmanager
    def _exclusive(self, wait: bool) -> Iterator[bool]:
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def sweep_temporaries(self) -> int:
        """Remove the temporary files of registrations that were killed; skipped while anyone is storing."""
        removed = 0
        with self._exclusive(wait=False) as got:
            if got:
                for leftover in (self.root / "tmp").glob("*"):
                    with contextlib.suppress(OSError):
                        leftover.unlink()
                        removed += 1
        return removed

    def collect(self, candidates: Iterable[str], referenced: Callable[[], set[str]]) -> list[str]:
        """Remove the ``candidates`` that no row refers to any more; ``referenced()`` is read under the lock."""
        removed = []
        with self._exclusive(wait=True):
            keep = referenced()
            for digest in set(candidates) - keep:
                with contextlib.suppress(FileNotFoundError):
                    self.path(digest).unlink()
                    removed.append(digest)
        return removed

    def path(self, digest: str) -> Path:
        return self.objects / digest[:2] / digest[2:]

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def put_file(self, source: str | os.PathLike[str]) -> tuple[str, int]:
        """Store a file; returns (sha256 hex digest, size). Safe against crashes and concurrent writers."""
        with self.storing():
            try:
                return self._put_file(source)
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                    raise
                need = _size(source)
                free = shutil.disk_usage(self.root).free
                raise UserErrorException(
                    f"Not enough disk space to store {os.fspath(source)!r}: it needs {_human(need)}, and the disk "
                    f"holding {self.root} has {_human(free)} free. Nothing was registered; free some space and "
                    "try again.") from None

    def _put_file(self, source: str | os.PathLike[str]) -> tuple[str, int]:
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
        with self.storing():
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
        with self.storing():
            return self._put_tree(source, manifest, total)

    def _put_tree(self, source: Path, manifest: dict[str, str], total: int) -> tuple[dict[str, str], int]:
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


def _size(source: str | os.PathLike[str]) -> int:
    path = Path(source)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
