"""The lint cache: a warm run gives exactly the findings of a cold one, and does less work.

Every comparison is between ``lint_paths(..., cache=True)`` and a run without the cache, on
real files; findings are compared whole (position, end, severity, message and fix).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from benchmarks.generate_vault import generate_vault
from conceptgraph.api import lint_paths
from conceptgraph.config import load_config
from conceptgraph.lint import engine
from conceptgraph.lint.cache import CACHE_DIR, CACHE_DIR_ENV, Entry, LintCache, Stamp, cache_folder
from conceptgraph.lint.incremental import CachedLint, lint_cached
from conceptgraph.lint.rule import REGISTRY, Gather, GatheredCheck, Hit, Scope, rule
from conceptgraph.model import Finding, NoteRecord, Severity, Span
from conceptgraph.vault.load import Vault, load_vault
from tests.conftest import FIXTURES, write_vault

FIXTURE_VAULTS = sorted({p.parent for p in FIXTURES.glob("*/*/*.md")})

Whole = tuple[object, ...]


def _whole(findings: list[Finding]) -> list[Whole]:
    return [
        (f.path, f.line, f.column, f.end_line, f.end_column, f.rule, f.severity, f.message, f.fix)
        for f in findings
    ]


def _uncached(root: Path, jobs: int = 1) -> list[Whole]:
    return _whole(lint_paths([root], jobs=jobs, cache=False).findings)


def _cached(root: Path, jobs: int = 1) -> list[Whole]:
    return _whole(lint_paths([root], jobs=jobs, cache=True).findings)


def _age(root: Path) -> None:
    """Date every file under ``root`` an hour back, as in a vault not written this second.

    A file written within the last two seconds is always read again (its timestamp could hide
    a second write), which would blur the counts of what a run read.
    """
    for path in [root, *root.rglob("*")]:
        os.utime(path, ns=(0, os.stat(path).st_mtime_ns - 3600 * 10**9))


def _warmed(tmp_path: Path, notes: int) -> Path:
    """A generated vault, dated an hour back, linted once with the cache."""
    root = tmp_path / "v"
    generate_vault(root, notes=notes, seed=1)
    _age(root)
    _run(root)
    return root


def _run(root: Path) -> CachedLint:
    return lint_cached(root.resolve(), load_config(root.resolve()), jobs=1)


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of this test's own, empty."""
    folder = tmp_path / "caches"
    monkeypatch.setenv(CACHE_DIR_ENV, str(folder))
    return folder


@pytest.mark.parametrize("vault", FIXTURE_VAULTS, ids=lambda p: p.name)
@pytest.mark.usefixtures("own_cache")
def test_fixture_vaults_cold_and_warm(vault: Path) -> None:
    expected = _uncached(vault)
    assert _cached(vault) == expected  # cold: the cache is written
    assert _cached(vault) == expected  # warm: read from it
    warm = _run(vault)
    # Only a file that cannot be read, or is not read (a link out of the vault), is looked at
    # again: there is no content to vouch for.
    unreadable = sum(f[5] in ("unreadable-file", "symlink-out-of-vault") for f in expected)
    assert (warm.read, warm.checked, warm.vault_rules) == (unreadable, unreadable, False)


@pytest.mark.usefixtures("own_cache")
def test_the_hostile_vault_cold_and_warm(hostile_vault: Path) -> None:
    expected = _uncached(hostile_vault)
    assert _cached(hostile_vault) == expected
    assert _cached(hostile_vault) == expected


@pytest.mark.usefixtures("own_cache")
def test_one_or_many_workers_with_and_without_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rules are forked over chunks of notes from 1,000 notes on: here from 50, so that a
    # vault small enough for a test is split into several chunks.
    monkeypatch.setattr(engine, "_PARALLEL_MIN_NOTES", 50)
    root = tmp_path / "v"
    generate_vault(root, notes=450, seed=3)  # past the size that starts parse workers
    for number, note in enumerate(_notes(root)):  # a finding in every note, each its own
        note.write_bytes(note.read_bytes() + f"\n[[nowhere {number}]]\n".encode())
    (root / "loose.md").write_text("# Loose\n\n[[nowhere]] and [[Loose#No such heading]]\n")
    expected = _uncached(root, jobs=1)
    assert any(f[5] == "broken-link" for f in expected)
    assert _uncached(root, jobs=2) == expected
    assert _cached(root, jobs=2) == expected
    assert _cached(root, jobs=1) == expected


# --------------------------------------------------------------------- a series of edits


