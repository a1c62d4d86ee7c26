"""The copy of a vault's triples that repeated queries answer from (conceptgraph.rdf.store).

Every answer from a copy is compared with the answer of a query that reads the vault, on real
files and real Oxigraph stores on disk.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from benchmarks.generate_vault import generate_vault
from conceptgraph import api
from conceptgraph.config import load_config
from conceptgraph.lint.cache import CACHE_DIR_ENV, cache_folder
from conceptgraph.rdf import store
from conceptgraph.rdf.sparql import format_result
from conceptgraph.rdf.store import STORE_DIR, state_key
from conceptgraph.rdf.triples import default_base
from tests.conftest import settled_copies

EVERYTHING = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
TITLES = "SELECT ?note ?title WHERE { ?note skos:prefLabel ?title }"


def _age(root: Path) -> None:
    """Date every file an hour back: one written in the last two seconds keeps no copy."""
    for path in [root, *root.rglob("*")]:
        os.utime(path, ns=(0, os.stat(path).st_mtime_ns - 3600 * 10**9))


def _rows(root: Path, text: str, cache: bool = True) -> set[str]:
    found = api.query_vault(root, text, cache=cache, jobs=1)
    return set(format_result(found, "tsv").decode().splitlines())


def _copies(root: Path) -> list[str]:
    folder = cache_folder(root.resolve()) / STORE_DIR
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.exists() else []


@pytest.fixture
def vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "caches"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-a"))
    root = tmp_path / "v"
    generate_vault(root, notes=30, seed=1)
    _age(root)
    return root


def _unreadable(*args: object, **kwargs: object) -> None:
    raise AssertionError("the vault was read: the kept copy should have answered")


def test_the_second_query_keeps_a_copy_and_the_third_answers_from_it(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _rows(vault, EVERYTHING, cache=False)
    titles = _rows(vault, TITLES, cache=False)
    assert len(expected) > 500
    assert len(titles) > 20
    assert _rows(vault, EVERYTHING) == expected
    settled_copies(vault)
    assert _copies(vault) == []  # one query in a vault may be the only one: no copy yet
    assert _rows(vault, EVERYTHING) == expected
    settled_copies(vault)
    assert len(_copies(vault)) == 1
    monkeypatch.setattr(api, "load_vault", _unreadable)
    assert _rows(vault, EVERYTHING) == expected
    assert _rows(vault, TITLES) == titles


def test_an_edit_a_new_file_or_a_config_change_is_read_from_the_vault(vault: Path) -> None:
    _rows(vault, TITLES)
    _rows(vault, TITLES)
    note = sorted(vault.rglob("*.md"))[3]
    note.write_text(note.read_text().replace("\n# ", "\n# Renamed ", 1))
    _age(vault)
    edited = _rows(vault, TITLES)
    assert edited == _rows(vault, TITLES, cache=False)
    assert any("Renamed" in row for row in edited)
    (vault / "new.md").write_text("# Brand new\n")
    _age(vault)
    after = _rows(vault, TITLES)
    assert after == _rows(vault, TITLES, cache=False)
    assert any("Brand new" in row for row in after)
    (vault / "conceptgraph.toml").write_text('exclude = ["new.md"]\n')
    _age(vault)
    excluded = _rows(vault, TITLES)
    assert excluded == _rows(vault, TITLES, cache=False)
    assert not any("Brand new" in row for row in excluded)


def test_a_file_written_just_now_keeps_no_copy(vault: Path) -> None:
    _rows(vault, TITLES)
    (vault / "new.md").write_text("# Just written\n")  # within its timestamp tick
    assert state_key(vault.resolve(), load_config(vault.resolve()), default_base(vault)) is None
    assert any("Just written" in row for row in _rows(vault, TITLES))
    assert _copies(vault) == []


def test_a_copy_planted_by_someone_else_is_never_opened(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A vault may come with a cache folder (a pull request's): a copy in it that claims this
    # vault's state must be signed with this user's key, which no one else has.
    root = vault.resolve()
    base = default_base(root)
    theirs = state_key(root, load_config(root), base)
    assert theirs is not None
    (cache_folder(root) / STORE_DIR).mkdir(parents=True)
    planted = ox.Store(str(cache_folder(root) / STORE_DIR / theirs))
    forged = ox.Quad(
        ox.NamedNode(base + "forged"),
        ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"),
        ox.Literal("Forged"),
        ox.NamedNode(base),
    )
    planted.add(forged)
    planted.flush()
    del planted
    (cache_folder(root) / STORE_DIR / "queried").touch()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-b"))
    assert _rows(vault, TITLES) == _rows(vault, TITLES, cache=False)
    assert not any("Forged" in row for row in _rows(vault, TITLES))
    # Under the key it was made with, the same copy is opened: the test plants a real one.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-a"))
    assert any("Forged" in row for row in _rows(vault, TITLES))


def test_an_older_copy_is_removed_once_replaced(vault: Path) -> None:
    _rows(vault, TITLES)
    _rows(vault, TITLES)
    settled_copies(vault)
    (first,) = _copies(vault)
    old = cache_folder(vault.resolve()) / STORE_DIR / first
    os.utime(old, (0, 0))  # replaced long ago: no query can still have it open
    (vault / "new.md").write_text("# Another\n")
    _age(vault)
    _rows(vault, TITLES)
    settled_copies(vault)
    assert len(_copies(vault)) == 1
    assert _copies(vault) != [first]


def test_a_damaged_copy_is_replaced(vault: Path) -> None:
    expected = _rows(vault, TITLES, cache=False)
    _rows(vault, TITLES)
    _rows(vault, TITLES)
    settled_copies(vault)
    (copy,) = _copies(vault)
    current = cache_folder(vault.resolve()) / STORE_DIR / copy / "CURRENT"
    current.write_text("garbage")  # what a crash or a bad disk could leave
    assert _rows(vault, TITLES) == expected
    settled_copies(vault)
    assert _copies(vault) == [copy]
    assert not current.read_text().startswith("garbage")  # a sound copy took its place
    assert _rows(vault, TITLES) == expected


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conceptgraph", *args], capture_output=True, text=True, check=True
    )


def test_no_cache_keeps_nothing_and_the_cache_lives_in_the_vault(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CACHE_DIR_ENV)
    for _ in range(3):
        plain = _cli("query", str(vault), TITLES, "--format", "csv", "--no-cache")
    assert not (vault / ".conceptgraph-cache").exists()
    # Rows come in no set order without ORDER BY: compared as sets.
    answers = [_cli("query", str(vault), TITLES, "--format", "csv").stdout for _ in range(2)]
    # The second query's copy is made by a process of its own, after that query has ended.
    settled_copies(vault)
    answers.append(_cli("query", str(vault), TITLES, "--format", "csv").stdout)
    assert all(set(a.splitlines()) == set(plain.stdout.splitlines()) for a in answers)
    folder = vault / ".conceptgraph-cache"
    assert len([p for p in (folder / STORE_DIR).iterdir() if p.is_dir()]) == 1
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"


class _FullDisk(io.FileIO):
    """A file on disk that takes a few kilobytes, then fails as a full disk does."""

    def write(self, data: bytes) -> int:  # type: ignore[override]
        room = 4096 - self.tell()
        if len(data) > room:
            super().write(data[: max(room, 0)])
            raise OSError(28, "No space left on device")
        return super().write(data)


@pytest.mark.parametrize("fails", ["opening", "writing"])
def test_triples_that_cannot_be_written_keep_no_copy_and_the_query_answers(
    vault: Path, monkeypatch: pytest.MonkeyPatch, fails: str
) -> None:
    expected = _rows(vault, EVERYTHING, cache=False)
    _rows(vault, TITLES)  # the first query in the vault: the next one would keep a copy

    def opened(path: str, mode: str) -> io.FileIO:
        if fails == "opening":
            raise PermissionError(13, "Permission denied")
        return _FullDisk(path, mode)

    monkeypatch.setattr(store, "open", opened, raising=False)
    assert _rows(vault, EVERYTHING) == expected
    settled_copies(vault)
    assert _copies(vault) == []
    folder = cache_folder(vault.resolve()) / STORE_DIR
    assert [p.name for p in folder.iterdir()] == ["queried"]
    monkeypatch.delattr(store, "open")
    assert _rows(vault, EVERYTHING) == expected  # read again: no copy of a part of it


def test_a_query_that_fails_while_the_triples_are_written_leaves_nothing(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rows(vault, TITLES)

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("conceptgraph.rdf.sparql.read_ntriples", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _rows(vault, TITLES)
    folder = cache_folder(vault.resolve()) / STORE_DIR
    assert [p.name for p in folder.iterdir()] == ["queried"]


@pytest.mark.parametrize("fails", ["no interpreter", "exits", "no oxigraph"])
def test_a_copy_that_cannot_be_made_leaves_nothing_behind(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fails: str
) -> None:
    # An embedded Python has no interpreter to start; one may end before it forks the process
    # that makes the copy, or that process may fail (here: Oxigraph cannot be imported).
    expected = _rows(vault, TITLES, cache=False)
    _rows(vault, TITLES)
    folder = cache_folder(vault.resolve()) / STORE_DIR
    stale = folder / ".tmp-1-dead.nt"  # left by a copying process that died long ago
    stale.write_bytes(b"")
    os.utime(stale, (0, 0))
    if fails == "no interpreter":
        monkeypatch.setattr(sys, "executable", "")
    elif fails == "exits":
        script = tmp_path / "python-that-exits"
        script.write_text("#!/bin/sh\nexit 1\n")
        script.chmod(0o755)
        monkeypatch.setattr(sys, "executable", str(script))
    else:
        (tmp_path / "fake").mkdir()
        (tmp_path / "fake" / "pyoxigraph.py").write_text("raise ImportError('no Oxigraph here')\n")
        monkeypatch.setenv("PYTHONPATH", str(tmp_path / "fake"))
    assert _rows(vault, TITLES) == expected
    settled_copies(vault)
    assert _copies(vault) == []
    assert [p.name for p in folder.iterdir()] == ["queried"]


def _manifests(root: Path) -> list[str]:
    folder = cache_folder(root.resolve()) / STORE_DIR
    return sorted(p.name for p in folder.glob("*.names") if not p.name.startswith("."))


@pytest.fixture
def full_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the queries that read the whole vault rather than answer from a copy."""
    from conceptgraph.rdf import sparql

    reads: list[int] = []
    read = sparql.read_ntriples

    def counted(*args: Any) -> dict[str, list[str]]:
        reads.append(1)
        return read(*args)

    monkeypatch.setattr(sparql, "read_ntriples", counted)
    return reads


