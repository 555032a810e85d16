"""The workspace registry: models, images and services in SQLite (WAL), one short transaction per change.

Files live in the :class:`~aci_widgets.core.artifacts.ArtifactStore` and are stored *before* the row that points at
them is committed, so a process killed at any moment leaves either a complete entry or none. Versions are
allocated inside ``BEGIN IMMEDIATE`` so two processes registering the same name get distinct versions, and from a
per-name high-water mark, so a version number is never handed out twice, even after the latest one is deleted (as in
Azure ML). The database holds the services' keys: it and its WAL files are private to the user (0600).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import UserErrorException

_SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    name TEXT NOT NULL, version INTEGER NOT NULL,
    manifest TEXT NOT NULL, size INTEGER NOT NULL,
    tags TEXT NOT NULL, properties TEXT NOT NULL, description TEXT,
    created REAL NOT NULL,
    PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS images (
    name TEXT NOT NULL, version INTEGER NOT NULL,
    state TEXT NOT NULL, target TEXT, spec TEXT NOT NULL, record TEXT,
    models TEXT NOT NULL, tags TEXT NOT NULL, description TEXT,
    error TEXT, detail TEXT, log TEXT, owner_pid INTEGER,
    created REAL NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS services (
    name TEXT PRIMARY KEY,
    state TEXT NOT NULL, target TEXT, image_name TEXT, image_version INTEGER,
    config TEXT NOT NULL, handle TEXT, keys TEXT,
    tags TEXT NOT NULL, description TEXT,
    error TEXT, detail TEXT, owner_pid INTEGER,
    created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    kind TEXT NOT NULL, name TEXT NOT NULL, high INTEGER NOT NULL,
    PRIMARY KEY (kind, name));
CREATE TABLE IF NOT EXISTS environments (
    name TEXT NOT NULL, version INTEGER NOT NULL,
    definition TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS model_details (
    name TEXT NOT NULL, version INTEGER NOT NULL, details TEXT NOT NULL,
    PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS datasets (
    name TEXT NOT NULL, version INTEGER NOT NULL,
    definition TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS compute_targets (
    name TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL,
    record TEXT, error TEXT, created REAL NOT NULL, updated REAL);
"""

_DIGEST = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
_JSON_COLUMNS = {"manifest", "tags", "properties", "spec", "record", "models", "config", "handle", "keys",
                 "definition", "details"}


