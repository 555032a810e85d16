"""``azureml.core.Dataset``: tabular and file datasets over files of the workspace's datastores.

A dataset is a definition (which files, how to parse them), not a copy: ``register`` keeps the definition in the
registry under a name and an increasing version, and reading happens when asked (``to_pandas_dataframe``). Files
named by a (datastore, path) pair live in the workspace; a local path is kept as an absolute path.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .datastore import Datastore, data_path
from .errors import UserErrorException

if TYPE_CHECKING:
    from .workspace import Workspace


class Dataset:
    """Base of TabularDataset and FileDataset; ``Dataset.Tabular`` / ``Dataset.File`` make them."""

    def __init__(self, definition: dict[str, Any], workspace: Workspace | None = None,
                 registration: dict[str, Any] | None = None) -> None:
        self._definition = definition
        self._workspace = workspace
        self._registration = registration or {}

    name = property(lambda self: self._registration.get("name"))
    version = property(lambda self: self._registration.get("version"))
    description = property(lambda self: self._registration.get("description"))
    tags = property(lambda self: dict(self._registration.get("tags") or {}))

    @property
    def id(self) -> str | None:
        return f"{self.name}:{self.version}" if self.name else None

    # --- registry ------------------------------------------------------------------------------------------

    def register(self, workspace: Workspace, name: str, description: str | None = None,
                 tags: dict[str, str] | None = None, create_new_version: bool = False) -> Dataset:
        """Keep this definition as ``name`` (the next version with ``create_new_version=True``)."""
        from .names import check_model_name

        check_model_name(name)
        latest = workspace.registry.latest("datasets", name)
        if latest is not None and not create_new_version:
            if latest["definition"]["definition"] == self._definition:
                return _from_row(workspace, latest)  # azureml returns the registered one when nothing changed
            raise UserErrorException(f"Dataset {name!r} is already registered (version {latest['version']}) with "
                                     "another definition; pass create_new_version=True to add a version.")
        row = {"definition": {"definition": self._definition, "description": description, "tags": dict(tags or {})},
               "created": time.time()}
        version = workspace.registry.insert_versioned("datasets", name, row)
        return _from_row(workspace, workspace.registry.get("datasets", name=name, version=version))

    @staticmethod
    def get_by_name(workspace: Workspace, name: str, version: int | str = "latest", **_: Any) -> Dataset:
        row = workspace.registry.latest("datasets", name) if version in ("latest", None) else \
            workspace.registry.get("datasets", name=name, version=int(version))
        if row is None:
            known = sorted({r["name"] for r in workspace.registry.select("datasets")})
            what = name if version in ("latest", None) else f"{name} version {version}"
            raise UserErrorException(f"Dataset {what!r} not found in workspace {workspace.name!r}. Registered: "
                                     f"{', '.join(known) or 'none yet (dataset.register(ws, name))'}.")
        return _from_row(workspace, row)

    @staticmethod
    def get_all(workspace: Workspace) -> dict[str, Dataset]:
        latest: dict[str, dict[str, Any]] = {}
        for row in workspace.registry.select("datasets"):
            latest[row["name"]] = row
        return {name: _from_row(workspace, row) for name, row in latest.items()}

    def unregister_all_versions(self) -> None:
        if self._workspace is not None and self.name:
            self._workspace.registry.delete("datasets", name=self.name)

    # --- files ---------------------------------------------------------------------------------------------

    def _files(self) -> list[Path]:
        files: list[Path] = []
        for entry in self._definition["paths"]:
            if "local" in entry:
                local = Path(entry["local"])
                found = [local] if local.is_file() else sorted(p for p in local.rglob("*") if p.is_file())
            else:
                found = self._datastore(entry["datastore"]).resolve(entry["path"])
            if not found:
                where = entry.get("local") or f"{entry['datastore']}/{entry['path']}"
                raise UserErrorException(f"Dataset path {where} names no file. Upload it first with "
                                         "datastore.upload_files([...], target_path=...).")
            files.extend(found)
        return files

    def _datastore(self, name: str) -> Datastore:
        if self._workspace is None:
            raise UserErrorException("This dataset's datastore is unknown to it; make it from (datastore, path).")
        return Datastore(self._workspace, name)

    def __repr__(self) -> str:
        where = ", ".join(e.get("local") or f"{e['datastore']}/{e['path']}" for e in self._definition["paths"])
        return f"{type(self).__name__}(name={self.name!r}, version={self.version!r}, paths=[{where}])"


class TabularDataset(Dataset):
    """Delimited files read as one table."""

    def to_pandas_dataframe(self, on_error: str = "null", out_of_range_datetime: str = "null") -> Any:
        import pandas as pd

        d = self._definition
        frames = [_read(file, d["separator"], d["header"], d.get("encoding", "utf8")) for file in self._files()]
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        if d.get("keep"):
            frame = frame[d["keep"]]
        if d.get("drop"):
            frame = frame.drop(columns=d["drop"])
        if d.get("skip"):
            frame = frame.iloc[d["skip"]:]
        if d.get("take") is not None:
            frame = frame.iloc[:d["take"]]
        return frame.reset_index(drop=True)

    def _with(self, **change: Any) -> TabularDataset:
        return TabularDataset({**self._definition, **change}, self._workspace)

    def take(self, count: int) -> TabularDataset:
        return self._with(take=min(count, self._definition.get("take", count)))

    def skip(self, count: int) -> TabularDataset:
        return self._with(skip=self._definition.get("skip", 0) + count)

    def keep_columns(self, columns: str | list[str], validate: bool = False) -> TabularDataset:
        return self._with(keep=[columns] if isinstance(columns, str) else list(columns))

    def drop_columns(self, columns: str | list[str]) -> TabularDataset:
        return self._with(drop=[columns] if isinstance(columns, str) else list(columns))


class FileDataset(Dataset):
    """Files as they are: ``to_path()``, ``download()``."""

    def to_path(self) -> list[str]:
        return ["/" + self._relative(f) for f in self._files()]

    def download(self, target_path: str | None = None, overwrite: bool = False, ignore_not_found: bool = False
                 ) -> list[str]:
        target = Path(target_path or ".")
        written = []
        for file in self._files():
            dest = target / self._relative(file)
            if dest.exists() and not overwrite:
                raise UserErrorException(f"{dest} already exists; pass overwrite=True to replace it.")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, dest)
            written.append(str(dest))
        return written

    def _relative(self, file: Path) -> str:
        for entry in self._definition["paths"]:
            base = Path(entry["local"]) if "local" in entry else self._datastore(entry["datastore"])._inside(
                None, entry["path"])
            if not base.is_dir():  # a file or a glob: paths relative to the folder it is in
                base = base.parent
            if file == base:
                return file.name
            if file.is_relative_to(base):
                return file.relative_to(base).as_posix()
        return file.name


class _TabularFactory:
    @staticmethod
    def from_delimited_files(path: Any, validate: bool = True, include_path: bool = False,
                             infer_column_types: bool = True, set_column_types: Any = None, separator: str = ",",
                             header: Any = True, partition_format: Any = None, support_multi_line: bool = False,
                             empty_as_string: bool = False, encoding: str = "utf8") -> TabularDataset:
        """``path``: (datastore, 'path') pairs (a glob or a folder is fine), DataReferences or local paths."""
        workspace, paths = _paths(path)
        dataset = TabularDataset({"kind": "tabular", "paths": paths, "separator": separator,
                                  "header": bool(int(header)), "encoding": encoding}, workspace)
        if validate:
            dataset._files()
        return dataset


class _FileFactory:
    @staticmethod
    def from_files(path: Any, validate: bool = True, partition_format: Any = None, is_file: bool = False
                   ) -> FileDataset:
        workspace, paths = _paths(path)
        dataset = FileDataset({"kind": "file", "paths": paths}, workspace)
        if validate:
            dataset._files()
        return dataset


Dataset.Tabular = _TabularFactory  # type: ignore[attr-defined]
Dataset.File = _FileFactory  # type: ignore[attr-defined]


def _paths(path: Any) -> tuple[Workspace | None, list[dict[str, str]]]:
    items = path if isinstance(path, list) else [path]
    workspace = None
    paths = []
    for item in items:
        found = data_path(item)
        if isinstance(found, Path):
            paths.append({"local": str(found)})
        else:
            store, where = found
            workspace = store.workspace
            paths.append({"datastore": store.name, "path": where})
    return workspace, paths


def _from_row(workspace: Workspace, row: dict[str, Any]) -> Dataset:
    kept = row["definition"]
    cls = TabularDataset if kept["definition"]["kind"] == "tabular" else FileDataset
    registration = {"name": row["name"], "version": row["version"], "description": kept.get("description"),
                    "tags": kept.get("tags")}
    return cls(kept["definition"], workspace, registration)


def _read(file: Path, separator: str, header: bool, encoding: str) -> Any:
    import pandas as pd

    if separator == "\n":  # one value per line (azureml's way to keep JSON request bodies as a one-column table)
        lines = [line for line in file.read_text(encoding=encoding).splitlines() if line.strip()]
        name, rows = (lines[0], lines[1:]) if header else ("Column1", lines)
        return pd.DataFrame({name: rows})
    frame = pd.read_csv(file, sep=separator, header=0 if header else None, encoding=encoding)
    if not header:
        frame.columns = [f"Column{i + 1}" for i in range(frame.shape[1])]
    return frame
