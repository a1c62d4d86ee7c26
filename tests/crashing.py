"""Killing conceptgraph's writing commands, and editing notes under a running ``--fix``.

Shared by ``tests/test_crash.py`` (bounded, seeded) and ``benchmarks/crash_fix.py`` (long runs
that print counts). Everything runs the real CLI in a child process on real files.

- ``crash_trials`` kills one writing command (SIGKILL, after a seeded random delay) again and
  again, and after each kill checks that every file it writes holds its old bytes or its new
  ones, then runs the command again and checks that it finishes the job, says once that it
  removed the temp files the killed run left, and that none remains anywhere.
- ``edit_trials`` runs ``lint --fix`` while an editor appends lines to the notes (in place,
  ``O_APPEND``, or by temp file and rename as editors save), and counts the appended lines
  missing from the notes afterwards.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from conceptgraph.atomic import is_temp_name

# Each note has two fixes a single pass makes (a stray CRLF, mojibake): one run fixes all.
_NOTE = "# Note {i}\n\nSee [[note-{j}]].\r\nA \u00e2\u2020\u2019 B, the step {i}.\n"
_FIXED = "# Note {i}\n\nSee [[note-{j}]].\nA \u2192 B, the step {i}.\n"
_DIAGRAM = "# Diagrams\n\n<!-- conceptgraph:diagram -->\n<!-- /conceptgraph -->\n"
COMMANDS = ("lint --fix", "render", "export -o", "lint --cache")


def make_vault(root: Path, notes: int) -> dict[Path, tuple[bytes, bytes]]:
    """A vault of ``notes`` fixable notes (in a few folders); each path's (old, fixed) bytes."""
    files = {}
    for i in range(notes):
        folder = root / f"part-{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        old = _NOTE.format(i=i, j=(i + 1) % notes).encode()
        new = _FIXED.format(i=i, j=(i + 1) % notes).encode()
        files[folder / f"note-{i}.md"] = (old, new)
    for path, (old, _) in files.items():
        path.write_bytes(old)
    return files


def strays(root: Path) -> list[Path]:
    """Every temp file of conceptgraph's under ``root``, hidden folders included."""
    found = []
    for folder, _, names in os.walk(root):
        found.extend(Path(folder) / name for name in names if is_temp_name(name))
        found.extend(Path(folder) / name for name in names if name.endswith(".tmp"))
    return sorted(set(found))


def _all_strays(*roots: Path) -> list[Path]:
    return sorted({path for root in roots for path in strays(root)})


def cli(*args: str | Path) -> list[str]:
    """The command line that runs conceptgraph with these arguments."""
    return [sys.executable, "-m", "conceptgraph", *map(str, args)]


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "CONCEPTGRAPH_CACHE_DIR": str(cache)}


@dataclass
class CrashCounts:
    """What the kills of one command did."""

    command: str
    trials: int = 0
    killed_mid_write: int = 0  # kills that left the files half done (some old, some new)
    strays_left: int = 0  # temp files a kill left in place, over all trials
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line of the benchmark's table."""
        return (
            f"{self.command:12} trials {self.trials:4}  mid-write {self.killed_mid_write:4}  "
            f"temp files left by kills {self.strays_left:4}  problems {len(self.problems)}"
        )


@dataclass
class _Setup:
    root: Path
    run: list[str]  # the command killed, and run again to finish the job
    files: dict[Path, tuple[bytes, bytes | None]]  # None: whatever, once whole (an export)
    reset: Callable[[], None]
    check_again: Callable[[], str | None] = lambda: None


def _setup(command: str, work: Path, notes: int) -> _Setup:
    vault = work / "vault"
    files = make_vault(vault, notes)
    written: dict[Path, tuple[bytes, bytes | None]] = dict(files)

    def reset() -> None:
        for path, (old, _) in files.items():
            path.write_bytes(old)

    if command == "lint --fix":
        return _Setup(vault, cli("lint", vault, "--fix", "-q", "-j", "1"), written, reset)
    if command == "render":
        docs = work / "docs"
        docs.mkdir()
        pages = [docs / f"page-{n}.md" for n in range(20)]
        for page in pages:
            page.write_text(_DIAGRAM, encoding="utf-8")
        subprocess.run(cli("render", *pages, "--vault", vault), check=True, capture_output=True)
        done = {page: (_DIAGRAM.encode(), page.read_bytes()) for page in pages}

        def reset_pages() -> None:
            for page, (old, _) in done.items():
                page.write_bytes(old)

        run = cli("render", *pages, "--vault", vault, "-q")
        return _Setup(docs, run, dict(done), reset_pages)
    if command == "export -o":
        out = work / "out"
        out.mkdir()
        target = out / "vault.ttl"
        target.write_bytes(b"# an older export\n")
        first = subprocess.run(cli("export", vault), check=True, capture_output=True).stdout
        return _Setup(
            out,
            cli("export", vault, "-o", target),
            {target: (b"# an older export\n", first)},
            lambda: target.write_bytes(b"# an older export\n"),
        )
    if command == "lint --cache":
        expected = subprocess.run(
            cli("lint", vault, "--format", "json", "--no-cache"), capture_output=True, check=False
        ).stdout

        def same_findings() -> str | None:
            again = subprocess.run(
                cli("lint", vault, "--format", "json", "--cache"),
                capture_output=True,
                env=_env(work / "cache"),
                check=False,
            )
            return None if again.stdout == expected else "cached findings differ after a kill"

        def drop_cache() -> None:
            subprocess.run(["rm", "-rf", str(work / "cache")], check=True)

        # The notes are only read: they must stay their old bytes.
        kept = {path: (old, old) for path, (old, _) in files.items()}
        run = cli("lint", vault, "--cache", "-q")
        return _Setup(work / "cache", run, dict(kept), drop_cache, same_findings)
    raise ValueError(command)


