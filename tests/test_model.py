"""Records sent from a parsing worker: packed, unpacked, and equal to what was parsed."""

from __future__ import annotations

import dataclasses
import datetime
import time
from pathlib import Path
from typing import Any

import pytest

from conceptgraph.config import Config
from conceptgraph.model import NoteRecord
from conceptgraph.note.parse import parse_note
from conceptgraph.vault import read
from conceptgraph.vault.load import load_vault
from tests.conftest import FIXTURES

REPO = Path(__file__).parent.parent


def _round_trip(record: NoteRecord) -> NoteRecord:
    packed = record.packed()
    assert isinstance(packed, bytes)
    return NoteRecord.unpacked(packed)


@pytest.mark.parametrize(
    "folder", [FIXTURES, REPO / "notes"], ids=["fixture vaults", "the concept vault"]
)
def test_every_note_comes_back_equal(folder: Path) -> None:
    notes = sorted(p for p in folder.rglob("*.md") if p.is_file())  # not a dangling link
    assert len(notes) > 15
    for note in notes:
        record = parse_note(note.name, note.read_bytes())
        assert _round_trip(record) == record, note


def test_the_hostile_vault_comes_back_equal(hostile_vault: Path) -> None:
    # Undecodable bytes, problems of every kind, frontmatter YAML refuses, names of every sort.
    vault = load_vault(hostile_vault, Config(), jobs=1)
    assert any(record.problems for record in vault.notes.values())
    for record in vault.notes.values():
        assert _round_trip(record) == record, record.path


def test_frontmatter_marshal_cannot_pack_is_pickled() -> None:
    text = (
        "---\n"
        "created: 2024-03-01\n"
        "seen: 2024-03-01 10:30:00\n"
        "tags: !!set {a, b}\n"
        "base: &b {x: [1, 2.5, null, true]}\n"
        "copy: *b\n"
        "---\n"
        "# Dated\n\n- [[Other#Part|shown]] ^block\n"
    )
    record = parse_note("dated.md", text.encode())
    assert record.frontmatter is not None
    assert record.frontmatter.data["created"] == datetime.date(2024, 3, 1)
    assert record.packed()[:1] == b"\x80"  # pickled, not marshalled
    back = _round_trip(record)
    assert back == record
    assert back.frontmatter is not None
    assert isinstance(back.frontmatter.data["seen"], datetime.datetime)
    assert back.frontmatter.data["tags"] == {"a", "b"}


def test_every_field_is_sent() -> None:
    # A field added to NoteRecord must be added to plain() and from_plain() too.
    fields = [f.name for f in dataclasses.fields(NoteRecord)]
    record = parse_note("a.md", b"# A\n")
    assert len(record.plain()) == len(fields)
    for name, value in zip(fields, record.plain(), strict=True):
        if not isinstance(value, (list, tuple)):
            assert value == getattr(record, name), name


def test_a_plain_note_is_marshalled() -> None:
    record = parse_note("plain.md", b"---\ntype: mechanism\n---\n# Plain\n\nSee [[Other]].\n")
    assert record.packed()[:1] != b"\x80"
    assert _round_trip(record) == record


def test_records_read_by_workers_equal_those_read_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past vault.read._PARALLEL_MIN_NOTES, so that a worker process parses (and packs) most notes.
    for number in range(450):
        dated = f"date: 2024-01-{number % 28 + 1:02d}\n" if number % 3 == 0 else ""
        (tmp_path / f"note {number}.md").write_text(
            f"---\n{dated}aliases: [n{number}]\n---\n# Note {number}\n\n"
            f"## Part\n\n- [[note {number + 1}#Part]] ^b{number}\n"
        )
    here = load_vault(tmp_path, Config(), jobs=1)
    received: list[int] = []
    unpack, read_batch = read._unpacked, read._read_batch

    def unpacked(packed: list[bytes]) -> list[NoteRecord]:
        received.append(len(packed))
        return unpack(packed)

    def slowly(*args: Any) -> list[NoteRecord]:
        # The worker takes batches from the front while this process reads from the back:
        # make sure this process is not done with them all before the worker has started.
        time.sleep(0.2)
        return read_batch(*args)

    monkeypatch.setattr(read, "_unpacked", unpacked)
    monkeypatch.setattr(read, "_read_batch", slowly)
    shared = load_vault(tmp_path, Config(), jobs=2)
    assert sum(received) > 0
    assert list(shared.notes) == list(here.notes)
    assert dict(shared.notes) == dict(here.notes)
