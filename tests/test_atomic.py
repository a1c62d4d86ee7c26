"""write_atomic on real files: the old bytes or the new ones, never a mix, and no debris."""

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conceptgraph import atomic
from conceptgraph.atomic import atomic_output, write_atomic


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_creates_a_new_file_with_the_umask_default_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    write_atomic(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    umask = os.umask(0)
    os.umask(umask)
    assert _mode(target) == 0o666 & ~umask
    assert _leftovers(tmp_path) == []


def test_replaces_an_existing_file_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "note.md"
    target.write_bytes(b"old text that is longer than the new one\n")
    target.chmod(0o640)
    write_atomic(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert _mode(target) == 0o640
    assert _leftovers(tmp_path) == []


def test_writes_bytes_exactly(tmp_path: Path) -> None:
    data = "caf\u00e9\r\nline\rlast".encode() + bytes(range(256))
    target = tmp_path / "bytes.bin"
    write_atomic(target, data)
    assert target.read_bytes() == data


def test_a_symlink_stays_a_link_and_its_target_is_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.md"
    real.write_bytes(b"old\n")
    link = tmp_path / "link.md"
    link.symlink_to(real)
    write_atomic(link, b"new\n")
    assert link.is_symlink()
    assert real.read_bytes() == b"new\n"


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_a_failure_before_the_rename_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    target = tmp_path / "note.md"
    target.write_bytes(b"the old content\n")
    target.chmod(0o600)
    written: list[Path] = []

    def fail(*args: object) -> None:
        # The temp file is complete at this point: the failure falls between write and rename.
        written.extend(p for p in tmp_path.iterdir() if p.name.endswith(".tmp"))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, step, fail)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, b"the new content, never to be seen\n")
    assert written, "the failure was not injected after the temp file was made"
    assert target.read_bytes() == b"the old content\n"
    assert _mode(target) == 0o600
    assert _leftovers(tmp_path) == []


def test_an_interrupt_during_the_write_removes_the_temp_file(tmp_path: Path) -> None:
    # A streamed export (atomic_output, which write_atomic writes through) stopped by Ctrl-C
    # halfway: what was written so far never shows, and no temp file is left.
    target = tmp_path / "graph.json"
    target.write_bytes(b"old\n")
    with pytest.raises(KeyboardInterrupt), atomic_output(target) as out:
        out.write(b"half of the new" * 100_000)
        assert [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old\n"
    assert _leftovers(tmp_path) == []


def test_atomic_output_replaces_the_file_once_the_block_ends(tmp_path: Path) -> None:
    target = tmp_path / "graph.json"
    target.write_bytes(b"old\n")
    target.chmod(0o640)
    with atomic_output(target) as out:
        for _ in range(1000):
            out.write(b"0123456789" * 100)
        assert target.read_bytes() == b"old\n"  # readers see the old bytes until the end
    assert target.read_bytes() == b"0123456789" * 100_000
    assert _mode(target) == 0o640
    assert _leftovers(tmp_path) == []


def test_a_missing_folder_is_an_oserror_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "no-such-folder" / "out.txt", b"x")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_in_the_way_is_an_oserror_and_leaves_no_temp_file(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(OSError):
        write_atomic(tmp_path / "out", b"x")
    assert (tmp_path / "out").is_dir()
    assert _leftovers(tmp_path) == []


# ---------------------------------------------- `lint --fix` interrupted between write and rename

# A child that runs `conceptgraph lint --fix` and holds still once the temp file is written,
# just before its fsync and rename, after saying so in the file named by its first argument.
_HELD_FIX = """
import os, sys, time
from pathlib import Path

held = Path(sys.argv[1])

def hold(fd):
    held.write_text("written", encoding="utf-8")
    time.sleep(120)

os.fsync = hold
from conceptgraph.cli import main
main(sys.argv[2:])
"""
_MIXED = b"# A\r\n\r\nSee [[b]].\n\nOne more line.\r\n"


def _fix_held(tmp_path: Path) -> tuple[subprocess.Popen[str], Path, Path]:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / ".obsidian").mkdir()
    note = vault / "a.md"
    note.write_bytes(_MIXED)
    note.chmod(0o640)
    (vault / "b.md").write_bytes(b"# B\n\nBack to [[a]].\n")
    held = tmp_path / "held"
    child = subprocess.Popen(
        [sys.executable, "-c", _HELD_FIX, str(held), "lint", str(vault), "--fix"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not held.exists():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the fix never reached its write"
        time.sleep(0.05)
    temps = [p for p in vault.iterdir() if p.name.endswith(".tmp")]
    assert len(temps) == 1 and temps[0].name.startswith(".a.md."), temps
    return child, vault, note


def test_interrupting_a_fix_mid_write_keeps_the_old_file_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    child, vault, note = _fix_held(tmp_path)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    assert note.read_bytes() == _MIXED
    assert _mode(note) == 0o640
    assert _leftovers(vault) == []


def test_killing_a_fix_mid_write_keeps_the_old_file_whole(tmp_path: Path) -> None:
    child, vault, note = _fix_held(tmp_path)
    child.kill()  # SIGKILL: no cleanup can run
    child.communicate(timeout=60)
    assert note.read_bytes() == _MIXED
    assert _mode(note) == 0o640
    # What a killed process cannot remove is its hidden temp file, which is no note: the vault
    # walk skips it, and the next --fix finishes the job.
    (temp,) = [p for p in vault.iterdir() if p.name.endswith(".tmp")]
    assert temp.name.startswith(".")
    again = subprocess.run(
        [sys.executable, "-m", "conceptgraph", "lint", str(vault), "--fix", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert temp.name not in again.stdout and "Fixed 1 finding in 1 file." in again.stderr
    assert note.read_bytes() == _MIXED.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert _mode(note) == 0o640


@pytest.mark.parametrize("swap", ["exchange", "link and rename", "rename"])
def test_a_failed_rename_during_fix_keeps_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, swap: str
) -> None:
    from conceptgraph import guard
    from conceptgraph.api import lint_paths
    from conceptgraph.lint.fix import fix_paths

    note = tmp_path / "a.md"
    note.write_bytes(_MIXED)
    note.chmod(0o640)
    (tmp_path / "b.md").write_bytes(b"# B\n\nBack to [[a]].\n")

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    if swap == "exchange":
        monkeypatch.setattr(guard, "exchange", fail)
    else:
        # A file system that cannot swap two names (or, then, link one).
        monkeypatch.setattr(guard, "exchange", lambda one, other: False)
        monkeypatch.setattr(atomic.os, "replace", fail)
    if swap == "rename":
        monkeypatch.setattr(guard.os, "link", fail)
    report, left = fix_paths([tmp_path], jobs=1)
    assert [str(skip) for skip in report.skipped] == [
        "a.md: not fixed: cannot write it: No space left on device"
    ]
    assert note.read_bytes() == _MIXED
    assert _mode(note) == 0o640
    assert _leftovers(tmp_path) == []
    assert {f.rule for f in left.findings} == {f.rule for f in lint_paths([tmp_path]).findings}
