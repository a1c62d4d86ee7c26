"""The links family: every link and embed must lead where Obsidian would take the reader."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from urllib.parse import quote

from conceptgraph.lint.rule import Hit, Scope, rule
from conceptgraph.model import (
    Edit,
    Fix,
    Link,
    LinkKind,
    NoteRecord,
    PlainSpan,
    Severity,
    Span,
    name_of,
)
from conceptgraph.names import fold
from conceptgraph.vault.discovery import is_note_path
from conceptgraph.vault.load import Vault
from conceptgraph.vault.suggest import did_you_mean

# The lines of the note a fix was last written for: the rules write fixes for many links of one
# note in a row, and splitting a long note again for each made them quadratic in its links.
_split: tuple[str, list[str]] = ("", [""])


def _source_line(note: NoteRecord, number: int) -> str:
    global _split
    text, lines = _split
    if text is not note.text:
        lines = note.lines()
        _split = (note.text, lines)
    return lines[number - 1]


def _rewrite(
    note: NoteRecord, link: Link, target: str, display: str | None, safe: bool = True
) -> Fix | None:
    """A fix that writes ``link`` again pointing at ``target``, keeping its subpath and text.

    ``target`` is written as Obsidian writes link text (no ``.md``). A Markdown link keeps its
    text and gets the target's file name, percent-encoded; one with a title or an angle-bracket
    destination is left to the author.
    """
    if link.kind not in (LinkKind.WIKI, LinkKind.MARKDOWN):
        return None  # a canvas node's link is JSON, with no text of its own to rewrite
    if link.span.line != link.span.end_line:
        # A Markdown link over several lines: rewriting it would have to keep its line breaks.
        return None
    source = _source_line(note, link.span.line)
    written = source[link.span.column - 1 : link.span.end_column - 1]
    if link.kind is LinkKind.MARKDOWN:
        start = written.rfind("](")
        destination = written[start + 2 : -1]
        if start < 0 or not written.endswith(")") or any(c in destination for c in " <\"'"):
            return None
        href = quote(target + ".md") + (f"#{quote(link.subpath)}" if link.subpath else "")
        new = written[: start + 2] + href + ")"
        return Fix(f"write {new}", (Edit(link.span, new),), safe)
    if link.kind is not LinkKind.WIKI:
        return None
    pipe = "\\|" if "\\|" in written else "|"
    inner = target + (f"#{link.subpath}" if link.subpath is not None else "")
    if display is not None:
        inner += pipe + display
    new = ("!" if link.embed else "") + "[[" + inner + "]]"
    return Fix(f"write {new}", (Edit(link.span, new),), safe)


@rule("broken-link", family="links", severity=Severity.ERROR, fixable=True)
def broken_link(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a link or embed whose target matches no file of the vault.

    Matching is Obsidian's: by base name or path, case-insensitive, ``.md`` optional, any file
    (not only notes) a target. Links in code, HTML comments and math are not links. A canvas's
    file cards and the ``[[links]]`` of its text cards are links too, reported at the card's
    ``{`` in the ``.canvas`` file.
    Why: a dead link drops an edge from the graph, and the reader lands on an empty new note.
    Example:  See [[Tomatoe]].
    Instead:  See [[Tomato]].
    The message names up to three existing note names or aliases nearest the target (by edit
    distance, case not counted: one edit for names of up to 4 characters, else two), "did you
    mean: propagation, propagate?"; none for a target with a suffix other than ``.md`` (an
    attachment).
    Fix: unsafe, only where a name is near: points the link at the nearest (an alias becomes
    the text shown). ``--fix`` never applies it: the nearest name is often not the one meant
    (a link written before its note, or "cat" for "car"). A link that only matches an alias
    is reported as link-by-alias instead, with a safe fix; a dead ``canonical_of`` as
    bad-canonical-of.
    """
    for link, found in vault.resolved(note):
        if not link.target or found.path is not None:
            continue
        if link.frontmatter_key == "canonical_of":
            continue
        if link.kind is LinkKind.WIKI and vault.alias_owners(link.target):
            continue
        what = "embed" if link.embed else "link"
        message = f"{what} target {link.target!r} matches no note or file"
        near = vault.near_names(link.target) if _names_a_note(link.target) else []
        fix = None
        if near:
            name, path = near[0]
            display = link.display
            if display is None and fold(name) != fold(name_of(path)):
                display = name  # an alias: Obsidian's suggestion writes it as the text shown
            fix = _rewrite(note, link, vault.linktext(path, note.path), display, safe=False)
        yield Hit(link.span, message + did_you_mean(name for name, _ in near), fix)


