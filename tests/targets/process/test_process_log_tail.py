"""``get_logs(num_lines)`` on the process target reads the log from its end, rotated files included."""

from __future__ import annotations

from pathlib import Path

from aci_widgets.targets.process.processes import LogFollower, tail


def test_tail_reads_the_last_lines_of_a_big_log(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    log.write_bytes(b"".join(b"line %d %s\n" % (i, b"x" * 100) for i in range(200_000)))  # ~21 MB
    assert tail(log, 2) == f"line 199998 {'x' * 100}\nline 199999 {'x' * 100}"
    assert len(tail(log, 5000).splitlines()) == 5000
    assert tail(log, 0) == ""
    assert tail(tmp_path / "missing.log", 5) == ""


def test_tail_continues_into_the_rotated_files(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    (tmp_path / "service.log.2").write_text("oldest\n")
    (tmp_path / "service.log.1").write_text("older a\nolder b\n")
    log.write_text("newest")
    assert tail(log, 1) == "newest"
    assert tail(log, 3) == "older a\nolder b\nnewest"
    assert tail(log, 10) == "oldest\nolder a\nolder b\nnewest"
    assert tail(log, None) == "newest"


def test_the_follower_starts_over_when_the_log_rotates(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    log.write_text("one\ntwo\n")
    follower = LogFollower(log)
    assert follower.new_lines() == ["one", "two"]
    log.rename(tmp_path / "service.log.1")
    log.write_text("three\n")
    assert follower.new_lines() == ["three"]
