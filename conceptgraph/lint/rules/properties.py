"""Obsidian's properties: values that fit their declared type, one shape per property, tags.

Part of the frontmatter family. frontmatter-shape checks the properties Obsidian and this
tool give a fixed meaning (aliases, tags, cssclasses, canonical, type, ...); the rules here
check every other property, against the types the vault declares (``.obsidian/types.json``,
``[properties]`` in ``conceptgraph.toml``) or, where none is declared, against the shape the
property has in most notes. Obsidian gives each property name one type across the vault and
marks a value that does not fit it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from conceptgraph.lint.rule import Hit, Scope, rule
from conceptgraph.lint.rules.frontmatter import SHAPES
from conceptgraph.model import NoteRecord, PlainSpan, Severity, Span
from conceptgraph.note.properties import (
    TYPES_FILE,
    describe,
    expected,
    fits,
    shape_of,
    tag_problem,
    tag_values,
)
from conceptgraph.vault.load import Vault

Mismatch = tuple[PlainSpan, str]
# Properties other rules check in their own terms: not said twice here.
_CHECKED_ELSEWHERE = frozenset({*SHAPES, "canonical_of"})


def _own_keys(note: NoteRecord) -> Iterator[tuple[str, object, Span]]:
    """The note's properties but those other rules check (frontmatter-shape's), with spans."""
    if note.frontmatter is None:
        return
    keys = note.frontmatter.keys
    for key, value in note.frontmatter.data.items():
        if key.lower() not in _CHECKED_ELSEWHERE:
            yield key, value, keys.get(key, note.frontmatter.span)


def _mismatches(note: NoteRecord, vault: Vault) -> list[Mismatch]:
    declared = vault.config.property_types
    found: list[Mismatch] = []
    for key, value, span in _own_keys(note):
        kind = declared.of(key)
        if kind is None or fits(kind, value):
            continue
        message = f"{key} should be {expected(kind)} (declared {kind}), not {describe(value)}"
        found.append((span.plain(), message))
    return found


@rule(
    "property-type",
    family="frontmatter",
    severity=Severity.WARNING,
    scope=Scope.VAULT,
    gather=_mismatches,
)
def property_type(vault: Vault, gathered: Mapping[str, list[Mismatch]]) -> Iterator[Hit]:
    """Flag a property value that does not fit the type the vault declares for it.

    Types come from ``.obsidian/types.json``, where Obsidian keeps them, and from
    ``[properties]`` in ``conceptgraph.toml`` (which wins), for vaults without ``.obsidian/``.
    A number must be written as one (``"3"`` is text), a checkbox ``true`` or ``false``, a
    date ``YYYY-MM-DD`` (text or a YAML date alike: Obsidian reads both as the same text), a
    list a list or one text; text takes a number or a date too. An empty value fits every
    type. Names compare without case, as Obsidian's do. The file itself is reported here
    when it cannot be read: not JSON, too large, or a link out of the vault. Obsidian:
    https://help.obsidian.md/properties ("Property types", "Property format").
    Why: Obsidian marks such a value as a type mismatch, and searches, sorts and Bases skip
    it: the note drops out of the views built on the property.
    Example:  pages: "312"   (pages declared number)
    Instead:  pages: 312
    Fix: none. Whether the type or the value is wrong is the author's call.
    """
    problem = vault.config.property_types.problem
    if problem is not None:
        line, column, message = problem
        yield Hit(Span.point(max(line, 1), max(column, 1)), message, path=TYPES_FILE)
    for path, found in gathered.items():
        for span, message in found:
            yield Hit(Span(*span), message, path=path)


Shapes = list[tuple[str, str, PlainSpan]]


def _notes(count: int) -> str:
    return "1 note" if count == 1 else f"{count} notes"


def _shapes(note: NoteRecord, vault: Vault) -> Shapes:
    declared = vault.config.property_types
    found: Shapes = []
    for key, value, span in _own_keys(note):
        shape = shape_of(value)
        if shape is not None and declared.of(key) is None:
            found.append((key, shape, span.plain()))
    return found


@rule(
    "property-shape-mixed",
    family="frontmatter",
    severity=Severity.WARNING,
    scope=Scope.VAULT,
    gather=_shapes,
)
def property_shape_mixed(vault: Vault, gathered: Mapping[str, Shapes]) -> Iterator[Hit]:
    """Flag a property whose value has another shape than in most notes, with no type declared.

    For each property without a declared type (see property-type), the shape of its value in
    every note (text, a number, a checkbox, a date, a date and time, a list, nested
    properties; empty values do not count) is counted, names compared without case. Each
    note whose shape differs from the most common one is flagged; when two shapes are as
    common, no note is, as nothing says which one is meant. Obsidian gives a property one
    type for the whole vault (https://help.obsidian.md/properties: "all properties with
    that name are assumed to have the same property type").
    Why: Obsidian shows the values that do not fit the property's type as mismatches, and
    queries over the property miss those notes.
    Example:  rating: five   (while 40 other notes have rating: 4)
    Instead:  rating: 5
    Fix: none. The shape that is meant may be the rarer one: declare it in [properties].
    """
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for found in gathered.values():
        for key, shape, _ in found:
            counts[key.lower()][shape] += 1
    usual: dict[str, tuple[str, int]] = {}
    for key, shapes in counts.items():
        if len(shapes) < 2:
            continue
        (first, most), (_, second) = shapes.most_common(2)
        if most > second:
            usual[key] = (first, most)
    if not usual:
        return
    for path, found in gathered.items():
        for key, shape, span in found:
            common = usual.get(key.lower())
            if common is None or shape == common[0]:
                continue
            message = (
                f"{key} is {shape} here but {common[0]} in {_notes(common[1])}; "
                "Obsidian gives a property one type"
            )
            yield Hit(Span(*span), message, path=path)


def _tags(note: NoteRecord) -> tuple[object, Span] | None:
    if note.frontmatter is None:
        return None
    for key, value in note.frontmatter.data.items():
        if key.lower() == "tags" and value is not None:
            return value, note.frontmatter.keys.get(key, note.frontmatter.span)
    return None


@rule("invalid-tag", family="frontmatter", severity=Severity.WARNING)
def invalid_tag(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a tag in the ``tags`` property that Obsidian does not take as a tag.

    Tags hold letters, numbers, ``_``, ``-`` and ``/`` (nested tags, ``inbox/to-read``), at
    least one of them not a number, and no space; a leading ``#`` is optional in
    frontmatter. One text is split at commas and spaces as Obsidian splits it
    (``tags: recipe, cooking`` is two tags); a list item is one tag, so a space in it is
    flagged. An empty item is no tag. Obsidian: https://help.obsidian.md/tags ("Tag format", and
    ``tags: recipe, cooking``); that it splits one text at spaces too: jackyzha0/quartz#620;
    that a list item with a space is no tag: rps321321/obsidian-mcp-pro#194.
    Why: Obsidian leaves such a value out of the tag pane and of ``tag:`` searches; the note
    is not found under it.
    Example:  tags: [1984, to read]
    Instead:  tags: [y1984, to-read]
    Fix: none. Which spelling is meant is the author's to say.
    """
    found = _tags(note)
    if found is None:
        return
    value, span = found
    for tag in tag_values(value):
        problem = tag_problem(tag)
        if problem is not None:
            yield Hit(span, f"tag {tag!r} {problem}")


TagsOf = list[tuple[str, PlainSpan]]


def _valid_tags(note: NoteRecord, vault: Vault) -> TagsOf:
    found = _tags(note)
    if found is None:
        return []
    value, span = found
    return [(tag, span.plain()) for tag in tag_values(value) if tag_problem(tag) is None]


@rule(
    "tag-case-mismatch",
    family="frontmatter",
    severity=Severity.INFO,
    scope=Scope.VAULT,
    gather=_valid_tags,
)
def tag_case_mismatch(vault: Vault, gathered: Mapping[str, Any]) -> Iterator[Hit]:
    """Flag a tag spelt with other capitals than the same tag in most notes.

    Obsidian compares tags without case (``#Recipe`` and ``#recipe`` are one tag) and shows
    one spelling for all of them. The spelling most notes use is taken as meant (on a tie,
    the one first in sorting); the notes with another are flagged. Nested tags compare whole
    (``Inbox/read`` and ``inbox/read``). Obsidian: https://help.obsidian.md/tags.
    Why: the tag pane shows one spelling and hides the others, so a search or a list built
    on the written spelling (a script, a static site) misses notes.
    Example:  tags: [Recipe]   (while 12 notes have tags: [recipe])
    Instead:  tags: [recipe]
    Fix: none. The spelling to keep is the author's choice.
    """
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for found in gathered.values():
        for tag, _ in {tag: span for tag, span in found}.items():
            spellings[tag.casefold()][tag] += 1
    usual: dict[str, tuple[str, int]] = {}
    for folded, counts in spellings.items():
        if len(counts) > 1:
            best = min(counts, key=lambda spelt: (-counts[spelt], spelt))
            usual[folded] = (best, counts[best])
    if not usual:
        return
    for path, found in gathered.items():
        for tag, span in found:
            kept = usual.get(tag.casefold())
            if kept is not None and tag != kept[0]:
                spelt = f"spelt {kept[0]!r} in {_notes(kept[1])}"
                message = f"tag {tag!r} is {spelt}; Obsidian shows one spelling for both"
                yield Hit(Span(*span), message, path=path)
