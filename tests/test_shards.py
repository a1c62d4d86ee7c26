"""A first run in keeping workers: the findings of a run without the cache, and a cache as good.

On a first run over at least ``parallel.MIN_NOTES`` notes, the workers that read the notes check
them too, and this process holds what rules read of other notes alone. Here the threshold is
lowered so that every fixture vault goes that way, and each run is compared, finding for
finding, with ``lint`` over the whole vault in one process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import resource
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from benchmarks.generate_vault import generate_vault
from conceptgraph.api import lint_paths
from conceptgraph.config import load_config
from conceptgraph.errors import WorkerLostError
from conceptgraph.lint import cache as cache_module
from conceptgraph.lint import engine, parallel
from conceptgraph.lint.cache import CACHE_DIR_ENV, LintCache
from conceptgraph.lint.fix import plan_fixes
from conceptgraph.lint.incremental import lint_cached
from conceptgraph.model import NoteRecord
from conceptgraph.note.parse import parse_note
from conceptgraph.vault.discovery import discover
from tests.conftest import FIXTURES, write_vault
from tests.test_cache import FIXTURE_VAULTS, Whole, _age, _uncached, _whole

MIGRATION = FIXTURES / "text" / "mojibake" / "migration.md"  # the user's note, damage and all


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "caches"
    monkeypatch.setenv(CACHE_DIR_ENV, str(folder))
    return folder


def _first(root: Path, jobs: int = 2) -> list[Whole]:
    return _whole(lint_paths([root], jobs=jobs, cache=True).findings)


@pytest.mark.parametrize("vault", FIXTURE_VAULTS, ids=lambda p: p.name)
def test_fixture_vaults(vault: Path, sharded: list[int], own_cache: Path) -> None:
    expected = _uncached(vault)  # one job: read and checked in this process
    assert _first(vault) == expected
    assert len(sharded) == 1
    # The cache it wrote answers the next run, which reads nothing.
    assert _first(vault) == expected
    assert len(sharded) == 1
    shutil.rmtree(own_cache)
    # Without the cache, the same workers.
    assert _uncached(vault, jobs=2) == expected
    assert len(sharded) == 2


def test_the_hostile_vault(hostile_vault: Path, sharded: list[int]) -> None:
    expected = _uncached(hostile_vault)
    assert _first(hostile_vault) == expected
    assert len(sharded) == 1
    assert _first(hostile_vault) == expected


def test_what_rules_read_of_other_notes(tmp_path: Path, sharded: list[int]) -> None:
    # Each finding below depends on a part of another note that workers see only as
    # seen_by_others: frontmatter links, headings, block ids, and directives that silence.
    notes = {
        "main.md": "---\ncanonical: true\n---\n# Main\n\n## What this is NOT\n\n"
        "- Not a variant (it is one of ours).\n\nA paragraph. ^kept\n",
        "variant.md": '---\ncanonical: false\ncanonical_of: "[[main]]"\n---\n# Variant\n',
        "linker.md": "# Linker\n\n[[variant]], [[main#Main]], [[main#Gone]], [[main#^kept]],"
        " [[main#^gone]]\n",
        "quiet.md": "<!-- conceptgraph-disable-file -->\n# Quiet\n\n[[nowhere]]\n",
        "half.md": "# Half\n\n<!-- conceptgraph-disable broken-link -->\n[[nowhere]]\n"
        "<!-- conceptgraph-enable broken-link -->\n[[nowhere either]]\n",
    }
    root = write_vault(tmp_path / "v", notes)
    expected = _uncached(root)
    rules = {f[5] for f in expected}
    assert {"link-to-non-canonical", "negation-contradicts-canonical"} <= rules
    assert {"broken-heading", "broken-block-ref", "broken-link"} <= rules
    assert not any(f[0] == "quiet.md" for f in expected)
    assert _first(root, jobs=len(notes)) == expected
    assert len(sharded) == 1


def _other_notes_vault(root: Path) -> Path:
    """A vault whose findings depend on what workers see of each other's notes."""
    return write_vault(
        root,
        {
            "main.md": "---\ncanonical: true\n---\n# Main\n\nA paragraph. ^kept\n",
            "variant.md": '---\ncanonical: false\ncanonical_of: "[[main]]"\n---\n# Variant\n',
            **{
                f"linker{n}.md": "# L\n\n[[variant]] [[main#Gone]] [[main#^gone]]\n"
                for n in range(4)
            },
        },
    )