def _copy_fixtures(root: Path) -> None:
    for vault in FIXTURE_VAULTS:
        shutil.copytree(vault, root / vault.parent.name / vault.name, symlinks=True)


def _notes(root: Path) -> list[Path]:
    # Regular files only: the fixtures hold a dangling symbolic link named like a note.
    return sorted(p for p in root.rglob("*.md") if p.is_file())


def _edit(root: Path, rng: random.Random) -> str:
    """One random edit of the kinds users make; returns what it did, for the failure message."""
    notes = _notes(root)
    note = rng.choice(notes)
    other = rng.choice(notes)
    name = other.stem
    kind = rng.choice(
        [
            "prose",
            "link",
            "broken-link",
            "heading-link",
            "heading",
            "alias-note",
            "delete",
            "rename",
            "copy",
            "disable-file",
            "touch",
            "garbage",
            "attachment",
            "move-paragraph",
            "negation",
            "variant-note",
            "list-item",
            "dependency",
            "frontmatter-edit",
        ]
    )
    with_text = note.read_bytes()
    if kind == "prose":
        note.write_bytes(with_text + b"\nA sentence more.\n")
    elif kind == "link":
        note.write_bytes(with_text + f"\nSee [[{name}]].\n".encode())
    elif kind == "broken-link":
        note.write_bytes(with_text + b"\nSee [[no such note at all]].\n")
    elif kind == "heading-link":
        note.write_bytes(with_text + f"\nSee [[{name}#Definition]] and [[{name}#^blk]].\n".encode())
    elif kind == "heading":
        note.write_bytes(with_text + b"\n## Definition\n\nText. ^blk\n")
    elif kind == "alias-note":
        (note.parent / f"alias-of-{rng.randrange(1000)}.md").write_text(
            f"---\naliases: [{name}]\ncanonical: true\ntype: mechanism\n---\n# {name}\n"
        )
    elif kind == "delete" and len(notes) > 5:
        note.unlink()
    elif kind == "rename":
        note.rename(note.with_name(f"renamed {rng.randrange(1000)}.md"))
    elif kind == "copy" and other.parent != note.parent:
        shutil.copyfile(note, other.parent / note.name)
    elif kind == "disable-file":
        note.write_bytes(with_text + b"\n<!-- conceptgraph-disable-file -->\n")
    elif kind == "touch":
        os.utime(note)
    elif kind == "garbage":
        note.write_bytes(b"\xff\xfe\x00garbage\x00")
    elif kind == "attachment":
        (note.parent / f"{name}.png").write_bytes(b"\x89PNG")
    elif kind == "negation":
        note.write_bytes(with_text + f"\n## What this is NOT\n\n- Not {name} (no).\n".encode())
    elif kind == "variant-note":
        (other.parent / f"variant-{rng.randrange(1000)}.md").write_text(
            f'---\ncanonical: false\ncanonical_of: "[[{name}]]"\n---\n# Variant\n'
        )
    elif kind == "dependency":
        note.write_bytes(with_text + f"\n## Structural dependencies\n\n- [[{name}]]\n".encode())
    elif kind == "list-item":
        note.write_bytes(with_text + f"\n- an item naming [[{name}]]\n".encode())
    elif kind == "frontmatter-edit":
        if with_text.startswith(b"---\n"):
            note.write_bytes(b"---\ncanonical: true\n" + with_text[4:])
        else:
            note.write_bytes(f"---\naliases: [{name}]\n---\n".encode() + with_text)
    elif kind == "move-paragraph":
        lines = with_text.split(b"\n")
        index = rng.randrange(len(lines))
        lines.insert(rng.randrange(len(lines) + 1), lines.pop(index))
        note.write_bytes(b"\n".join(lines))
    return f"{kind} {note.relative_to(root)} ({name})"


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.usefixtures("own_cache")
def test_a_series_of_edits_gives_the_findings_of_a_cold_run(tmp_path: Path, seed: int) -> None:
    root = tmp_path / "vault"
    _copy_fixtures(root)
    rng = random.Random(seed)
    done: list[str] = []
    _cached(root)
    for _ in range(30):
        done.append(_edit(root, rng))
        assert _cached(root) == _uncached(root), "after: " + "; ".join(done)


@pytest.mark.usefixtures("own_cache")
def test_a_prose_edit_checks_that_note_alone(tmp_path: Path) -> None:
    root = tmp_path / "v"
    generate_vault(root, notes=60, seed=1)
    _age(root)
    first = _run(root)
    assert (first.read, first.checked, first.vault_rules) == (60, 60, True)
    note = _notes(root)[7]
    note.write_bytes(note.read_bytes() + b"\nOne more sentence.\n")
    _age(note)
    after = _run(root)
    assert after.checked == 1
    assert not after.vault_rules
    assert after.read < 60  # the note, and the few its links lead to
    assert _whole(after.findings) == _uncached(root)


