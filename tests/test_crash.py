"""Kills and races: temp files a killed write leaves are removed, and no editor's write is lost.

The long versions, with counts, are ``benchmarks/crash_fix.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conceptgraph import atomic, guard
from conceptgraph.api import lint_paths
from conceptgraph.lint.fix import fix_paths
from tests.crashing import COMMANDS, cli, crash_trials, edit_trials, make_vault, strays

# Seconds of kills per command: bounded, seeded, and still a dozen trials or more each.
_BUDGET_S = 10.0


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _temp_of(target: Path, pid: int, host: str | None = None) -> Path:
    name = atomic.temp_path(target).name
    left, _, rest = name.partition(".conceptgraph-")
    own_host, _, tail = rest.partition("-")
    tail = tail.partition("-")[2]
    temp = target.parent / f"{left}.conceptgraph-{host or own_host}-{pid}-{tail}"
    temp.write_bytes(b"half a note")
    return temp


# ---------------------------------------------------------------- recognising temp files


def test_a_temp_name_is_hidden_and_recognised_and_a_users_file_is_not(tmp_path: Path) -> None:
    temp = atomic.temp_path(tmp_path / "note.md")
    assert temp.name.startswith(".note.md.conceptgraph-") and temp.name.endswith(".tmp")
    assert atomic.is_temp_name(temp.name)
    for name in (".note.md.13c9ebe7.tmp", "note.md.conceptgraph-ab12-1-deadbeef.tmp", "x.md"):
        assert not atomic.is_temp_name(name), name


def test_a_very_long_name_still_gets_a_temp_file(tmp_path: Path) -> None:
    target = tmp_path / ("é" * 120 + ".md")  # 245 bytes: the limit is 255
    atomic.write_atomic(target, b"# Long\n")
    assert target.read_bytes() == b"# Long\n" and strays(tmp_path) == []


def test_the_next_run_removes_a_dead_writers_temp_files_and_says_so_once(
    tmp_path: Path,
) -> None:
    files = make_vault(tmp_path / "vault", 8)
    notes = sorted(files)
    dead = [_temp_of(note, _dead_pid()) for note in notes[:2]]
    live = _temp_of(notes[2], os.getpid())  # this test process is alive: a write going on
    elsewhere = _temp_of(notes[3], _dead_pid(), host="0000")  # made on another machine
    old = _temp_of(notes[4], _dead_pid(), host="0000")
    os.utime(old, (time.time() - 2 * atomic.ABANDONED_S,) * 2)
    mine = notes[5].with_name(".note-5.md.13c9ebe7.tmp")  # a user's file of another shape
    mine.write_bytes(b"mine")
    link = notes[6].with_name(notes[6].name + ".link")
    planted = _temp_of(notes[6], _dead_pid())
    planted.unlink()
    planted.symlink_to(link)
    done = subprocess.run(cli("lint", tmp_path / "vault"), capture_output=True, text=True)
    assert done.stderr.count("removed 3 temporary files left by a run that was killed") == 1
    assert all(name.name in done.stderr for name in dead[:1])
    assert not any(path.exists() for path in [*dead, old])
    assert live.exists() and elsewhere.exists() and mine.exists() and planted.is_symlink()
    # Never a note, whatever the command: the vault's notes are the eight made.
    assert len(lint_paths([tmp_path / "vault"]).vaults[0].notes) == 8
    again = subprocess.run(cli("lint", tmp_path / "vault"), capture_output=True, text=True)
    assert "temporary file" not in again.stderr


def test_a_write_outside_any_vault_removes_what_a_killed_one_left_beside_it(
    tmp_path: Path,
) -> None:
    make_vault(tmp_path / "vault", 3)
    out = tmp_path / "out"
    out.mkdir()
    left = _temp_of(out / "graph.ttl", _dead_pid())
    done = subprocess.run(
        cli("export", tmp_path / "vault", "-o", out / "graph.ttl"), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "removed 1 temporary file" in done.stderr and not left.exists()
    assert sorted(p.name for p in out.iterdir()) == ["graph.ttl"]


# ------------------------------------------------------------- killing the writing commands


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_killed_at_random_moments_every_file_is_old_or_new_and_nothing_is_left(
    tmp_path: Path, command: str
) -> None:
    counts = crash_trials(command, tmp_path, seed=29, budget_s=_BUDGET_S)
    assert counts.problems == []
    assert counts.trials >= 5, counts.line()


# ------------------------------------------------------------------- races with an editor


def _vault_with_one_fix(tmp_path: Path) -> tuple[Path, bytes, bytes]:
    files = make_vault(tmp_path / "vault", 2)
    note, other = sorted(files)
    other.write_bytes(files[other][1])  # fixed already: only ``note`` is written
    return note, *files[note]


@pytest.mark.parametrize("swap", ["exchange", "link and rename", "rename"])
def test_an_append_between_the_check_and_the_swap_is_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, swap: str
) -> None:
    note, old, _ = _vault_with_one_fix(tmp_path)
    real = guard.exchange
    swaps = []

    def racing(one: Path, other: Path) -> bool:
        if not swaps:
            with note.open("ab") as editor:  # an editor appends in the instant before the swap
                editor.write(b"appended by the editor\n")
        swaps.append(one)
        return real(one, other) if swap == "exchange" else False

    monkeypatch.setattr(guard, "exchange", racing)
    if swap == "rename":
        monkeypatch.setattr(guard.os, "link", _no_link)
    report, _ = fix_paths([tmp_path / "vault"], jobs=1)
    assert note.read_bytes() == old + b"appended by the editor\n"
    assert [s.path for s in report.skipped] == ["part-0/note-0.md"]
    assert "its bytes were put back, not fixed" in report.skipped[0].reason
    assert strays(tmp_path) == []


def _no_link(*args: object) -> None:
    raise OSError(1, "Operation not permitted")


def test_an_editors_save_between_the_check_and_the_swap_is_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    note, old, _ = _vault_with_one_fix(tmp_path)
    real = guard.exchange
    saved = old + b"saved by the editor\n"

    def racing(one: Path, other: Path) -> bool:
        if not racing.done:  # type: ignore[attr-defined]
            racing.done = True  # type: ignore[attr-defined]
            temp = note.with_name(".note-0.md.saving")
            temp.write_bytes(saved)
            os.replace(temp, note)
        return real(one, other)

    racing.done = False  # type: ignore[attr-defined]
    monkeypatch.setattr(guard, "exchange", racing)
    report, _ = fix_paths([tmp_path / "vault"], jobs=1)
    assert note.read_bytes() == saved
    assert "put back" in report.skipped[0].reason
    assert strays(tmp_path) == []


def test_a_late_append_to_the_replaced_file_and_one_to_the_new_are_both_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A writer that opened the note before the swap writes after it (to the replaced file),
    # and another opens it after the swap and appends (to the new file).
    note, old, _ = _vault_with_one_fix(tmp_path)
    early = os.open(note, os.O_WRONLY | os.O_APPEND)
    finish = guard.Guard.finish

    def late(self: guard.Guard) -> None:
        if self._held:
            os.write(early, b"late append\n")
            with note.open("ab") as after:
                after.write(b"after the swap\n")
        finish(self)

    monkeypatch.setattr(guard.Guard, "finish", late)
    try:
        report, _ = fix_paths([tmp_path / "vault"], jobs=1)
    finally:
        os.close(early)
    assert note.read_bytes() == old + b"late append\nafter the swap\n"
    assert "put back" in report.skipped[0].reason


def test_a_note_locked_by_another_run_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fcntl = pytest.importorskip("fcntl")
    note, old, _ = _vault_with_one_fix(tmp_path)
    monkeypatch.setattr(guard, "_LOCK_WAIT_S", 0.1)
    with note.open("rb") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX)
        report, _ = fix_paths([tmp_path / "vault"], jobs=1)
    assert note.read_bytes() == old
    assert [s.reason for s in report.skipped] == [guard.LOCKED]


@pytest.mark.slow
@pytest.mark.parametrize("style", ["append", "rename"])
def test_no_append_is_lost_while_fix_runs(tmp_path: Path, style: str) -> None:
    counts = edit_trials(style, tmp_path, seed=29, rounds=6, notes=150)
    assert counts.appends > 500, counts
    assert counts.lost == 0, counts
