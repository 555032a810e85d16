"""``azureml.core.Datastore``: a folder of the workspace (``<workspace>/datastores/<name>``).

The default one is called ``workspaceblobstore`` as on Azure. Uploads copy files in; a dataset then points at
``(datastore, path)`` pairs inside it, so the data lives with the workspace and nothing depends on the current folder.
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from .errors import UserErrorException

if TYPE_CHECKING:
    from .workspace import Workspace

DEFAULT = "workspaceblobstore"


class Datastore:
    """``Datastore(ws, name)`` or ``Datastore.get_default(ws)``; ``upload_files``, ``upload``, ``path``."""

    def __init__(self, workspace: Workspace, name: str | None = None) -> None:
        self.workspace = workspace
        self.name = name or DEFAULT
        if self.name != DEFAULT and not self.root.is_dir():
            known = ", ".join(sorted(Datastore.list_names(workspace)))
            raise UserErrorException(f"Datastore {self.name!r} not found in workspace {workspace.name!r} "
                                     f"(known: {known}). Only the default, {DEFAULT!r}, exists unless made here.")
        self.root.mkdir(parents=True, exist_ok=True)

    datastore_type = "AzureBlob"
    container_name = property(lambda self: self.name)
    root = property(lambda self: self.workspace.root / "datastores" / self.name)

    @staticmethod
    def get(workspace: Workspace, datastore_name: str) -> Datastore:
        return Datastore(workspace, datastore_name)

    @staticmethod
    def get_default(workspace: Workspace) -> Datastore:
        return Datastore(workspace, DEFAULT)

    @staticmethod
    def list_names(workspace: Workspace) -> list[str]:
        folder = workspace.root / "datastores"
        return sorted({DEFAULT, *(p.name for p in folder.iterdir() if p.is_dir())} if folder.is_dir() else {DEFAULT})

    def upload_files(self, files: list[str], relative_root: str | None = None, target_path: str | None = None,
                     overwrite: bool = False, show_progress: bool = True) -> DataReference:
        """Copy ``files`` under ``target_path``; each keeps its path relative to ``relative_root`` (else its name).
        An existing file is kept unless ``overwrite=True`` (said when ``show_progress``)."""
        if isinstance(files, (str, os.PathLike)):
            files = [str(files)]
        for file in files:
            source = Path(file)
            if not source.is_file():
                raise UserErrorException(f"upload_files: {file!r} is not a file (relative to {Path.cwd()}).")
            rel = Path(os.path.relpath(source, relative_root)) if relative_root else Path(source.name)
            if ".." in rel.parts:
                raise UserErrorException(f"upload_files: {file!r} is not under relative_root {relative_root!r}.")
            self._copy(source, self._inside(target_path, rel.as_posix()), overwrite, show_progress)
        return DataReference(self, target_path)

    def upload(self, src_dir: str, target_path: str | None = None, overwrite: bool = False,
               show_progress: bool = True) -> DataReference:
        """Copy the folder ``src_dir`` (its content) under ``target_path``."""
        source = Path(src_dir)
        if not source.is_dir():
            raise UserErrorException(f"upload: {src_dir!r} is not a folder (relative to {Path.cwd()}).")
        for file in sorted(p for p in source.rglob("*") if p.is_file()):
            self._copy(file, self._inside(target_path, file.relative_to(source).as_posix()), overwrite,
                       show_progress)
        return DataReference(self, target_path)

    def path(self, path: str | None = None, data_reference_name: str | None = None) -> DataReference:
        return DataReference(self, path)

    def resolve(self, pattern: str | None) -> list[Path]:
        """The files a path or glob names in this datastore (a folder: every file under it), sorted."""
        base = self._inside(None, pattern or "")
        if any(ch in (pattern or "") for ch in "*?["):
            found = [Path(p) for p in glob.glob(str(base), recursive=True)]
        else:
            found = [base]
        files = sorted({f for p in found for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()})
        return files

    def _inside(self, target_path: str | None, rel: str) -> Path:
        parts = PurePosixPath(str(target_path or "").replace("\\", "/"), rel.replace("\\", "/")).parts
        parts = tuple(p for p in parts if p not in ("", "/", "."))
        if ".." in parts:
            raise UserErrorException(f"Datastore paths stay inside the datastore; {target_path!r}/{rel!r} does not.")
        return self.root.joinpath(*parts)

    def _copy(self, source: Path, dest: Path, overwrite: bool, show_progress: bool) -> None:
        if dest.exists() and not overwrite:
            if show_progress:
                print(f"{dest.relative_to(self.root)} already exists in datastore {self.name!r}: kept "
                      "(pass overwrite=True to replace it).")
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.uploading")
        shutil.copyfile(source, tmp)
        os.replace(tmp, dest)
        if show_progress:
            print(f"Uploaded {source} to {self.name}/{dest.relative_to(self.root).as_posix()}")

    def __repr__(self) -> str:
        return f"Datastore(workspace={self.workspace.name!r}, name={self.name!r})"


class DataReference:
    """A path in a datastore, as ``datastore.path('data/x.csv')`` and ``upload_files`` return it."""

    def __init__(self, datastore: Datastore, path_on_datastore: str | None) -> None:
        self.datastore = datastore
        self.path_on_datastore = path_on_datastore

    def as_mount(self) -> DataReference:
        return self

    def as_download(self, path_on_compute: str | None = None, overwrite: bool = False) -> DataReference:
        return self

    def __str__(self) -> str:
        return str(self.datastore._inside(None, self.path_on_datastore or ""))

    def __repr__(self) -> str:
        return f"DataReference(datastore={self.datastore.name!r}, path={self.path_on_datastore!r})"


def data_path(item: Any) -> tuple[Datastore, str] | Path:
    """What a dataset's ``path=`` entry names: a (datastore, path) pair, a DataReference, or a local file path."""
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], Datastore):
        return item[0], str(item[1])
    if isinstance(item, DataReference):
        return item.datastore, item.path_on_datastore or ""
    if isinstance(item, (str, os.PathLike)):
        text = str(item)
        if text.startswith(("http://", "https://", "wasbs://", "abfss://", "azureml://")):
            raise UserErrorException(f"{text} is not reachable here (no network storage): download it once, then "
                                     "upload it with ws.get_default_datastore().upload_files([...]) and use "
                                     "path=[(datastore, 'its/path')].")
        return Path(text).resolve()
    raise UserErrorException(f"A dataset path must be (datastore, 'path'), datastore.path('path') or a local file "
                             f"path, got {item!r}.")