def _kept(root: Path) -> None:
    """A copy of the vault's triples kept, with what an update of it needs."""
    _rows(root, TITLES)
    _rows(root, TITLES)
    settled_copies(root)
    key = state_key(root.resolve(), load_config(root.resolve()), default_base(root))
    assert key in _copies(root)
    assert f"{key}.names" in _manifests(root)


def _same(root: Path, reads: list[int], *, read: bool = False) -> set[str]:
    """The answer from the copy (or, if ``read``, the vault), as from the vault read afresh."""
    before = len(reads)
    found = _rows(root, EVERYTHING)
    assert len(reads) == before + read
    assert found == _rows(root, EVERYTHING, cache=False)
    return found


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_after_edits_the_copy_is_updated_with_the_answers_of_a_vault_read_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full_reads: list[int]
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "caches"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user"))
    root = tmp_path / "v"
    (root / "pics").mkdir(parents=True)
    (root / "pics" / "one.png").write_bytes(b"\x89PNG one")
    (root / "pics" / "two.png").write_bytes(b"\x89PNG two")
    (root / "a.md").write_text(
        "# A\n\n[[ghost]] and ![[one.png]]\n\n## What this is NOT\n\n- Not a phantom (why).\n"
    )
    (root / "b.md").write_text("# B\n\nSee [[ghost]].\n")
    (root / "c.md").write_text("# C\n\nProse.\n")
    _age(root)
    _kept(root)

    def ghost() -> list[str]:
        rows = _same(root, full_reads)
        return sorted(row for row in rows if "concept:ghost>" in row.split("\t")[0])

    placed = ghost()
    assert any('"a.md"' in row for row in placed)
    # A prose edit, just written: the copy is updated, under no name a later state could take.
    _edit(root / "c.md", "Prose.", "Prose, more of it.")
    assert ghost() == placed
    # Named by a later note too: still placed where a.md names it.
    _edit(root / "c.md", "Prose", "[[ghost]] prose")
    assert ghost() == placed
    _age(root)
    # a.md names it no more: placed where b.md does.
    _edit(root / "a.md", "[[ghost]] and", "\nnothing and")
    moved = ghost()
    assert any('"b.md"' in row for row in moved)
    assert not any('"a.md"' in row for row in moved)
    # Named by no note at all: gone.
    _edit(root / "b.md", "[[ghost]]", "nothing")
    _edit(root / "c.md", "[[ghost]]", "nothing")
    assert ghost() == []
    # An attachment embedded no more goes; one embedded now comes.
    _edit(root / "a.md", "![[one.png]]", "![[two.png]]")
    rows = _same(root, full_reads)
    assert any("pics/two.png" in row for row in rows)
    assert not any("pics/one.png" in row for row in rows)
    # A negation's reason, a new residual, a new heading.
    _edit(root / "a.md", "(why)", "(because)")
    (root / "a.md").write_text((root / "a.md").read_text() + "\n## Residuals\n\n- a trace\n")
    rows = _same(root, full_reads)
    assert any('"because"' in row for row in rows)
    assert any('"a trace"' in row for row in rows)
    # Aliases name concepts other notes' negations may mean: the vault is read afresh.
    (root / "c.md").write_text('---\naliases: ["phantom"]\n---\n# C\n')
    _same(root, full_reads, read=True)
    # So it is once a file is added.
    _age(root)
    _kept(root)
    (root / "d.md").write_text("# D\n")
    _same(root, full_reads, read=True)


