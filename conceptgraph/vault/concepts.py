"""Which concepts a note stands for: its title and aliases as keys, and who has each key."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from conceptgraph.model import NoteRecord, name_of
from conceptgraph.names import concept_key
from conceptgraph.note.properties import as_text


def is_variant(note: NoteRecord) -> bool:
    """Whether a note says it is a variant: ``canonical: false``, or a ``canonical_of`` link."""
    return note.property("canonical") is False or any(
        link.frontmatter_key == "canonical_of" for link in note.links
    )


def note_aliases(note: NoteRecord) -> list[str]:
    """A note's aliases as Obsidian reads them: a list (its texts only), or one text."""
    value = note.property("aliases")
    items = value if isinstance(value, list) else [value]
    texts = (as_text(item) for item in items)
    return [text.strip() for text in texts if text is not None and text.strip()]


def concept_keys(path: str, aliases: Iterable[str]) -> list[str]:
    """A note's concept names in ``concept_key`` form: its file name's, then its aliases'."""
    return [concept_key(name_of(path)), *map(concept_key, aliases)]


def concept_index(keys: Iterable[tuple[str, list[str]]]) -> dict[str, list[str]]:
    """``Vault.concepts`` from each note's ``concept_keys``, given in path order."""
    index: dict[str, list[str]] = defaultdict(list)
    by_path = list(keys)
    for path, own in by_path:
        index[own[0]].append(path)
    for path, own in by_path:
        for key in own[1:]:
            owners = index[key]
            if path not in owners:
                owners.append(path)
    return index
