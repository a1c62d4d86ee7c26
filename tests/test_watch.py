"""`conceptgraph lint --watch`: polling for changes, and the real command as a subprocess."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from conceptgraph.watch import changed, changes, snapshot, watch_roots
from tests.conftest import write_vault
from tests.test_cli import run

TIMEOUT = 30.0


def test_snapshot_skips_hidden_files_and_folders(tmp_path: Path) -> None:
    write_vault(
        tmp_path, {"a.md": "a", "sub/b.png": "b", ".obsidian/app.json": "{}", ".hidden.md": ""}
    )
    assert sorted(p.relative_to(tmp_path).as_posix() for p in snapshot([tmp_path])) == [
        "a.md",
        "sub/b.png",
    ]


def test_changed_sees_added_removed_and_modified(tmp_path: Path) -> None:
    write_vault(tmp_path, {"a.md": "a", "b.md": "b"})
    before = snapshot([tmp_path])
    (tmp_path / "a.md").write_text("a longer text", encoding="utf-8")
    (tmp_path / "b.md").unlink()
    (tmp_path / "c.md").write_text("c", encoding="utf-8")
    assert {p.name for p in changed(before, snapshot([tmp_path]))} == {"a.md", "b.md", "c.md"}


def test_changes_yields_a_burst_once(tmp_path: Path) -> None:
    write_vault(tmp_path, {"a.md": "a"})
    # Each poll is a call of `sleep`: the test edits the vault between polls, no real waiting.
    edits: list[Callable[[], None]] = [
        lambda: None,  # first poll: nothing changed
        lambda: (tmp_path / "a.md").write_text("aa", encoding="utf-8"),
        lambda: (tmp_path / "b.md").write_text("b", encoding="utf-8"),  # the burst goes on
        lambda: None,  # settled
    ]

    def sleep(_: float) -> None:
        if edits:
            edits.pop(0)()

    found = next(changes([tmp_path], sleep=sleep))
    assert {p.name for p in found} == {"a.md", "b.md"}
    assert edits == []


def test_watch_roots_are_vaults(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "v", {".obsidian/app.json": "{}", "sub/a.md": "# A\n"})
    assert watch_roots([vault / "sub" / "a.md", vault]) == [vault.resolve()]


def test_watch_with_fix_is_a_usage_error(tmp_path: Path) -> None:
    write_vault(tmp_path, {"a.md": "# A\n"})
    result = run("lint", "--watch", "--fix", tmp_path)
    assert result.returncode == 2
    assert "--watch cannot be used with --fix" in result.stderr


def test_watch_of_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = run("lint", "--watch", tmp_path / "nope")
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr


class Lines:
    """The lines a running process writes to one stream, readable with a timeout."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)

    def wait_for(self, text: str, timeout: float = TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line with {text!r} within {timeout}s: {self.seen}")
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_watch_lints_again_after_each_change(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "vault", {"a.md": "# A\n\n[[b]]\n", "b.md": "# B\n\n[[a]]\n"})
    process = subprocess.Popen(
        [sys.executable, "-m", "conceptgraph", "lint", "--watch", str(vault)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        out, err = Lines(process.stdout), Lines(process.stderr)
        err.wait_for("Watching")
        err.wait_for("No findings in 2 notes.")

        (vault / "a.md").write_text("# A\n\n[[b]] and [[nowhere]]\n", encoding="utf-8")
        err.wait_for("Changed: a.md; linting again.")
        line = out.wait_for("broken-link")
        assert line.startswith("a.md:3:11: error broken-link ")
        err.wait_for("Found 1 finding")

        # A broken config is reported, and the watch goes on.
        (vault / "conceptgraph.toml").write_text("bogus = 1\n", encoding="utf-8")
        err.wait_for("bogus")
        (vault / "conceptgraph.toml").write_text('ignore = ["broken-link"]\n', encoding="utf-8")
        err.wait_for("No findings in 2 notes.")

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=TIMEOUT) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT)


def test_a_report_written_into_the_vault_is_not_a_change(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "vault", {"a.md": "# A\n\n[[nowhere]]\n"})
    report = vault / "report.txt"
    process = subprocess.Popen(
        [sys.executable, "-m", "conceptgraph", "lint", "--watch", "-o", str(report), str(vault)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    try:
        err = Lines(process.stderr)
        err.wait_for("Found 2 findings")
        assert "broken-link" in report.read_text(encoding="utf-8")
        # Four polls and more: had the report counted, it would have been linted again by now.
        with pytest.raises(AssertionError, match="no line with"):
            err.wait_for("Changed:", timeout=2.5)
        (vault / "a.md").write_text("# A\n", encoding="utf-8")
        err.wait_for("Changed: a.md; linting again.")
        err.wait_for("Found 1 finding (1 info)")  # orphan-note
        assert "broken-link" not in report.read_text(encoding="utf-8")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
