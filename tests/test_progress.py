"""The progress bar: on a terminal's stderr for long text-format runs, and nowhere else."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import tempfile
import termios
from pathlib import Path

import pytest

from benchmarks.generate_vault import generate_vault
from conceptgraph.lint import parallel
from conceptgraph.progress import DELAY_ENV, Progress


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("progress") / "v"
    generate_vault(root, notes=450, seed=4)  # past the size that starts parse workers
    (root / "loose.md").write_text("# Loose\n\n[[nowhere]]\n")
    return root


def _lint(args: list[str], *, tty: bool, delay: str = "0") -> tuple[str, str]:
    """Run ``conceptgraph lint``; stderr on a pseudo-terminal if ``tty``. (stdout, stderr)."""
    env = {**os.environ, DELAY_ENV: delay, "CONCEPTGRAPH_CACHE": "0"}
    command = [sys.executable, "-m", "conceptgraph", "lint", *args]
    if not tty:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        return done.stdout, done.stderr
    main, terminal = pty.openpty()
    # A terminal of 24 rows and 100 columns: a new pty has 0 columns, where tqdm draws nothing.
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    # stdout to a file: a pipe nobody reads while the terminal is read would fill and stall.
    with tempfile.TemporaryFile() as out:
        run = subprocess.Popen(command, stdout=out, stderr=terminal, env=env)
        os.close(terminal)
        shown = bytearray()
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # EIO: the terminal's other end is closed, the run is over
                break
            if not chunk:
                break
            shown += chunk
        os.close(main)
        run.wait(timeout=120)
        out.seek(0)
        return out.read().decode(), shown.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def large_vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("progress") / "v"
    generate_vault(root, notes=parallel.MIN_NOTES + 50, seed=4)  # read and checked in shards
    (root / "loose.md").write_text("# Loose\n\n[[nowhere]]\n")
    return root


@pytest.mark.parametrize("size", ["pool", "shards"])
def test_a_terminal_shows_the_stages_and_stdout_stays_clean(
    size: str, request: pytest.FixtureRequest
) -> None:
    vault = request.getfixturevalue("vault" if size == "pool" else "large_vault")
    out, shown = _lint([str(vault)], tty=True)
    assert "Reading notes" in shown
    assert "Checking" in shown
    assert "Found 2 findings" in shown  # the summary still comes, after the bar is erased
    plain, _ = _lint([str(vault)], tty=False)
    assert out == plain
    assert "loose.md:3:1" in out


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
def test_machine_formats_never_get_a_bar(vault: Path, fmt: str) -> None:
    _, shown = _lint(["--format", fmt, str(vault)], tty=True)
    assert "Reading notes" not in shown
    assert "Checking" not in shown


def test_no_bar_when_stderr_is_not_a_terminal(vault: Path) -> None:
    _, err = _lint([str(vault)], tty=False)
    assert "Reading notes" not in err
    assert err.startswith("Found 2 findings")


def test_quiet_means_no_bar(vault: Path) -> None:
    _, shown = _lint(["--quiet", str(vault)], tty=True)
    assert shown == ""


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_run_shorter_than_the_delay_draws_nothing() -> None:
    stream = _Terminal()
    bar = Progress(stream, delay=3600)
    bar.stage("Reading notes", 10)
    bar.advance(10)
    bar.close()
    assert stream.getvalue() == ""
    bar = Progress(stream, delay=0)
    bar.stage("Reading notes", 10)
    bar.advance(4)
    assert "Reading notes" in stream.getvalue()
    assert "4/10" in stream.getvalue()
    bar.close()