@pytest.mark.usefixtures("own_cache")
def test_a_touched_file_is_read_but_not_checked_again(tmp_path: Path) -> None:
    root = _warmed(tmp_path, 20)
    os.utime(_notes(root)[3], ns=(0, 10**9))
    after = _run(root)
    assert (after.read, after.checked, after.vault_rules) == (1, 0, False)
    assert _whole(after.findings) == _uncached(root)


@pytest.mark.usefixtures("own_cache")
def test_an_edit_within_the_same_timestamp_is_seen(tmp_path: Path) -> None:
    # A file changed again within its file system's timestamp tick keeps size and mtime: the
    # stat proves nothing for a file that recent, so it is read again.
    root = tmp_path / "v"
    (root / "sub").mkdir(parents=True)
    note = root / "a.md"
    note.write_text("# A\n\nSee [[b]].\n")
    (root / "b.md").write_text("# B\n\nSee [[a]].\n")
    _run(root)
    before = os.stat(note)
    note.write_text("# A\n\nSee [[c]].\n")  # same size
    os.utime(note, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = _run(root)
    assert [f.rule for f in after.findings] == ["broken-link"]
    assert _whole(after.findings) == _uncached(root)


# -------------------------------------------------------------- the cache cannot do harm


@pytest.mark.usefixtures("own_cache")
def test_a_damaged_cache_is_started_afresh(tmp_path: Path) -> None:
    root = tmp_path / "v"
    shutil.copytree(FIXTURES / "links" / "broken-link", root)
    _age(root)
    expected = _uncached(root)
    _cached(root)
    database = cache_folder(root.resolve()) / "lint.sqlite3"
    assert database.exists()
    database.write_bytes(b"this is not a database" * 100)
    assert _cached(root) == expected
    assert _cached(root) == expected
    assert _run(root).read == 0  # it works again


def test_a_busy_cache_is_not_taken_for_a_damaged_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process that holds the database for longer than a run waits (a checkpoint, a
    # recovery, a user's sqlite3 shell) leaves this run without a cache, and the rows whole.
    from conceptgraph.lint import cache as cache_module

    folder = tmp_path / "c"
    assert LintCache.open(folder, "key").write_apart([_entry("a.md")], [], {})
    written = LintCache.open(folder, "key")
    assert sorted(written.rows()) == ["a.md"]
    written.close()
    monkeypatch.setattr(cache_module, "_BUSY_TIMEOUT_S", 0.1)
    # Waits for the writer that write_apart started to let go of the file.
    holder = sqlite3.connect(folder / "lint.sqlite3", timeout=30, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("COMMIT")  # the exclusive lock stays with this connection
    try:
        busy = LintCache.open(folder, "key")
        assert busy.rows() == {}
        busy.close()
    finally:
        holder.close()
    assert sorted(LintCache.open(folder, "key").rows()) == ["a.md"]


@pytest.mark.parametrize("forgery", ["code", "clean"])
@pytest.mark.usefixtures("own_cache")
def test_a_cache_written_by_someone_else_is_never_believed(tmp_path: Path, forgery: str) -> None:
    # A vault from a pull request could carry a cache whose pickles run code when loaded, or
    # whose rows claim the notes have no findings. Neither is believed: rows are signed with
    # a key of this user's, which the vault does not have.
    root = tmp_path / "v"
    shutil.copytree(FIXTURES / "links" / "broken-link", root)
    _age(root)
    expected = _uncached(root)
    assert expected
    _cached(root)
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.mkdir, (str(marker),))

    database = cache_folder(root.resolve()) / "lint.sqlite3"
    with sqlite3.connect(database) as db:
        if forgery == "code":
            payload = pickle.dumps([Payload()])
            db.execute("UPDATE notes SET findings = ?", (payload,))
            db.execute("UPDATE blobs SET value = ?", (bytes(32) + payload,))
        else:
            db.execute("UPDATE notes SET findings = NULL")
    assert _cached(root) == expected
    assert not marker.exists()


@pytest.mark.usefixtures("own_cache")
def test_a_gathering_moved_to_another_note_is_not_believed(tmp_path: Path) -> None:
    # b's gathering says it links to c; copied over a's, it would hide that a is an orphan.
    root = write_vault(
        tmp_path / "v", {"a.md": "# A\n", "b.md": "# B\n\n[[c]]\n", "c.md": "# C\n\n[[b]]\n"}
    )
    _age(root)
    _run(root)
    _run(root)
    database = cache_folder(root.resolve()) / "lint.sqlite3"
    with sqlite3.connect(database) as db:
        moved = db.execute(
            "UPDATE gathered SET value = (SELECT value FROM gathered WHERE path = 'b.md')"
            " WHERE path = 'a.md'"
        )
        assert moved.rowcount == 1
    with (root / "c.md").open("a") as note:
        note.write("[[b]] again\n")
    _age(root / "c.md")
    after = _run(root)
    assert [(f.rule, f.path) for f in after.findings] == [("orphan-note", "a.md")]
    assert _whole(after.findings) == _uncached(root)


def test_no_cache_folder_no_cache_same_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "v"
    shutil.copytree(FIXTURES / "links" / "broken-link", root)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_DIR_ENV, str(blocker))  # no cache can be made under a file
    expected = _uncached(root)
    assert _cached(root) == expected
    assert _cached(root) == expected


def test_a_config_change_is_a_new_cache(tmp_path: Path, own_cache: Path) -> None:
    root = tmp_path / "v"
    shutil.copytree(FIXTURES / "links" / "broken-link", root)
    before = _cached(root)
    assert any(f[5] == "broken-link" for f in before)
    (root / "conceptgraph.toml").write_text('ignore = ["broken-link"]\n')
    after = _cached(root)
    assert after == _uncached(root)
    assert not any(f[5] == "broken-link" for f in after)


# ------------------------------------------------------------------------ the command line


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conceptgraph", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


@pytest.fixture
def in_vault_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The environment of a user: the cache where it belongs, in the vault."""
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    yield {k: v for k, v in os.environ.items() if k != CACHE_DIR_ENV}


def test_the_cache_lives_in_the_vault_and_is_never_committed(
    tmp_path: Path, in_vault_env: dict[str, str]
) -> None:
    root = tmp_path / "v"
    shutil.copytree(FIXTURES / "links" / "broken-link", root)
    first = _cli("lint", "--format", "json", str(root), env=in_vault_env)
    assert (root / CACHE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"
    second = _cli("lint", "--format", "json", str(root), env=in_vault_env)
    assert first.returncode == second.returncode == 1
    assert first.stdout == second.stdout


def test_no_cache_writes_nothing(tmp_path: Path, in_vault_env: dict[str, str]) -> None:
    root = tmp_path / "v"
    shutil.copytree(FIXTURES / "links" / "broken-link", root)
    result = _cli("lint", "--no-cache", str(root), env=in_vault_env)
    assert result.returncode == 1
    assert not (root / CACHE_DIR).exists()
    off = {**in_vault_env, "CONCEPTGRAPH_CACHE": "0"}
    assert _cli("lint", str(root), env=off).stdout == result.stdout
    assert not (root / CACHE_DIR).exists()


def test_runs_racing_on_one_cache_each_report_everything(
    tmp_path: Path, in_vault_env: dict[str, str]
) -> None:
    root = tmp_path / "v"
    generate_vault(root, notes=120, seed=2)
    (root / "loose.md").write_text("# Loose\n\n[[nowhere]]\n")
    expected = _cli("lint", "--no-cache", "-f", "json", str(root), env=in_vault_env).stdout
    assert "nowhere" in expected
    for _ in range(3):
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "conceptgraph", "lint", "-f", "json", str(root)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=in_vault_env,
            )
            for _ in range(4)
        ]
        for run in runs:
            out, err = run.communicate(timeout=120)
            assert out == expected, err
            assert "Traceback" not in err
        (root / "loose.md").write_text("# Loose\n\n[[nowhere]] again\n")
        expected = _cli("lint", "--no-cache", "-f", "json", str(root), env=in_vault_env).stdout
    assert _cli("lint", "-f", "json", str(root), env=in_vault_env).stdout == expected


def test_a_second_process_finds_the_cache_of_the_first(tmp_path: Path) -> None:
    # The cache key is worked out again by every process: nothing in it may differ from one
    # process to the next (an address, a hash seed), or every run would start afresh.
    code = (
        "from conceptgraph.lint.cache import run_key\n"
        "from conceptgraph.config import Config\n"
        "from conceptgraph.lint.engine import selected_rules\n"
        "print(run_key(Config(), 'pyromark', [r.check for r in selected_rules(Config())]))\n"
    )
    keys = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout
        for seed in (1, 2, 3)
    }
    assert len(keys) == 1


@pytest.mark.usefixtures("own_cache")
def test_a_link_added_checks_that_note_and_the_vault_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What other notes' rules read of a note (aliases, headings...) is unchanged by a link in
    # its body: their findings stand. The vault rules (cycles, orphans) do read links, from
    # what they gathered of each note: kept from the runs before, but for the edited note.
    root = _warmed(tmp_path, 60)
    outlines_wanted: list[int] = []
    real_outlines = LintCache.outlines

    def outlines(self: LintCache, wanted: Mapping[str, bytes]) -> dict[str, NoteRecord]:
        outlines_wanted.append(len(wanted))
        return real_outlines(self, wanted)

    monkeypatch.setattr(LintCache, "outlines", outlines)
    notes = _notes(root)
    for edited, target in [(5, 9), (5, 11), (20, 9)]:
        link = f"\nSee [[{notes[target].stem}]].\n"
        notes[edited].write_bytes(notes[edited].read_bytes() + link.encode())
        _age(notes[edited])
        after = _run(root)
        assert (after.checked, after.vault_rules) == (1, True)
        assert _whole(after.findings) == _uncached(root)
        # What is read is the note and those its note rules look at (its links' targets).
        assert after.read < 60 // 2
        # Outlines are asked for only to silence findings by the directives of their notes.
        assert sum(outlines_wanted) <= len({f.path for f in after.findings})
        outlines_wanted.clear()


@pytest.mark.usefixtures("own_cache")
def test_a_link_added_to_a_variant_is_checked_from_the_kept_indexes(tmp_path: Path) -> None:
    # Which notes are variants (canonical: false) is kept with the name indexes: a link to one
    # added in an edit is flagged without reading every note to find out.
    root = tmp_path / "v"
    generate_vault(root, notes=60, seed=1)
    notes = _notes(root)
    canonical = notes[9].stem
    target = notes[9].relative_to(root).as_posix()
    frontmatter = f'---\ncanonical: false\ncanonical_of: "[[{canonical}]]"\n---\n'
    (root / "variant.md").write_text(f"{frontmatter}# Variant\n\n[[{canonical}]]\n")
    _age(root)
    _run(root)
    notes[5].write_bytes(notes[5].read_bytes() + b"\nSee [[variant]].\n")
    _age(notes[5])
    after = _run(root)
    assert after.read < 60 // 2
    flagged = [f for f in after.findings if f.rule == "link-to-non-canonical"]
    assert [(f.path, f.message) for f in flagged] == [
        (
            notes[5].relative_to(root).as_posix(),
            f"variant.md is a variant of {target}; link there",
        )
    ]
    assert _whole(after.findings) == _uncached(root)


GATHERED_EDITS = [
    # (note, text appended, the vault findings expected after): each edit is a link in a body,
    # so no other note's rules run again, and the vault rules work from their gatherings.
    ("b.md", "", {("orphan-note", "a.md")}),
    ("c.md", "\nSee [[a]].\n", set()),
    (
        "e.md",
        "\n## Structural dependencies\n\n- [[d]]\n",
        {("dependency-cycle", "d.md"), ("dependency-cycle", "e.md")},
    ),
    ("c.md", "\nAnd [[b]].\n", {("dependency-cycle", "d.md"), ("dependency-cycle", "e.md")}),
]


@pytest.mark.usefixtures("own_cache")
def test_vault_rules_follow_link_edits_from_their_gatherings(tmp_path: Path) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "a.md": "# A\n",
            "b.md": "# B\n\n[[c]]\n",
            "c.md": "# C\n\n[[b]]\n",
            "d.md": "# D\n\n## Structural dependencies\n\n- [[e]]\n",
            "e.md": "# E\n\n[[b]]\n",
        },
    )
    _age(root)
    for path, text, expected in GATHERED_EDITS:
        with (root / path).open("a") as note:
            note.write(text)
        _age(root / path)
        after = _run(root)
        assert after.vault_rules
        assert _whole(after.findings) == _uncached(root)
        vault_rules = {"orphan-note", "dependency-cycle"}
        found = {(f.rule, f.path) for f in after.findings if f.rule in vault_rules}
        assert found == expected, path


@pytest.mark.usefixtures("own_cache")
def test_what_a_link_edit_gathered_is_kept_for_the_next_edit(tmp_path: Path) -> None:
    # Each link edit reads the note edited, and keeps what the vault rules gathered of it:
    # the next edit, of another note, reads that one alone, not the one edited before.
    root = write_vault(tmp_path / "v", {f"{n}.md": f"# {n}\n\n[[hub]]\n" for n in "abcd"})
    (root / "hub.md").write_text("# Hub\n")
    _age(root)
    _run(root)
    reads = []
    for edited, target in [("a", "b"), ("c", "d"), ("b", "c")]:
        with (root / f"{edited}.md").open("a") as note:
            note.write(f"\nSee [[{target}]].\n")
        _age(root / f"{edited}.md")
        after = _run(root)
        assert after.vault_rules
        assert _whole(after.findings) == _uncached(root)
        reads.append(after.read)
    assert reads == [1, 1, 1]


@pytest.mark.usefixtures("own_cache")
def test_a_gathering_kept_from_before_a_prose_edit_is_not_used(tmp_path: Path) -> None:
    # Prose above d's dependency leaves every fact as it was, so the vault rules do not run
    # again; but the link has moved, and when e closes a cycle through d (d -> e -> g -> d)
    # the finding must point at where it is now, not where d's kept gathering saw it.
    deps = "## Structural dependencies\n\n- [[{}]]\n"
    root = write_vault(
        tmp_path / "v",
        {
            "d.md": "# D\n\n" + deps.format("e"),
            "e.md": "# E\n\n" + deps.format("f"),
            "f.md": "# F\n",
            "g.md": "# G\n\n" + deps.format("d"),
        },
    )
    _age(root)
    _run(root)
    (root / "d.md").write_text("# D\n\nProse.\n\n" + deps.format("e"))
    _age(root / "d.md")
    assert not _run(root).vault_rules
    with (root / "e.md").open("a") as note:
        note.write("- [[g]]\n")
    _age(root / "e.md")
    after = _run(root)
    assert after.vault_rules
    assert _whole(after.findings) == _uncached(root)
    cycle = [(f.path, f.line) for f in after.findings if f.rule == "dependency-cycle"]
    assert cycle == [("d.md", 7), ("e.md", 6), ("g.md", 5)]


@pytest.mark.usefixtures("own_cache")
def test_a_new_file_gathers_again_for_every_note(tmp_path: Path) -> None:
    # A new file can change where any note's links lead: nothing kept of the vault rules'
    # gatherings holds, and outlines stand in for the notes not read.
    root = _warmed(tmp_path, 60)
    _run(root)
    notes = _notes(root)
    (root / f"{notes[3].stem} copy.md").write_text(f"# Copy\n\n[[{notes[7].stem}]]\n")
    notes[9].write_bytes(notes[9].read_bytes() + f"\n- [[{notes[3].stem} copy]]\n".encode())
    _age(root)
    after = _run(root)
    assert _whole(after.findings) == _uncached(root)
    assert after.vault_rules


@pytest.mark.usefixtures("own_cache")
def test_after_a_config_change_a_link_added_still_reads_few_notes(tmp_path: Path) -> None:
    # The first run under a new configuration (or version) reads every note: it keeps their
    # outlines, as a cache was in use here, so the link edit after it reads only a few.
    root = _warmed(tmp_path, 60)
    (root / "conceptgraph.toml").write_text('ignore = ["orphan-note"]\n')
    _age(root)
    assert _run(root).read == 60
    notes = _notes(root)
    notes[5].write_bytes(notes[5].read_bytes() + f"\nSee [[{notes[9].stem}]].\n".encode())
    _age(notes[5])
    after = _run(root)
    assert (after.checked, after.vault_rules) == (1, True)
    assert after.read < 60 // 2
    assert _whole(after.findings) == _uncached(root)


SEEN_BY_OTHERS = {
    # name: (a.md, b.md before, b.md after): each edit of b.md changes a finding of a.md.
    "heading": ("# A\n\n[[b#Later]]\n", "# B\n", "# B\n\n## Later\n"),
    "block-id": ("# A\n\n[[b#^k1]]\n", "# B\n\ntext\n", "# B\n\ntext ^k1\n"),
    "alias": ("# A\n\n[[Bee]]\n", "# B\n", "---\naliases: [Bee]\n---\n# B\n"),
    "variant": (
        "# A\n\n[[b]]\n",
        "# B\n",
        '---\ncanonical: false\ncanonical_of: "[[c]]"\n---\n# B\n',
    ),
    "decoded": ("# A\n\n[[b#B]]\n", "# B\n", "\x00\x01\x02 not text\x00"),
}


@pytest.mark.parametrize("case", sorted(SEEN_BY_OTHERS))
@pytest.mark.usefixtures("own_cache")
def test_what_other_notes_see_checks_them_again(tmp_path: Path, case: str) -> None:
    a, before, after = SEEN_BY_OTHERS[case]
    root = write_vault(tmp_path / "v", {"a.md": a, "b.md": before, "c.md": "# C\n\n[[a]] [[b]]\n"})
    _age(root)
    first = _cached(root)
    assert first == _uncached(root)
    (root / "b.md").write_text(after)
    _age(root / "b.md")
    second = _cached(root)
    assert second == _uncached(root)
    assert [f for f in first if f[0] == "a.md"] != [f for f in second if f[0] == "a.md"]


@contextmanager
def _gathering_rule(name: str, gather: Gather, check: GatheredCheck) -> Iterator[None]:
    """A vault rule that gathers, registered for one test."""
    rule(name, family="links", severity=Severity.INFO, scope=Scope.VAULT, gather=gather)(check)
    try:
        yield
    finally:
        REGISTRY.pop(name, None)


@pytest.fixture
def fragile_gathering() -> Iterator[None]:
    """A gathering rule whose gathering fails on notes that link to x."""

    def gather(note: NoteRecord, vault: Vault) -> int:
        if any(link.target == "x" for link in note.links):
            raise KeyError("boom")
        return len(note.links)

    def check(vault: Vault, gathered: Mapping[str, int]) -> Iterator[Hit]:
        yield Hit(Span.point(1), f"{sum(gathered.values())} links", path="a.md")

    with _gathering_rule("test-gather", gather, check):
        yield


@pytest.mark.usefixtures("own_cache", "fragile_gathering")
def test_a_gathering_that_fails_on_an_edit_is_a_finding(tmp_path: Path) -> None:
    root = write_vault(
        tmp_path / "v", {"a.md": "# A\n\n[[b]]\n", "b.md": "# B\n\n[[a]]\n", "x.md": "# X\n"}
    )
    _age(root)
    assert [f.message for f in _run(root).findings if f.rule == "test-gather"] == ["2 links"]
    with (root / "b.md").open("a") as note:
        note.write("[[a]] again\n")
    _age(root / "b.md")
    assert [f.message for f in _run(root).findings if f.rule == "test-gather"] == ["3 links"]
    with (root / "b.md").open("a") as note:
        note.write("[[x]]\n")
    _age(root / "b.md")
    after = _run(root)
    assert _whole(after.findings) == _uncached(root)
    [crash] = [f for f in after.findings if f.rule == "test-gather"]
    assert crash.message.startswith("internal error in rule test-gather: KeyError")


@pytest.mark.parametrize("few", [True, False])
def test_outlines_are_found_by_path_and_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, few: bool
) -> None:
    # A few are looked up by path, many in one pass over the table: the same answers.
    from conceptgraph.lint import cache as cache_module
    from conceptgraph.lint.incremental import outline

    monkeypatch.setattr(cache_module, "_FEW_PATHS", 10 if few else 0)
    root = tmp_path / "v"
    generate_vault(root, notes=6, seed=3)
    vault = load_vault(root, load_config(root))
    store = LintCache.open(tmp_path / "c", "key")
    assert store.write([], [], {}, [outline(n) for n in vault.notes.values()])
    paths = sorted(vault.notes)
    wanted = {paths[0]: vault.notes[paths[0]].digest, paths[1]: b"other bytes"}
    found = store.outlines(wanted)
    assert list(found) == [paths[0]]
    assert found[paths[0]] == outline(vault.notes[paths[0]])
    everything = {path: note.digest for path, note in vault.notes.items()}
    assert store.outlines(everything) == {p: outline(n) for p, n in vault.notes.items()}


def _entry(path: str) -> Entry:
    return Entry(path, Stamp(1, 2, 3), 4, b"d" * 16, b"f" * 32, b"c" * 32, [])


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """The cache's SQLite write lock, held by another connection (another run, writing)."""
    with contextlib.closing(sqlite3.connect(folder / "lint.sqlite3")) as other:
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")


def _apart(folder: Path, *paths: str) -> tuple[bool, list[str]]:
    """``write_apart`` of rows for ``paths``; then what a new run finds in the cache."""
    written = LintCache.open(folder, "key").write_apart([_entry(p) for p in paths], [], {})
    return written, sorted(LintCache.open(folder, "key").rows())


def test_a_write_apart_is_read_by_the_next_run(tmp_path: Path) -> None:
    assert _apart(tmp_path / "c", "a.md", "b.md") == (True, ["a.md", "b.md"])


def test_a_write_apart_while_another_thread_runs_is_written_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fork copies this thread alone: a lock another one holds would never be let go.
    def no_fork() -> int:
        raise AssertionError("forked while another thread runs")

    monkeypatch.setattr(os, "fork", no_fork)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert _apart(tmp_path / "c", "a.md") == (True, ["a.md"])
    finally:
        stop.set()
        other.join()


def test_a_write_apart_that_cannot_fork_is_written_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fork() -> int:
        raise BlockingIOError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert _apart(tmp_path / "c", "a.md") == (True, ["a.md"])


def test_a_cache_locked_by_another_run_is_not_waited_for_at_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only a process writing a first run's rows is waited for when a run starts; another
    # holding the lock (a long write, a stuck tool) costs the busy timeout, at the end.
    from conceptgraph.lint import cache as cache_module

    monkeypatch.setattr(cache_module, "_WRITER_WAIT_S", 600.0)
    folder = tmp_path / "c"
    LintCache.open(folder, "key").close()
    opened: list[LintCache] = []
    with _locked(folder):
        opening = threading.Thread(target=lambda: opened.append(LintCache.open(folder, "key")))
        opening.start()
        opening.join(timeout=30)
        assert not opening.is_alive(), "open waited for a lock no writer of ours holds"
    assert opened[0].rows() == {}


def test_a_writer_on_a_file_system_without_locks_still_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import fcntl

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    folder = tmp_path / "c"
    assert LintCache.open(folder, "key").write_apart([_entry("a.md")], [], {})
    # No lock to wait by: the rows come when the writer is done.
    deadline = time.monotonic() + 30
    while not LintCache.open(folder, "key").rows():
        assert time.monotonic() < deadline, "the writer wrote nothing"
        time.sleep(0.05)


def test_a_writer_where_proc_is_not_mounted_still_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listdir = os.listdir

    def no_proc(path: str = ".") -> list[str]:
        if str(path).startswith("/proc"):
            raise FileNotFoundError(2, "No such file or directory", path)
        return listdir(path)

    monkeypatch.setattr(os, "listdir", no_proc)
    assert _apart(tmp_path / "c", "a.md") == (True, ["a.md"])


def test_a_writer_that_cannot_take_the_lock_leaves_the_cache_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conceptgraph.lint import cache as cache_module

    monkeypatch.setattr(cache_module, "_BUSY_TIMEOUT_S", 0.1)
    folder = tmp_path / "c"
    store = LintCache.open(folder, "key")
    with _locked(folder):
        assert not store.write_apart([_entry("a.md")], [], {})
    assert LintCache.open(folder, "key").rows() == {}


def test_only_a_vault_rule_gathers() -> None:
    with pytest.raises(ValueError, match="only a vault rule gathers"):
        rule("test-note-gather", family="links", severity=Severity.INFO, gather=len)
    assert "test-note-gather" not in REGISTRY


@pytest.fixture
def unplain_gathering() -> Iterator[None]:
    """A gathering rule that gathers named tuples, which marshal refuses."""

    def gather(note: NoteRecord, vault: Vault) -> tuple[Span, ...]:
        return tuple(link.span for link in note.links)

    def check(vault: Vault, gathered: Mapping[str, tuple[Span, ...]]) -> Iterator[Hit]:
        yield Hit(gathered["a.md"][-1], "the last link", path="a.md")

    with _gathering_rule("test-unplain", gather, check):
        yield


@pytest.mark.usefixtures("own_cache", "unplain_gathering")
def test_a_gathering_the_cache_cannot_keep_is_gathered_again(tmp_path: Path) -> None:
    root = tmp_path / "v"
    root.mkdir()
    (root / "a.md").write_text("# A\n\n[[b]]\n")
    (root / "b.md").write_text("# B\n\n[[a]]\n")
    _age(root)
    for line in (3, 4, 5):
        after = _run(root)
        assert _whole(after.findings) == _uncached(root)
        assert [f.line for f in after.findings if f.rule == "test-unplain"] == [line]
        with (root / "a.md").open("a") as note:
            note.write("[[b]]\n")
        _age(root / "a.md")


@pytest.mark.usefixtures("own_cache")
def test_a_link_whose_target_is_deleted_is_reported_after_a_cached_run(tmp_path: Path) -> None:
    # The link was a readable note with a cached row; once dangling it cannot be stat'ed,
    # and its row must give way to the note that cannot be read.
    root = write_vault(tmp_path / "v", {"a.md": "# A\n\n[[b]]\n", "c.md": "# C\n\n[[a]]\n"})
    os.symlink("a.md", root / "b.md")
    assert _cached(root) == _uncached(root)
    (root / "a.md").unlink()
    after = _cached(root)
    assert after == _uncached(root)
    assert any(w[0] == "b.md" and w[5] == "unreadable-file" for w in after), after
