"""Completion inside ``[[``: note names, then aliases, headings after ``#``, block ids after ``#^``.

An alias completes to ``[[note|alias]]``, as Obsidian does: aliases are not link targets. Names
are ranked: a name that starts with what was typed, then one with a word that does, then one
that holds it; names before aliases, shorter before longer. The index of names is built once
per state of the vault's files and aliases, and a request scans it once (a few milliseconds
for 10,000 notes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types

from conceptgraph.lsp.positions import Lines
from conceptgraph.model import name_of
from conceptgraph.names import fold
from conceptgraph.vault.discovery import is_note_path
from conceptgraph.vault.load import Vault

# More would only slow the editor down: it filters what we send as the user types on.
MOST = 100

_WORD_START = re.compile(r"[\s\-_./]")


@dataclass(frozen=True, slots=True)
class _Name:
    key: str  # folded, for matching
    label: str
    path: str
    alias: bool


class NameIndex:
    """Every note name and alias of a vault, to match what was typed after ``[[``."""

    def __init__(self, vault: Vault) -> None:
        names = [
            _Name(fold(name_of(p)), name_of(p), p, False) for p in vault.files if is_note_path(p)
        ]
        for path, aliases in sorted(vault.aliases_by_note.items()):
            names.extend(_Name(fold(a), a, path, True) for a in aliases)
        self.names = names
        self.key = _state(vault)

    def ranked(self, typed: str) -> list[_Name]:
        """The names that match ``typed``, best first (all of them, for nothing typed)."""
        wanted = fold(typed)
        scored: list[tuple[int, bool, int, str, _Name]] = []
        for name in self.names:
            key = name.key
            if key.startswith(wanted):
                rank = 0
            elif wanted not in key:
                continue
            elif any(key.startswith(wanted, m.end()) for m in _WORD_START.finditer(key)):
                rank = 1
            else:
                rank = 2
            scored.append((rank, name.alias, len(key), name.label, name))
        scored.sort(key=lambda s: s[:4])
        return [s[4] for s in scored]


def _state(vault: Vault) -> tuple[int, int]:
    # The file list makes a new Vault; an edit of aliases drops and rebuilds this index.
    return id(vault), id(vault.aliases_by_note)


_index: NameIndex | None = None


def name_index(vault: Vault) -> NameIndex:
    """The vault's name index, built again only when its files or aliases changed."""
    global _index
    if _index is None or _index.key != _state(vault):
        _index = NameIndex(vault)
    return _index


def complete(vault: Vault, path: str, lines: Lines, line: int, column: int) -> types.CompletionList:
    """What to offer at a position (1-based line, code-point column) of note ``path``."""
    text = lines.line_text(line)
    before = text[: column - 1]
    start = before.rfind("[[")
    empty = types.CompletionList(is_incomplete=False, items=[])
    if start < 0 or "]]" in before[start:]:
        return empty
    typed = before[start + 2 :]
    if "|" in typed:
        return empty
    closing = "" if text[column - 1 :].startswith("]]") else "]]"

    def edit(first: int, new: str) -> types.TextEdit:
        where = types.Range(start=lines.position(line, first), end=lines.position(line, column))
        return types.TextEdit(range=where, new_text=new)

    if "#" in typed:
        linkpath, _, subpath = typed.partition("#")
        # [[#Heading]] is a heading of this very note.
        found = vault.resolve_linkpath(linkpath, path).path if linkpath else path
        note = vault.note_at(found)
        if note is None:
            return empty
        # The 1-based column just after the "#" (or "#^").
        first = start + 4 + len(linkpath) + subpath.startswith("^")
        if subpath.startswith("^"):
            wanted = subpath[1:].lower()
            items = [
                types.CompletionItem(
                    label=b.id,
                    kind=types.CompletionItemKind.Reference,
                    text_edit=edit(first, b.id + closing),
                    sort_text=f"{i:05d}",
                )
                for i, b in enumerate(note.block_ids)
                if b.id.lower().startswith(wanted)
            ]
        else:
            wanted = subpath.lower()
            items = [
                types.CompletionItem(
                    label=h.text,
                    kind=types.CompletionItemKind.Reference,
                    detail="#" * h.level,
                    text_edit=edit(first, h.text + closing),
                    sort_text=f"{i:05d}",
                )
                for i, h in enumerate(note.headings)
                if wanted in h.text.lower()
            ]
        return types.CompletionList(is_incomplete=False, items=items)
    ranked = name_index(vault).ranked(typed)
    items = []
    for i, name in enumerate(ranked[:MOST]):
        link = vault.linktext(name.path, path)
        inserted = f"{link}|{name.label}" if name.alias else link
        items.append(
            types.CompletionItem(
                label=name.label,
                kind=types.CompletionItemKind.File,
                detail=f"alias of {name_of(name.path)}" if name.alias else name.path,
                filter_text=name.label,
                text_edit=edit(start + 3, inserted + closing),
                sort_text=f"{i:05d}",
            )
        )
    # Incomplete: the editor asks again as the user types on, for the ranking to stay ours.
    return types.CompletionList(is_incomplete=True, items=items)