def _seen_files_open() -> list[str]:
    """The workers' files of notes as others see them that this process holds open."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor, closed since
            link = os.readlink(f"/proc/self/fd/{fd}")
            if "conceptgraph-seen" in link:
                found.append(link)
    return found


def test_workers_see_each_other_s_notes_and_the_files_for_it_are_let_go(
    tmp_path: Path, sharded: list[int]
) -> None:
    root = _other_notes_vault(tmp_path / "v")
    expected = _uncached(root)
    assert {"link-to-non-canonical", "broken-heading", "broken-block-ref"} <= {
        f[5] for f in expected
    }
    for _ in range(3):
        assert _uncached(root, jobs=3) == expected
        # A long-running process (serve, --watch) must not gather open files run by run.
        assert _seen_files_open() == []
    assert len(sharded) == 3


def _no_memfd(name: str, flags: int = 0) -> int:
    raise PermissionError(1, "Operation not permitted")  # as a seccomp sandbox answers


def test_without_files_in_memory_workers_share_through_a_temporary_file(
    tmp_path: Path, sharded: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _other_notes_vault(tmp_path / "v")
    expected = _uncached(root)
    monkeypatch.setattr(os, "memfd_create", _no_memfd)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR is read again
    assert _uncached(root, jobs=2) == expected
    assert len(sharded) == 1
    assert list((tmp_path / "tmp").iterdir()) == []  # unlinked as soon as made
    assert _seen_files_open() == []


def _cramped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> int:
    """Workers that cannot write what others see of their notes; the runs that try them."""
    work = parallel._work

    def cramped(conn: Connection, index: int) -> None:
        # The kernel refuses to write past a few bytes, as when memory or the disk is full.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16, 16))
        work(conn, index)

    monkeypatch.setattr(parallel, "_work", cramped)
    return 2  # the run without the cache, and the first with it


def _no_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> int:
    """No file in memory, and no temporary folder; no worker is started."""
    monkeypatch.setattr(os, "memfd_create", _no_memfd)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))  # TMPDIR, removed
    return 0


@pytest.mark.parametrize("hinder", [_cramped, _no_file], ids=["cannot-write", "no-file"])
def test_when_workers_cannot_share_their_notes_the_run_goes_on_in_this_process(
    tmp_path: Path,
    sharded: list[int],
    monkeypatch: pytest.MonkeyPatch,
    hinder: Callable[[pytest.MonkeyPatch, Path], int],
) -> None:
    root = _other_notes_vault(tmp_path / "v")
    expected = _uncached(root)
    tried = hinder(monkeypatch, tmp_path)
    assert _uncached(root, jobs=2) == expected
    assert _first(root) == expected  # a first run, which writes the cache
    assert len(sharded) == tried
    assert _first(root) == expected  # and the cache it wrote answers as well
    assert _seen_files_open() == []


@pytest.fixture
def packed(monkeypatch: pytest.MonkeyPatch, sharded: list[int]) -> list[int]:
    """As ``sharded``, and every worker keeps its notes packed, as in a vault of 30,000."""
    monkeypatch.setattr(parallel, "PACKED_FROM", 1)
    return sharded


@pytest.mark.parametrize("vault", FIXTURE_VAULTS, ids=lambda p: p.name)
def test_fixture_vaults_kept_packed(vault: Path, packed: list[int]) -> None:
    assert _first(vault) == _uncached(vault)
    assert len(packed) == 1


def test_the_hostile_vault_kept_packed(hostile_vault: Path, packed: list[int]) -> None:
    assert _first(hostile_vault) == _uncached(hostile_vault)
    assert len(packed) == 1


def test_what_rules_read_of_notes_kept_packed(tmp_path: Path, packed: list[int]) -> None:
    # Two workers: the notes a rule looks up are mostly the worker's own, packed, and not
    # in the batch being checked (a note a batch).
    notes = {
        "main.md": "---\ncanonical: true\n---\n# Main\n\n## What this is NOT\n\n"
        "- Not a variant (it is one of ours).\n\nA paragraph. ^kept\n\n[[#Main]] [[#Gone]]\n",
        "variant.md": '---\ncanonical: false\ncanonical_of: "[[main]]"\n---\n# Variant\n',
        **{
            f"linker{n}.md": f"# Linker {n}\n\n[[variant]], [[main#Main]], [[main#Gone]],"
            " [[main#^kept]], [[main#^gone]], [[Linker 1]]\n"
            for n in range(4)
        },
    }
    root = write_vault(tmp_path / "v", notes)
    expected = _uncached(root)
    assert {"link-to-non-canonical", "broken-heading", "broken-block-ref"} <= {
        f[5] for f in expected
    }
    assert _first(root) == expected
    assert len(packed) == 1


def test_from_packed_from_notes_on_workers_keep_their_notes_packed(
    tmp_path: Path, sharded: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def pack(self: object, path: str) -> None:
        raise RuntimeError(f"packing {path}")

    monkeypatch.setattr(parallel._Kept, "pack", pack)  # called in the workers alone
    root = write_vault(tmp_path / "v", {"a.md": "# A\n", "b.md": "# B\n"})
    assert _first(root) == _uncached(root)  # two notes: kept whole
    monkeypatch.setattr(parallel, "PACKED_FROM", 2)
    with pytest.raises(parallel.WorkerError, match="packing"):
        lint_paths([root], jobs=2, cache=False)


def test_an_own_note_kept_packed_is_whole_while_checked_and_seen_as_others_see_it() -> None:
    record = parse_note("migration.md", MIGRATION.read_bytes())
    kept = parallel._Kept(["migration.md", "other.md"])
    kept["migration.md"] = record
    assert kept["migration.md"] is record
    kept.pack("migration.md")
    with kept.unpacking(["migration.md"]) as [whole]:
        assert whole == record
        assert kept["migration.md"] is whole
    assert kept["migration.md"] == parallel.seen_by_others(record)
    assert kept["migration.md"] is kept["migration.md"]  # unpacked once


def _vault_of_findings(root: Path, notes: int) -> None:
    generate_vault(root, notes=notes, seed=5)
    for number, note in enumerate(sorted(root.rglob("*.md"))):
        note.write_bytes(note.read_bytes() + f"\n[[nowhere {number}]]\n".encode())
    (root / "loose.md").write_text(
        "---\naliases: [Loose]\n---\n# Loose\n\n[[nowhere]] and [[Loose#No such heading]]\n"
    )
    _age(root)


def test_a_generated_vault_then_edits(tmp_path: Path) -> None:
    # At the real threshold: a vault as large as the ones keeping workers are for.
    root = tmp_path / "v"
    _vault_of_findings(root, parallel.MIN_NOTES + 50)
    expected = _uncached(root)
    assert len({f[0] for f in expected}) > parallel.MIN_NOTES
    config = load_config(root)
    first = lint_cached(root.resolve(), config, jobs=2)
    assert _whole(first.findings) == expected
    assert first.read == first.checked == parallel.MIN_NOTES + 51
    # What it cached stands: a second run reads nothing, and an edit reads one note.
    again = lint_cached(root.resolve(), config, jobs=2)
    assert (again.read, _whole(again.findings)) == (0, expected)
    edited = sorted(root.rglob("*.md"))[7]
    edited.write_bytes(edited.read_bytes() + b"\n[[loose]] [[also nowhere]]\n")
    after = lint_cached(root.resolve(), config, jobs=2)
    # The edited note is checked; the notes its links lead to are read for their headings.
    assert after.checked == 1
    assert after.read < 50
    assert _whole(after.findings) == _uncached(root)


def test_a_gathering_that_raises_is_that_rule_s_finding(
    tmp_path: Path, sharded: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(note: NoteRecord, vault: object) -> object:
        if note.path.startswith("b"):
            raise ValueError(f"cannot gather {note.path}")
        return ()

    orphan = engine.REGISTRY["dependency-cycle"]
    monkeypatch.setitem(engine.REGISTRY, orphan.name, dataclasses.replace(orphan, gather=broken))
    names = ("a", "b2", "b1", "c")
    root = write_vault(tmp_path / "v", {f"{n}.md": f"# {n}\n\n[[nowhere]]\n" for n in names})
    expected = _uncached(root)
    crashes = [f for f in expected if f[5] == "dependency-cycle"]
    assert len(crashes) == 1 and "cannot gather b1.md" in str(crashes[0][7])
    assert _first(root) == expected
    assert len(sharded) == 1


def test_a_note_written_after_a_worker_read_it_is_read_again(
    tmp_path: Path, sharded: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stamp a first run caches for a note is the file's as the worker read it. Taken any
    # later, it would vouch for bytes no rule has seen.
    root = write_vault(tmp_path / "v", {f"{n}.md": f"# {n}\n\n[[b]]\n" for n in "abc"})
    _age(root)
    edited, done = root / "a.md", tmp_path / "edited"
    rule = engine.all_rules()["dependency-cycle"]
    gather = rule.gather
    assert gather is not None

    def writing(note: NoteRecord, vault: object) -> object:
        # In the worker, just after it read a.md: once, whichever process that is.
        if note.path == "a.md" and not done.exists():
            done.touch()
            aged = edited.stat().st_mtime_ns
            edited.write_bytes(edited.read_bytes() + b"\n[[nowhere]]\n")
            os.utime(edited, ns=(0, aged))  # as old as before: only the size tells
        return gather(note, vault)  # type: ignore[arg-type]

    monkeypatch.setitem(engine.REGISTRY, rule.name, dataclasses.replace(rule, gather=writing))
    first = lint_cached(root.resolve(), load_config(root), jobs=2)
    assert (len(sharded), first.read) == (1, 3)
    assert not [f for f in first.findings if "nowhere" in f.message]
    again = lint_cached(root.resolve(), load_config(root), jobs=2)
    assert again.read == 1  # a.md; the others' stamps are theirs as read
    assert [f.path for f in again.findings if "nowhere" in f.message] == ["a.md"]
    assert _whole(again.findings) == _uncached(root)


# Python run before a command: the process a first run writes its cache in (``write_apart``)
# waits until the file GO exists before it writes.
_WRITER_WAITS = """
import pathlib, time
from conceptgraph.lint.cache import LintCache
go, write = pathlib.Path(GO), LintCache._write_begun
def waiting(self, *args):
    while not go.exists():
        time.sleep(0.01)
    return write(self, *args)