def _names_a_note(target: str) -> bool:
    """Whether a link target is written as a note's name (no suffix, or ``.md``)."""
    base = posixpath.basename(target.strip())
    return "." not in base or is_note_path(base)


@rule("ambiguous-link", family="links", severity=Severity.WARNING, fixable=True)
def ambiguous_link(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a link whose name fits several files, so which one opens depends on where they lie.

    Obsidian then opens the file under the linking note's folder first, else the shortest path;
    it never writes such a link itself (it writes the path instead). A name that is only the
    tail of another name (``horses`` and ``riding-horses``) is not ambiguous, nor is a link whose
    path names one file exactly from the vault root. Where a name fits many files (an
    ``index.md`` in every folder), the message names the first eight others and how many more.
    Why: adding or moving a same-named note silently re-points the link.
    Example:  [[index]] with projects/index.md and areas/index.md
    Instead:  [[projects/index]]
    Fix: safe. Writes the path of the file Obsidian opens today, so nothing changes for readers.
    None when the files differ only in case (see name-collision): no path tells them apart.
    """
    for link, found in vault.resolved(note):
        if not link.target:
            continue
        if not found.ambiguous or found.path is None:
            continue
        unlisted = found.matches - len(found.candidates)
        others = ", ".join(found.candidates[1:]) + (f" ... ({unlisted} more)" if unlisted else "")
        target = vault.linktext(found.path, note.path)
        opens = f"{link.target!r} fits {found.matches} files; Obsidian opens {found.path}"
        if vault.resolve_linkpath(target, note.path).candidates != (found.path,):
            message = f"{opens} (also: {others}); their names differ only in case, rename one"
            yield Hit(link.span, message)
            continue
        yield Hit(
            link.span,
            f"{opens} (also: {others}); write [[{target}]] to say which",
            _rewrite(note, link, target, link.display),
        )


@rule("broken-heading", family="links", severity=Severity.WARNING, fixable=True)
def broken_heading(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag ``[[note#Heading]]`` when the note has no such heading.

    Headings compare as Obsidian compares them: without case, punctuation such as ``:`` ``?``
    ``*`` counted as space, spaces collapsed; ``[[n#A#B]]`` needs B under A. Only top-level
    headings count (Obsidian does not link into quotes or lists).
    Why: Obsidian still opens the note but at the top, and the reader has to hunt.
    Example:  [[migration#Residual]]
    Instead:  [[migration#Residuals]]
    The message names up to three of the note's headings nearest the one written (as
    broken-link measures names), "did you mean: Residuals?"; none for a chain ``A#B``.
    Fix: unsafe, only for a wikilink with a heading near: writes the nearest heading.
    ``--fix`` never applies it: the intended heading cannot be told from a typo with certainty.
    """
    for link, found in vault.resolved(note):
        heading = link.heading
        if heading is None or not heading.strip("#"):
            continue
        target = vault.note_at(found.path)
        if target is None or not is_note_path(target.path):
            continue
        if vault.find_subpath(target, heading):
            continue
        message = f"{target.path} has no heading {heading!r}"
        # A chain (``A#B``) may fail at any of its parts: which one to respell is not known.
        near = vault.near_headings(target, heading) if "#" not in heading.strip("#") else []
        fix = None
        if near and link.kind is LinkKind.WIKI:
            respelt = link._replace(subpath=near[0])
            fix = _rewrite(note, respelt, link.target, link.display, safe=False)
        yield Hit(link.span, message + did_you_mean(near), fix)


@rule("broken-block-ref", family="links", severity=Severity.WARNING)
def broken_block_ref(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag ``[[note#^id]]`` when no block of the note carries ``^id``.

    Block ids are letters, digits and hyphens written after a space at the end of a paragraph,
    list item or line, or alone on the line after a table or quote; compared without case.
    Why: the embed or link shows nothing or the top of the note instead of the quoted block.
    Example:  ![[migration#^cutover-rule]]   (no ^cutover-rule in migration.md)
    Instead:  add ^cutover-rule to the end of the paragraph meant.
    Fix: none. Which paragraph was meant is not recorded anywhere.
    """
    for link, found in vault.resolved(note):
        block = link.block
        if block is None:
            continue
        target = vault.note_at(found.path)
        if target is None or not is_note_path(target.path):
            continue
        if not vault.find_subpath(target, f"^{block}"):
            yield Hit(link.span, f"{target.path} has no block ^{block}")


@rule("link-by-alias", family="links", severity=Severity.WARNING, fixable=True)
def link_by_alias(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a link that names no file, only another note's alias.

    Obsidian does not follow aliases: ``[[transition]]`` opens a new empty note "transition",
    not migration.md, whose alias it is. Aliases are for search and link suggestions, which
    write ``[[migration|transition]]``.
    Why: the link looks right in the editor and is dead in Obsidian and in the graph.
    Example:  [[transition]]
    Instead:  [[migration|transition]]
    Fix: safe when one note has the alias: point at it and keep the words as display text.
    """
    for link, found in vault.resolved(note):
        if link.kind is not LinkKind.WIKI or not link.target or found.path is not None:
            continue
        owners = vault.alias_owners(link.target)
        if not owners:
            continue
        if len(owners) > 1:
            names = ", ".join(sorted(owners))
            message = f"{link.target!r} is an alias of several notes ({names}), not a file name"
            yield Hit(link.span, message)
            continue
        target = vault.linktext(owners[0], note.path)
        display = link.display if link.display is not None else link.target
        fix = _rewrite(note, link, target, display)
        message = f"{link.target!r} is an alias of {owners[0]}; Obsidian does not follow aliases"
        yield Hit(link.span, message, fix)


@rule("link-to-non-canonical", family="links", severity=Severity.WARNING, fixable=True)
def link_to_non_canonical(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a link to a variant note (``canonical: false``) instead of its canonical note.

    Links in the variant's own ``canonical_of`` and links from a variant to itself are fine.
    Why: the graph should gather a concept's edges on its authoritative note; links to stubs
    scatter them.
    Example:  [[transition]]   where transition.md has canonical_of: "[[migration]]"
    Instead:  [[migration|transition]]
    Fix: safe when the variant's canonical_of names a canonical note: point the link there and
    keep the words shown (a Markdown link keeps its text). Unsafe for an embed: the canonical
    note's content would be shown in place of the variant's.
    """
    variants = vault.variants
    for link, found in vault.resolved(note):
        if found.path not in variants or found.path == note.path:
            continue
        if not link.target or link.frontmatter_key == "canonical_of":
            continue
        target = vault.notes[found.path]
        if target.property("canonical") is not False:
            continue
        _, canonical = vault.canonical_of(target)
        owner = vault.note_at(canonical)
        if owner is None or owner.property("canonical") is not True:
            yield Hit(link.span, f"{target.path} is not canonical (canonical: false)")
            continue
        text = link.display if link.display is not None else link.target
        fix = _rewrite(note, link, vault.linktext(owner.path, note.path), text, not link.embed)
        yield Hit(link.span, f"{target.path} is a variant of {owner.path}; link there", fix)


@rule("self-link", family="links", severity=Severity.WARNING)
def self_link(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a link from a note to itself as a whole (no heading or block).

    ``[[#Heading]]`` and ``[[this-note#Heading]]`` jump within the note and are fine.
    Why: a link that reopens the page goes nowhere, and an embed of itself is a loop; in the
    graph it is a loop edge that says nothing.
    Example:  in migration.md: a [[migration]] moves state
    Instead:  a migration moves state
    Fix: none. Whether to drop the brackets or link elsewhere is the author's call.
    """
    for link, found in vault.resolved(note):
        if not link.target or link.subpath is not None:
            continue
        if found.path == note.path:
            what = "embeds" if link.embed else "links to"
            yield Hit(link.span, f"note {what} itself")


LinksOut = tuple[bool, PlainSpan, tuple[str, ...]]


def _links_out(note: NoteRecord, vault: Vault) -> LinksOut:
    """Whether the note is text, where its title is, and the other files its links reach."""
    title = note.title
    span = title.span if title is not None else Span.point(1)
    reached = {
        found.path
        for _, found in vault.resolved(note)
        if found.path is not None and found.path != note.path
    }
    return note.decoded, span.plain(), tuple(sorted(reached))


@rule("orphan-note", family="links", severity=Severity.INFO, scope=Scope.VAULT, gather=_links_out)
def orphan_note(vault: Vault, gathered: Mapping[str, LinksOut]) -> Iterator[Hit]:
    """Flag a note no other note links to and that links to no other file.

    This is Obsidian's graph-view "orphan": a note standing alone. Notes that only link out, or
    are only linked to, are not orphans; a card on a canvas (``.canvas``) is a link to its
    note.
    Why: in a concept vault an unconnected note is a concept nothing stands on; often a
    forgotten draft or a misspelt file name.
    Example:  drafts/untitled.md with no links in or out
    Instead:  link it from the notes it belongs with, or delete it.
    Fix: none.
    """
    linked = {path for _, _, reached in gathered.values() for path in reached}
    for path, (decoded, place, reached) in gathered.items():
        if decoded and not reached and path not in linked and is_note_path(path):
            yield Hit(Span(*place), "no note links here and this note links nowhere", path=path)
