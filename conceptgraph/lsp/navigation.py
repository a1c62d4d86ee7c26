"""Going from a link to what it names and back: definition, references, hover, symbols.

Positions here are conceptgraph's (1-based lines, code-point columns); the server turns them
into the protocol's. A link leads where ``Vault.resolve`` says, as in ``lint``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from conceptgraph.model import Heading, Link, NoteRecord, Span, name_of
from conceptgraph.names import heading_key
from conceptgraph.vault.load import Vault

# How much of a definition section a hover shows.
_HOVER_CHARS = 600


@dataclass(frozen=True, slots=True)
class Place:
    """A place in a vault: a note and a span in it."""

    path: str
    span: Span


def _contains(span: Span, line: int, column: int) -> bool:
    return (span.line, span.column) <= (line, column) <= (span.end_line, span.end_column)


def link_at(note: NoteRecord, line: int, column: int) -> Link | None:
    """The link written at a position of a note, if any."""
    return next((lk for lk in note.links if _contains(lk.span, line, column)), None)


def heading_at(note: NoteRecord, line: int) -> Heading | None:
    """The heading on a line of a note, if any."""
    return next((h for h in note.headings if h.span.line == line), None)


def target(vault: Vault, note: NoteRecord, link: Link) -> Place | None:
    """Where a link leads: its note, at the heading or block its subpath names if it has one."""
    path = vault.resolve(link, note.path).path
    if path is None:
        return None
    found = vault.notes.get(path)
    start = Place(path, Span.point(1))
    if found is None or not link.subpath:
        return start
    parts = [part for part in link.subpath.split("#") if part]
    if not parts:
        return start
    last = parts[-1]
    if last.startswith("^"):
        wanted = last[1:].lower()
        block = next((b for b in found.block_ids if b.id.lower() == wanted), None)
        return Place(path, block.span) if block is not None else start
    key = heading_key(last)
    heading = next((h for h in found.headings if heading_key(h.text) == key), None)
    return Place(path, heading.span) if heading is not None else start


def references(vault: Vault, path: str, heading: str | None = None) -> Iterator[Place]:
    """The links in other notes that lead to a note (to one of its headings, if given)."""
    key = heading_key(heading) if heading is not None else None
    for source in sorted(vault.backlinks.get(path, ())):
        note = vault.notes.get(source)
        if note is None:
            continue
        for link, found in vault.resolved(note):
            if found.path != path:
                continue
            if key is not None:
                parts = [p for p in (link.subpath or "").split("#") if p]
                if not parts or heading_key(parts[-1]) != key:
                    continue
            yield Place(source, link.span)


def hover(vault: Vault, path: str) -> str:
    """Markdown about a note for a hover: its title, aliases, and its definition section."""
    note = vault.notes[path]
    title = note.title.text if note.title is not None else name_of(path)
    parts = [f"**{title}** ({path})"]
    aliases = vault.aliases_by_note.get(path) or []
    if aliases:
        parts.append("Aliases: " + ", ".join(aliases))
    definition = _section_text(note, "definition")
    if definition:
        parts.append(definition)
    return "\n\n".join(parts)


def _section_text(note: NoteRecord, title: str) -> str:
    """The text of a note's first section of that title (compared as headings are), shortened."""
    section = next((s for s in note.sections if heading_key(s.title) == title), None)
    if section is None:
        return ""
    lines = note.text.splitlines()[section.span.line : section.end_line]
    text = "\n".join(lines).strip()
    return text if len(text) <= _HOVER_CHARS else text[:_HOVER_CHARS].rstrip() + " ..."


def workspace_symbols(vault: Vault, query: str, most: int = 200) -> list[tuple[str, Place, str]]:
    """Notes and headings whose names hold ``query`` (case-insensitive): name, place, kind."""
    wanted = query.lower()
    found: list[tuple[str, Place, str]] = []
    for path in sorted(vault.notes):
        name = name_of(path)
        if wanted in name.lower():
            found.append((name, Place(path, Span.point(1)), "note"))
        for h in vault.notes[path].headings:
            if wanted in h.text.lower():
                found.append((h.text, Place(path, h.span), "heading"))
        if len(found) >= most:
            break
    return found[:most]