LintCache._write_begun = waiting
"""


@pytest.fixture
def held_writer(tmp_path: Path) -> Iterator[Path]:
    """The file that lets a first run's cache writer write; made at the end in any case."""
    go = tmp_path / "go"
    saved = LintCache._write_begun
    exec(_WRITER_WAITS.replace("GO", repr(str(go))), {})
    try:
        yield go
    finally:
        go.touch()  # any writer still waiting writes, and ends
        LintCache._write_begun = saved  # type: ignore[method-assign]


def _cached_notes(cache_folder: Path) -> int:
    [path] = cache_folder.rglob("lint.sqlite3")
    with contextlib.closing(sqlite3.connect(path)) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM notes").fetchone()
    return int(count)


def test_a_first_run_does_not_wait_for_its_cache_and_the_next_run_does(
    tmp_path: Path,
    sharded: list[int],
    held_writer: Path,
    own_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The next run waits for the writer longer than for a lock: at 100,000 notes the rows
    # take as long to write as SQLite's busy timeout.
    monkeypatch.setattr(cache_module, "_BUSY_TIMEOUT_S", 0.1)
    root = write_vault(tmp_path / "v", {f"{n}.md": f"# {n}\n\n[[nowhere]]\n" for n in "abc"})
    _age(root)
    config = load_config(root)
    first = lint_cached(root.resolve(), config, jobs=2)
    assert (len(sharded), first.read) == (1, 3)
    assert first.findings
    assert _cached_notes(own_cache) == 0  # the run is over; its writer waits
    # A run started while the writer still writes waits for it, and reads nothing.
    threading.Timer(0.3, held_writer.touch).start()
    again = lint_cached(root.resolve(), config, jobs=2)
    assert again.read == 0
    assert _whole(again.findings) == _whole(first.findings)
    assert _cached_notes(own_cache) == 3


def test_the_cache_writer_holds_neither_the_output_nor_the_process_group(
    tmp_path: Path, own_cache: Path
) -> None:
    # A tool that reads the command's output to its end (pre-commit, a shell's $(...)), or
    # ends its process group once it exits, must neither wait for the writer nor end it.
    root = tmp_path / "v"
    generate_vault(root, notes=parallel.MIN_NOTES, seed=3)
    _age(root)
    go = tmp_path / "go"
    command = _WRITER_WAITS.replace("GO", repr(str(go))) + (
        "from conceptgraph.cli import main\n"
        f"main(['lint', {str(root)!r}, '--format', 'json', '--jobs', '2'])\n"
    )
    # A pipe handed down by whoever started the command, beside its output.
    handed_read, handed = os.pipe()
    run = subprocess.Popen(
        [sys.executable, "-c", command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        pass_fds=(handed,),
    )
    os.close(handed)
    try:
        out, err = run.communicate(timeout=60)
        assert run.returncode in (0, 1), err
        assert json.loads(out) is not None
        assert select.select([handed_read], [], [], 10)[0], "the handed pipe is still open"
        assert os.read(handed_read, 1) == b""
        assert _cached_notes(own_cache) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)
        go.touch()  # the writer, if it lives, writes and ends
        os.close(handed_read)
    again = lint_cached(root.resolve(), load_config(root), jobs=2)
    assert again.read == 0


@pytest.mark.parametrize("cache", [True, False], ids=["first run", "no cache"])
def test_a_fix_after_a_run_in_workers_reads_the_note_again(
    tmp_path: Path, sharded: list[int], cache: bool
) -> None:
    root = tmp_path / "v"
    root.mkdir()
    shutil.copy(MIGRATION, root / "migration.md")
    (root / "other.md").write_text("# Other\n\n[[migration]]\n")
    result = lint_paths([root], jobs=2, cache=cache)
    assert result.notes == 2
    assert len(sharded) == 1
    report = plan_fixes(result)
    [change] = report.files
    assert change.path == "migration.md"
    assert change.before == parse_note("migration.md", MIGRATION.read_bytes()).text
    assert "mojibake" in change.rules


def test_what_other_notes_see_is_enough_for_every_rule() -> None:
    # Note rules read the name, frontmatter, headings, block ids and frontmatter links of
    # other notes, and directives silence findings: all kept. The rest is dropped.
    record = parse_note("migration.md", MIGRATION.read_bytes())
    seen = parallel.seen_by_others(record)
    assert record.links and record.list_items and record.sections
    assert (seen.frontmatter, seen.headings, seen.block_ids) == (
        record.frontmatter,
        record.headings,
        record.block_ids,
    )
    assert (seen.directives, seen.decoded, seen.digest) == (
        record.directives,
        record.decoded,
        record.digest,
    )
    assert seen.links == tuple(k for k in record.links if k.frontmatter_key is not None)
    assert (seen.text, seen.sections, seen.list_items) == ("", (), ())


def test_a_worker_s_own_bug_is_an_error_not_a_hang(
    tmp_path: Path, sharded: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def gather(vault: object, note: object) -> object:
        raise RuntimeError("a bug in the worker")

    monkeypatch.setattr(parallel, "_gather", gather)  # called in the workers alone
    root = tmp_path / "v"
    root.mkdir()
    (root / "a.md").write_text("# A\n")
    with pytest.raises(parallel.WorkerError, match="a bug in the worker"):
        lint_paths([root], jobs=2, cache=True)


@pytest.mark.parametrize(
    ("end", "said"),
    [
        (lambda: os._exit(3), "exit status 3"),
        (lambda: os.kill(os.getpid(), signal.SIGKILL), "killed by signal 9, perhaps for want"),
    ],
    ids=["exits", "killed"],
)
def test_a_worker_that_ends_is_an_error_that_says_how(
    tmp_path: Path,
    sharded: list[int],
    monkeypatch: pytest.MonkeyPatch,
    end: Callable[[], None],
    said: str,
) -> None:
    # As the kernel's out-of-memory killer would end it, in the middle of the run.
    monkeypatch.setattr(parallel, "_gather", lambda vault, note: end())
    root = write_vault(tmp_path / "v", {"a.md": "# A\n", "b.md": "# B\n"})
    with pytest.raises(WorkerLostError, match=said):
        lint_paths([root], jobs=2, cache=True)


def test_one_job_or_a_foreign_rule_reads_in_this_process() -> None:
    rules = list(engine.all_rules().values())
    assert parallel.usable(rules, parallel.MIN_NOTES, jobs=2)
    assert not parallel.usable(rules, parallel.MIN_NOTES - 1, jobs=2)
    assert not parallel.usable(rules, parallel.MIN_NOTES, jobs=1)
    foreign = dataclasses.replace(rules[0], check=lambda note, vault: iter(()))
    foreign.check.__module__ = "someone_elses_rules"
    assert not parallel.usable([*rules, foreign], parallel.MIN_NOTES, jobs=2)


def test_a_worker_told_not_to_share_reads_no_other_note(tmp_path: Path, sharded: list[int]) -> None:
    root = write_vault(tmp_path / "v", {"a.md": "# A\n", "b.md": "# B\n"})
    config = load_config(root)
    found = discover(root, config)
    alone = parallel.reading(root, config, found, (), 2, share=False)
    unsent = pytest.raises(parallel.WorkerError, match="a note this worker was not sent")
    with alone as (workers, _, vault), unsent:
        workers.each(vault, "Reading", _read_every_other_note, (), lambda reply: None)
    with parallel.reading(root, config, found, (), 2) as (workers, _, vault):
        read: list[int] = []
        workers.each(vault, "Reading", _read_every_other_note, (), read.append)
        assert read == [1, 1]


def _read_every_other_note(paths: list[str]) -> int:
    notes = parallel.worker_vault()[1].notes
    return sum(notes.get(path) is not None for path in notes if path not in paths)