def crash_trials(
    command: str, work: Path, seed: int, budget_s: float, notes: int = 120, most: int = 1000
) -> CrashCounts:
    """Kill ``command`` at seeded random moments until ``budget_s`` is spent; the counts."""
    rng = random.Random(seed)
    setup = _setup(command, work, notes)
    env = _env(work / "cache")
    # How long one run takes: kills are spread over it, and a little past its end.
    setup.reset()
    began = time.monotonic()
    subprocess.run(setup.run, capture_output=True, env=env, check=False)
    span = time.monotonic() - began
    counts = CrashCounts(command)
    end = time.monotonic() + budget_s
    while time.monotonic() < end and counts.trials < most:
        counts.trials += 1
        setup.reset()
        child = subprocess.Popen(
            setup.run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        time.sleep(rng.uniform(0.0, span * 1.1))
        child.send_signal(signal.SIGKILL)
        child.wait()
        states = set()
        for path, (old, new) in setup.files.items():
            now = path.read_bytes() if path.exists() else None
            if now == old:
                states.add("old")
            elif now == new or (new is None and now):
                states.add("new")
            else:
                counts.problems.append(f"trial {counts.trials}: {path.name} is neither old nor new")
        if states == {"old", "new"}:
            counts.killed_mid_write += 1
        left = _all_strays(setup.root, work / "vault")
        counts.strays_left += len(left)
        again = subprocess.run(setup.run, capture_output=True, text=True, env=env, check=False)
        if again.returncode not in (0, 1):
            counts.problems.append(f"trial {counts.trials}: the next run failed: {again.stderr}")
        said = again.stderr.count("temporary file")
        if left and said != 1:
            counts.problems.append(f"trial {counts.trials}: {len(left)} left, said {said} times")
        remaining = _all_strays(setup.root, work / "vault")
        if remaining:
            counts.problems.append(f"trial {counts.trials}: still there: {remaining}")
        for path, (_, new) in setup.files.items():
            if new is not None and path.read_bytes() != new:
                counts.problems.append(f"trial {counts.trials}: {path.name} not finished")
        problem = setup.check_again()
        if problem is not None:
            counts.problems.append(f"trial {counts.trials}: {problem}")
    return counts


@dataclass
class EditCounts:
    """What the editors wrote while ``--fix`` ran, and what of it was lost."""

    style: str
    rounds: int = 0
    appends: int = 0
    lost: int = 0
    not_fixed: int = 0  # notes --fix reported it left alone because they changed
    put_back: int = 0  # of them, notes a racing write was put back in


def _editor(
    style: str,
    notes: list[Path],
    rng: random.Random,
    stop: threading.Event,
    tag: str,
    made: list[tuple[Path, bytes]],
) -> None:
    """Append lines to random notes until ``stop``; each (note, line) appended goes in ``made``."""
    number = 0
    while not stop.is_set():
        note = rng.choice(notes)
        line = f"appended {tag}-{number}\n".encode()
        number += 1
        if style == "append":
            fd = os.open(note, os.O_WRONLY | os.O_APPEND)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        else:
            # As editors save: read, write the whole text to a temp file, rename it over.
            # (An editor that does this with no lock can still lose a write of another
            # editor's, but not one of conceptgraph's: that is what is counted.)
            text = note.read_bytes()
            temp = note.with_name(f".{note.name}.{tag}.saving")
            temp.write_bytes(text + line)
            os.replace(temp, note)
        made.append((note, line))
        time.sleep(rng.uniform(0.0, 0.002))


def edit_trials(style: str, work: Path, seed: int, rounds: int, notes: int = 200) -> EditCounts:
    """``rounds`` runs of ``lint --fix`` against an editor of ``style``; the counts."""
    rng = random.Random(seed)
    counts = EditCounts(style)
    vault = work / "vault"
    files = make_vault(vault, notes)
    paths = sorted(files)
    env = _env(work / "cache")
    for round_ in range(rounds):
        for path, (old, _) in files.items():
            path.write_bytes(old)
        stop = threading.Event()
        made: list[tuple[Path, bytes]] = []
        thread = threading.Thread(
            target=_editor,
            args=(style, paths, random.Random(rng.random()), stop, f"r{round_}", made),
        )
        fix = subprocess.Popen(
            cli("lint", vault, "--fix", "-q", "-j", "1"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        thread.start()
        _, err = fix.communicate()
        stop.set()
        thread.join()
        counts.rounds += 1
        counts.appends += len(made)
        counts.not_fixed += err.count("not fixed")
        counts.put_back += err.count("bytes were put back")
        texts = {path: path.read_bytes() for path in paths}
        counts.lost += sum(1 for note, line in made if line not in texts[note])
    return counts
