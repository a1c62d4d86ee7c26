"""Renaming a heading or a block id of one note, and every link into it with it.

The heading's text on its line is rewritten (its ``#`` marks and anything after the text
stay), and so is each link that leads to the note with a subpath naming it: every part of
a heading chain (``[[note#Part#Old]]``) that is the heading, compared as Obsidian compares
headings; a Markdown link's fragment percent-encoded; a canvas file card's ``subpath``. A
note with two headings of that name is refused: a link names the first one only, and which
one was meant is a guess. A block id (``^id``) is renamed the same way, links ``#^id`` with it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable

from conceptgraph.edit.plan import Change, Plan, TextEdit, files_edits, source_text, text_edit
from conceptgraph.errors import EditError, UsageError
from conceptgraph.lint.fix import _line_offsets
from conceptgraph.model import Link, NoteRecord
from conceptgraph.names import heading_key
from conceptgraph.vault.load import Vault

# The characters Obsidian allows in a block id.
_BLOCK_ID = re.compile(r"[A-Za-z0-9-]+")
# A heading holding one of these cannot be linked to: they end or split a link's subpath.
_UNLINKABLE_HEADING = frozenset("[]|#^\n\r")

# A link into the note -> its new subpath, or None where it does not name what is renamed.
_Rename = Callable[[Link], str | None]


def _note(vault: Vault, path: str) -> NoteRecord:
    note = vault.notes.get(path)
    if note is None or not note.text:
        raise UsageError(f"{path}: no note of the vault has this path")
    return note


def plan_rename_heading(vault: Vault, path: str, old: str, new: str) -> Plan:
    """What renaming heading ``old`` of note ``path`` to ``new`` changes. Writes nothing."""
    note = _note(vault, path)
    key, new = heading_key(old), new.strip()
    if not new or any(c in _UNLINKABLE_HEADING for c in new):
        raise UsageError(f"{new!r}: a heading a link can name has none of [ ] | # ^")
    found = [h for h in note.headings if heading_key(h.text) == key]
    if not found:
        raise EditError(f"no heading {old!r}", path)
    if len(found) > 1:
        lines = ", ".join(str(h.span.line) for h in found)
        message = f"{len(found)} headings {old!r} (lines {lines}); links name the first"
        raise EditError(message, path)
    taken = {heading_key(h.text) for h in note.headings}
    if heading_key(new) != key and heading_key(new) in taken:
        raise EditError(f"already has a heading {new!r}", path)
    heading = found[0]
    text = source_text(vault, note)
    if text is None:
        raise EditError("the file is not clean UTF-8 text", path)
    starts, _ = _line_offsets(text)
    line = note.lines()[heading.span.line - 1]
    at = line.find(heading.text, heading.span.column - 1)
    if at < 0:
        raise EditError("the heading is written in a form not rewritten", path, heading.span.line)
    start = starts[heading.span.line - 1] + at
    own = text_edit(path, text, start, start + len(heading.text), new)

    def rename(link: Link) -> str | None:
        if link.heading is None:
            return None
        parts = link.heading.split("#")
        renamed = [new if heading_key(part) == key else part for part in parts]
        return "#".join(renamed) if renamed != parts else None

    return _plan(vault, note, text, own, rename)


def plan_rename_block(vault: Vault, path: str, old: str, new: str) -> Plan:
    """What renaming block id ``old`` of note ``path`` to ``new`` changes. Writes nothing."""
    note = _note(vault, path)
    old, new = old.strip().removeprefix("^"), new.strip().removeprefix("^")
    if _BLOCK_ID.fullmatch(new) is None:
        raise UsageError(f"{new!r}: a block id is letters, digits and hyphens")
    found = [b for b in note.block_ids if b.id.lower() == old.lower()]
    if not found:
        raise EditError(f"no block id ^{old}", path)
    if new.lower() != old.lower() and any(b.id.lower() == new.lower() for b in note.block_ids):
        raise EditError(f"already has a block id ^{new}", path)
    text = source_text(vault, note)
    if text is None:
        raise EditError("the file is not clean UTF-8 text", path)
    starts, _ = _line_offsets(text)
    block = found[0]
    start = starts[block.span.line - 1] + block.span.column - 1
    if text[start : start + len(old) + 1].lower() != "^" + old.lower():
        raise EditError("the block id is not where it was read", path, block.span.line)
    own = text_edit(path, text, start + 1, start + 1 + len(block.id), new)

    def rename(link: Link) -> str | None:
        block_id = link.block
        return "^" + new if block_id is not None and block_id.lower() == old.lower() else None

    return _plan(vault, note, text, own, rename)


def _plan(vault: Vault, note: NoteRecord, text: str, own: TextEdit, rename: _Rename) -> Plan:
    """The note's own edit, and each link into the note that ``rename`` gives a new subpath."""
    changes: dict[str, list[Change]] = defaultdict(list)
    for path in sorted({note.path} | vault.backlinks.get(note.path, set())):
        source = vault.notes[path]
        for index, (link, found) in enumerate(vault.resolved(source)):
            if found.path != note.path:
                continue
            subpath = rename(link)
            if subpath is not None:
                changes[path].append((index, None, subpath))
    others, skipped, edited = files_edits(vault, changes, {note.path: text})
    edits = [own, *others]
    texts = {note.path: text, **edited}
    disk = {path: vault.disk_path(path) for path in texts}
    return Plan(vault.root, tuple(edits), (), texts, disk, (), tuple(skipped))