class Registry:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # SQLite creates the -wal and -shm files with the database's own mode: make it private before first use,
        # and tighten files an older version left readable by others.
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        with self.connect() as conn:
            conn.executescript(_SCHEMA)
        for suffix in ("", "-wal", "-shm", "-journal"):
            _private(Path(f"{self.path}{suffix}"))

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection per use: safe across threads and processes; WAL lets readers run during writes."""
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=30000")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
                    raise UserErrorException(
                        f"The disk holding {self.path.parent} is full: the registry could not be written and "
                        "was left as it was. Free some space and try again.") from exc
                raise

    # --- generic helpers ----------------------------------------------------------------------------------

    def insert_versioned(self, table: str, name: str, row: dict[str, Any],
                         also: dict[str, dict[str, Any]] | None = None) -> int:
        """Insert a row with the next version of ``name``, allocated atomically; returns the version. ``also``:
        rows of other tables (by table) inserted in the same transaction, with the same name and version."""
        with self.transaction() as conn:
            (latest,) = conn.execute(f"SELECT MAX(version) FROM {table} WHERE name = ?", (name,)).fetchone()
            high = conn.execute("SELECT high FROM versions WHERE kind = ? AND name = ?", (table, name)).fetchone()
            version = max(latest or 0, high[0] if high else 0) + 1
            _insert(conn, table, {**row, "name": name, "version": version})
            for other, other_row in (also or {}).items():
                _insert(conn, other, {**other_row, "name": name, "version": version}, replace=True)
            conn.execute("INSERT OR REPLACE INTO versions (kind, name, high) VALUES (?, ?, ?)", (table, name, version))
        return version

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """Several reads and writes in one transaction: all of them happen, or none."""
        with self.transaction() as conn:
            yield Batch(conn)

    def upsert(self, table: str, row: dict[str, Any]) -> None:
        with self.transaction() as conn:
            _insert(conn, table, row, replace=True)

    def update(self, table: str, key: dict[str, Any], **fields: Any) -> None:
        if table != "models":
            fields.setdefault("updated", time.time())
        sets = ", ".join(f"{column} = ?" for column in fields)
        where = " AND ".join(f"{column} = ?" for column in key)
        with self.transaction() as conn:
            conn.execute(f"UPDATE {table} SET {sets} WHERE {where}",
                         [_encode(c, v) for c, v in fields.items()] + list(key.values()))

    def update_if(self, table: str, key: dict[str, Any], expect: dict[str, Any], **fields: Any) -> bool:
        """Update the row only if it still holds ``expect`` (compare-and-set); False if it was changed or deleted."""
        fields.setdefault("updated", time.time())
        sets = ", ".join(f"{column} = ?" for column in fields)
        where = " AND ".join(f"{column} IS ?" for column in {**key, **expect})
        with self.transaction() as conn:
            cursor = conn.execute(f"UPDATE {table} SET {sets} WHERE {where}",
                                  [_encode(c, v) for c, v in fields.items()] + list({**key, **expect}.values()))
            return cursor.rowcount > 0

    def pop(self, table: str, **key: Any) -> dict[str, Any] | None:
        """Delete a row and return what it held, in one transaction (so no writer slips in between)."""
        where = " AND ".join(f"{column} = ?" for column in key)
        with self.transaction() as conn:
            row = conn.execute(f"SELECT * FROM {table} WHERE {where}", list(key.values())).fetchone()
            conn.execute(f"DELETE FROM {table} WHERE {where}", list(key.values()))
        return _decode(row) if row else None

    def delete(self, table: str, **key: Any) -> None:
        where = " AND ".join(f"{column} = ?" for column in key)
        with self.transaction() as conn:
            conn.execute(f"DELETE FROM {table} WHERE {where}", list(key.values()))

    def get(self, table: str, **key: Any) -> dict[str, Any] | None:
        rows = self.select(table, **key)
        return rows[0] if rows else None

    def latest(self, table: str, name: str) -> dict[str, Any] | None:
        with self.connect() as conn:
            row = conn.execute(f"SELECT * FROM {table} WHERE name = ? ORDER BY version DESC LIMIT 1",
                               (name,)).fetchone()
        return _decode(row) if row else None

    def find_version(self, table: str, name: str | None, id: str | None,
                     version: int | None) -> tuple[str, int | None, dict[str, Any] | None]:
        """Resolve azureml's ways of naming a versioned thing (name, name + version, or id 'name:version').

        Returns (name, version asked for, row or None); a missing name is the caller's error to word.
        """
        if id:
            name, _, ver = id.partition(":")
            version = int(ver) if ver else version
        if not name:
            return "", version, None
        row = self.get(table, name=name, version=int(version)) if version is not None else self.latest(table, name)
        return name, version, row

    def referenced_digests(self) -> set[str]:
        """Every artifact digest any row of any table names (manifests, image specs, and whatever comes later)."""
        found: set[str] = set()
        with self.connect() as conn:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                for row in conn.execute(f"SELECT * FROM {table}"):
                    for value in row:
                        if isinstance(value, str):
                            found.update(_DIGEST.findall(value))
        return found

    def select(self, table: str, **key: Any) -> list[dict[str, Any]]:
        where = " AND ".join(f"{column} = ?" for column in key) or "1"
        order = "name" if table in ("services", "compute_targets") else "name, version"
        with self.connect() as conn:
            rows = conn.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY {order}",
                                list(key.values())).fetchall()
        return [_decode(row) for row in rows]


class Batch:
    """Reads and writes inside one transaction (see ``Registry.batch``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def select(self, table: str, **key: Any) -> list[dict[str, Any]]:
        where = " AND ".join(f"{column} = ?" for column in key) or "1"
        return [_decode(r) for r in self.conn.execute(f"SELECT * FROM {table} WHERE {where}", list(key.values()))]

    def upsert(self, table: str, row: dict[str, Any]) -> None:
        _insert(self.conn, table, row, replace=True)

    def delete(self, table: str, **key: Any) -> None:
        where = " AND ".join(f"{column} = ?" for column in key)
        self.conn.execute(f"DELETE FROM {table} WHERE {where}", list(key.values()))


def _private(path: Path) -> None:
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except FileNotFoundError:
        pass


def _insert(conn: sqlite3.Connection, table: str, row: dict[str, Any], replace: bool = False) -> None:
    columns = list(row)
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    conn.execute(f"{verb} INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                 [_encode(c, row[c]) for c in columns])


def _encode(column: str, value: Any) -> Any:
    return json.dumps(value) if column in _JSON_COLUMNS and value is not None else value


def _decode(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    for column in _JSON_COLUMNS & out.keys():
        if out[column] is not None:
            out[column] = json.loads(out[column])
    return out
