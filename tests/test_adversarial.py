"""Issue 23's adversarial shapes: the same answers as the algorithms they replace, in bounded work.

Each replaced algorithm is held to its old self (kept here as the reference) on small and
random inputs; each shape is linted at n and 4n with its work counted (calls or regex steps),
never timed. benchmarks/adversarial.py times the same shapes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conceptgraph import vault as vault_module
from conceptgraph.api import lint_paths
from conceptgraph.model import BlockId, Heading, NoteRecord, Span
from conceptgraph.names import heading_key
from conceptgraph.vault import SubpathIndex

# --------------------------------------------------------------- links into a note's headings


def _reference_find_subpath(note: NoteRecord, subpath: str) -> bool:
    """find_subpath before issue 23: a walk over every heading for every link."""
    parts = [part for part in subpath.split("#") if part]
    if not parts:
        return True
    if len(parts) == 1 and parts[0].startswith("^"):
        wanted = parts[0][1:].lower()
        if any(block.id.lower() == wanted for block in note.block_ids):
            return True
    keys = [heading_key(part) for part in parts]
    level = 0
    matched = 0
    for heading in note.headings:
        if heading.level > level and heading_key(heading.text) == keys[matched]:
            level = heading.level
            matched += 1
            if matched == len(keys):
                return True
    return False


_WORDS = st.sampled_from(["a", "B", "a b", "c", "^x", "x", "A:", ""])


@settings(max_examples=300, deadline=None)
@given(
    headings=st.lists(st.tuples(st.integers(1, 6), _WORDS), max_size=12),
    blocks=st.lists(st.sampled_from(["x", "X", "y"]), max_size=3),
    subpath=st.lists(_WORDS, min_size=0, max_size=4).map("#".join),
)
def test_subpath_index_answers_as_the_walk_did(
    headings: list[tuple[int, str]], blocks: list[str], subpath: str
) -> None:
    note = NoteRecord(
        path="n.md",
        text="",
        headings=tuple(Heading(level, text, Span.point(1)) for level, text in headings),
        block_ids=tuple(BlockId(block, Span.point(1)) for block in blocks),
    )
    assert SubpathIndex.of(note).finds(subpath) == _reference_find_subpath(note, subpath)


def _headings_note(n: int) -> str:
    parts = ["# Many\n\n"]
    for i in range(n):
        parts.append(
            f"{'#' * (2 + i % 3)} Part {i}\n\nSee [[#Part {i}]] and [[many#Part {n - i}]].\n\n"
        )
    return "".join(parts)


def _counting_heading_keys(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]

    def counted(text: str) -> str:
        calls[0] += 1
        return heading_key(text)

    monkeypatch.setattr(vault_module, "heading_key", counted)
    return calls


@pytest.mark.parametrize("n", [100, 400])
def test_links_into_many_headings_read_each_heading_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int
) -> None:
    (tmp_path / "many.md").write_text(_headings_note(n), encoding="utf-8")
    calls = _counting_heading_keys(monkeypatch)
    result = lint_paths([tmp_path], jobs=1)
    broken = [f for f in result.findings if f.rule == "broken-heading"]
    # [[many#Part n]] is the one link to a heading that is not there.
    assert [(f.line, f.message) for f in broken] == [(5, f"many.md has no heading 'Part {n}'")]
    # One key per heading for the index, one per link part: the walk took n per link.
    assert calls[0] <= 3 * n + 10
