"""Environments built by uv: the user's pip settings reach uv, failures say uv's reason, a lock installs exactly.

Packages come from a real local index: tiny wheels built here, served by a real HTTP server as find-links.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import shutil
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from aci_widgets.core.errors import ImageBuildError
from aci_widgets.core.events import LogLine, Notice
from aci_widgets.core.operation import Operation
from aci_widgets.core.uvtool import reason, uv_settings
from aci_widgets.targets.process.envs import ensure_env, env_python


def make_wheel(folder: Path, name: str, version: str) -> Path:
    """A minimal pure-Python wheel holding ``<name>.py`` with ``VERSION``."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": f"VERSION = {version!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


@pytest.fixture
def wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """A folder of wheels served over HTTP, configured as pip's find-links (and nothing else of the machine's)."""
    folder = tmp_path / "wheels"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    monkeypatch.setenv("ACI_WIDGETS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # this machine's pip.conf files stay out of the test
    monkeypatch.setenv("PIP_FIND_LINKS", url)
    for var in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT", "PIP_NO_INDEX", "UV_FIND_LINKS"):
        monkeypatch.delenv(var, raising=False)
    try:
        yield folder, url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _build(requirements: list[str], lock: str | None = None) -> tuple[Path, Operation]:
    op = Operation("env", lambda report: ensure_env(requirements, report, lock)).start()
    path, _key = op.result(300)
    return path, op


def _installed_version(env: Path, name: str) -> str:
    found = list(env.glob(f"lib/python*/site-packages/{name}-*.dist-info"))
    assert len(found) == 1, found
    return found[0].name[len(name) + 1:-len(".dist-info")]


def test_pip_find_links_reach_uv_and_the_lock_pins_versions_with_hashes(wheels: tuple[Path, str]) -> None:
    folder, url = wheels
    make_wheel(folder, "aciw_tiny", "1.0")
    env, op = _build(["aciw_tiny"])
    assert _installed_version(env, "aciw_tiny") == "1.0"
    lock = (env / "requirements.lock").read_text()
    assert "aciw-tiny==1.0" in lock and "--hash=sha256:" in lock
    lines = [e.line for e in op.events if isinstance(e, LogLine)]
    assert any(line.startswith("$ uv pip compile --universal --generate-hashes") for line in lines)
    assert any(line.startswith("Installed ") and "packages" in line for line in lines)  # uv's own progress
    assert (env_python(env)).exists()


def test_a_rebuild_from_the_lock_installs_the_locked_version_though_a_newer_exists(
        wheels: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _ = wheels
    make_wheel(folder, "aciw_tiny", "1.0")
    first, _ = _build(["aciw_tiny"])
    lock = (first / "requirements.lock").read_text()
    make_wheel(folder, "aciw_tiny", "2.0")
    monkeypatch.setenv("ACI_WIDGETS_HOME", str(tmp_path / "other-home"))  # another machine, an empty cache
    fresh, _ = _build(["aciw_tiny"])
    assert _installed_version(fresh, "aciw_tiny") == "2.0"  # what resolving today gives
    rebuilt, op = _build(["aciw_tiny"], lock)
    assert _installed_version(rebuilt, "aciw_tiny") == "1.0"
    assert (rebuilt / "requirements.lock").read_text() == lock
    assert any("locked environment" in e.message for e in op.events if isinstance(e, Notice))


def test_a_requirement_set_is_resolved_once_and_other_settings_resolve_again(
        wheels: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, url = wheels
    make_wheel(folder, "aciw_tiny", "1.0")
    first, _ = _build(["aciw_tiny"])
    shutil.rmtree(first)  # the environment is gone (cleaned up), its lock stays
    make_wheel(folder, "aciw_tiny", "2.0")
    again, op = _build(["aciw_tiny"])
    lines = [e.line for e in op.events if isinstance(e, LogLine)]
    assert not any(line.startswith("$ uv pip compile") for line in lines)
    assert any(line.startswith("Reusing the lock resolved before") for line in lines)
    assert _installed_version(again, "aciw_tiny") == "1.0"  # the same set as before, as a kept env would be
    other = tmp_path / "other-wheels"
    other.mkdir()
    make_wheel(other, "aciw_tiny", "3.0")
    monkeypatch.setenv("PIP_FIND_LINKS", f"{url} {other}")  # other package settings: resolved anew
    shutil.rmtree(again)
    third, op = _build(["aciw_tiny"])
    assert any(e.line.startswith("$ uv pip compile") for e in op.events if isinstance(e, LogLine))
    assert _installed_version(third, "aciw_tiny") == "3.0"


def test_a_conflict_ends_with_uvs_reason_in_one_line(wheels: tuple[Path, str]) -> None:
    folder, _ = wheels
    make_wheel(folder, "aciw_tiny", "1.0")
    make_wheel(folder, "aciw_tiny", "2.0")
    with pytest.raises(ImageBuildError) as info:
        _build(["aciw_tiny==1.0", "aciw_tiny==2.0"])
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("Resolving the environment failed: No solution found when resolving dependencies")
    assert "you require aciw-tiny==1.0 and aciw-tiny==2.0" in message
    assert "error: No solution found" in info.value.detail  # the full log stays in the detail and the panel


def test_a_missing_package_names_it(wheels: tuple[Path, str]) -> None:
    with pytest.raises(ImageBuildError) as info:
        _build(["aciw-no-such-package-anywhere"])
    assert "aciw-no-such-package-anywhere was not found in the package registry" in str(info.value)


def test_pip_settings_map_to_uv_and_missing_local_paths_are_skipped(tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    constraints = tmp_path / "c.txt"
    constraints.write_text("six<2\n")
    conf.write_text(f"[global]\nindex-url = https://mirror.example/simple\nfind-links = {tmp_path} /no/such/dir\n"
                    f"trusted-host = mirror.example\nconstraint = {constraints} /no/such/c.txt\ncert = /no/ca.pem\n")
    settings = uv_settings(environ={"PIP_EXTRA_INDEX_URL": "https://extra.example/simple", "PIP_DEFAULT_TIMEOUT": "60"},
                           files=[conf])
    assert settings.args == ["--index-url", "https://mirror.example/simple",
                             "--extra-index-url", "https://extra.example/simple",
                             "--index-strategy", "unsafe-best-match", "--find-links", str(tmp_path),
                             "--allow-insecure-host", "mirror.example"]
    assert settings.constraints == ["--constraint", str(constraints)]
    assert settings.env == {"UV_HTTP_TIMEOUT": "60"}
    assert settings.skipped == ["find-links /no/such/dir (no such folder)", "constraint /no/such/c.txt (no such file)",
                                "cert /no/ca.pem (no such file)"]
    # uv's own settings win over pip's
    assert "--index-url" not in uv_settings(environ={"UV_INDEX_URL": "https://u.example/simple"}, files=[conf]).args


def test_a_missing_find_links_folder_is_skipped_with_a_notice(wheels: tuple[Path, str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    folder, url = wheels
    make_wheel(folder, "aciw_tiny", "1.0")
    monkeypatch.setenv("PIP_FIND_LINKS", f"{url} /no/such/wheels")
    env, op = _build(["aciw_tiny"])
    assert _installed_version(env, "aciw_tiny") == "1.0"
    assert any("find-links /no/such/wheels (no such folder)" in e.message for e in op.events
               if isinstance(e, Notice))


def test_uvs_reason_joins_error_and_causes() -> None:
    lines = ["Resolved 3 packages", "error: No solution found when resolving dependencies",
             "  cause: Because a depends on b>=2 and you require b<2,",
             "         we can conclude that your requirements are unsatisfiable.",
             "hint: b was pinned by you"]
    assert reason(lines) == ("No solution found when resolving dependencies: Because a depends on b>=2 and you "
                             "require b<2, we can conclude that your requirements are unsatisfiable. "
                             "(hint: b was pinned by you)")
    assert reason(["all good"]) is None
