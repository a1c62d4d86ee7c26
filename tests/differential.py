"""What the differential tests of the fast Markdown engines share.

A fast engine takes a note body and returns ``MarkdownParts``, or raises its "unsure"
exception; either it gives exactly what the reference (markdown-it-py) gives, or it gives up.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from conceptgraph.model import LINE_BREAK
from conceptgraph.note import frontmatter
from conceptgraph.note.markdown.parts import MarkdownParts
from conceptgraph.note.markdown.reference import parse_markdown
from tests import hostile

Engine = Callable[[str, list[str], int], MarkdownParts]
PARTS = ("links", "headings", "sections", "list_items", "block_ids", "directives", "problems")


def both(
    text: str, engine: Engine, unsure: type[Exception]
) -> tuple[MarkdownParts | None, MarkdownParts]:
    """The engine's parts (None when it is unsure) and the reference's, for a whole note."""
    lines = LINE_BREAK.split(text)
    parts = frontmatter.split(lines)
    reference = parse_markdown(parts.body, lines, parts.body_line)
    try:
        fast = engine(parts.body, lines, parts.body_line)
    except unsure:
        return None, reference
    return fast, reference


def assert_same(text: str, engine: Engine, unsure: type[Exception]) -> bool:
    """Whether the engine took the note; fails when it took it and differs."""
    fast, reference = both(text, engine, unsure)
    if fast is None:
        return False
    for part in PARTS:
        assert getattr(fast, part) == getattr(reference, part), (part, text)
    return True


def notes_under(*roots: Path) -> list[Path]:
    """The regular ``.md`` files under these folders."""
    found = []
    for root in roots:
        for folder, _, names in os.walk(root):
            found += [Path(folder) / n for n in sorted(names) if n.endswith(".md")]
    return [p for p in found if p.is_file() and not p.is_symlink()]


def readable(path: Path) -> str | None:
    """A note's text, or None for one that is not text."""
    data = path.read_bytes()
    if b"\x00" in data:
        return None
    return data.decode("utf-8", "replace").removeprefix("\ufeff")


def hostile_texts(root: Path) -> Iterator[str]:
    """The text of every readable note of the hostile vault, built in ``root``."""
    hostile.build(root)
    hostile.remove_tree(root / "deep")
    try:
        for path in notes_under(root):
            try:
                text = readable(path)
            except OSError:
                continue
            if text is not None:
                yield "\n".join(LINE_BREAK.split(text))
    finally:
        hostile.remove_tree(root)


REPO = Path(__file__).resolve().parent.parent


def fixture_texts() -> list[str]:
    """Every readable note of the fixtures, the test data and the concept vault."""
    paths = notes_under(REPO / "tests" / "fixtures", REPO / "tests" / "data", REPO / "notes")
    return [text for path in paths if (text := readable(path)) is not None]


def concept_texts() -> list[str]:
    """The notes of the concept vault, ``notes/``."""
    return [path.read_text(encoding="utf-8") for path in notes_under(REPO / "notes")]


def users_texts() -> list[str]:
    """The user's note, byte for byte with its damage, and the fixtures made from it."""
    sample = REPO.parent / "shared" / "vault-sample" / "migration.md"
    damaged = REPO / "tests" / "fixtures" / "text" / "mojibake"
    paths = [sample, *damaged.rglob("migration.md")]
    return [path.read_bytes().decode("utf-8") for path in paths if path.exists()]