@pytest.mark.parametrize("seed", [1, 8])
def test_a_generated_vault_edited_at_random_answers_as_when_read_afresh(
    vault: Path, full_reads: list[int], seed: int
) -> None:
    import random
    import re

    _kept(vault)
    rng = random.Random(seed)
    notes = sorted(vault.rglob("*.md"))
    for step in range(40):
        note = rng.choice(notes)
        text = note.read_text()
        head, _, body = text.partition("\n# ")
        links = re.findall(r"\[\[[^\]]+\]\]", body)
        kinds = ["prose", "new concept", "drop link", "negation", "embed", "unembed", "title"]
        kind = rng.choice(kinds)
        if kind == "prose":
            body = body.replace("\n\n", f"\n\nA line of prose {step}.\n\n", 1)
        elif kind == "new concept" and links:
            body = body.replace(rng.choice(links), f"[[nowhere {step % 4}]]", 1)
        elif kind == "drop link" and links:
            body = body.replace(rng.choice(links), "plain words")
        elif kind == "negation":
            body += f"\n## What this is NOT\n\n- Not a stranger {step % 3} (said {step}).\n"
        elif kind == "embed":
            body += f"\n![[image-{step % 3}.png]]\n"
        elif kind == "unembed":
            body = re.sub(r"!\[\[image-\d\.png\]\]", "", body)
        elif kind == "title":
            body = f"Retitled {step}\n" + body.partition("\n")[2]
        note.write_text(f"{head}\n# {body}")
        if step % 7 == 0:
            _age(vault)  # a state with a name of its own, now and then
        _same(vault, full_reads)


def test_a_damaged_copy_is_not_updated_and_nothing_is_left_of_it(
    vault: Path, full_reads: list[int]
) -> None:
    _kept(vault)
    (copy,) = _copies(vault)
    folder = cache_folder(vault.resolve()) / STORE_DIR
    (folder / copy / "CURRENT").write_text("garbage")
    note = sorted(vault.rglob("*.md"))[2]
    note.write_text(note.read_text() + "\nMore prose.\n")
    _same(vault, full_reads, read=True)
    assert not any(p.name.startswith(".tmp-") and p.is_dir() for p in folder.iterdir())
    assert _copies(vault) == []  # taken to be updated, found damaged, let go


def test_a_copy_is_updated_only_for_the_user_who_kept_it(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full_reads: list[int]
) -> None:
    # What an update trusts (which files the copy was made from) is signed like the copy's name.
    _kept(vault)
    note = sorted(vault.rglob("*.md"))[2]
    note.write_text(note.read_text() + "\nMore prose.\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-b"))
    _same(vault, full_reads, read=True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-a"))
    _same(vault, full_reads)
