"""The frontmatter family: the YAML block must parse and hold values of the right shape."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator

from conceptgraph.lint.rule import Hit, rule
from conceptgraph.model import NoteRecord, ProblemKind, Severity, Span
from conceptgraph.note.properties import as_text, describe
from conceptgraph.vault.load import Vault

_SYNTAX = (ProblemKind.YAML_SYNTAX, ProblemKind.YAML_UNSAFE, ProblemKind.YAML_UNCLOSED)


@rule("frontmatter-syntax", family="frontmatter", severity=Severity.ERROR)
def frontmatter_syntax(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag frontmatter YAML that does not parse, or a ``---`` block that never closes.

    Tags that would construct objects (``!!python/object``) are refused, never run; duplicate
    keys are an error, as in Obsidian. So are YAML aliases that expand past 100,000 values (an
    alias bomb), an alias inside the value it names, and nesting deeper than 64 levels. A value
    that looks like a date or a number but is not one (``created: 2024-15-01``) is reported and
    read as text; the rest of the frontmatter still counts.
    Why: Obsidian then shows no properties at all for the note: aliases, type and canonical
    marks silently vanish from the graph.
    Example:  aliases: [transition, move
    Instead:  aliases: [transition, move]
    Fix: none. The intended structure cannot be recovered mechanically.
    """
    for problem in note.problems:
        if problem.kind in _SYNTAX:
            yield Hit(problem.span, problem.message)


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_alias_list(value: object) -> bool:
    # One text is one alias; an empty item is no alias, as Obsidian shows it; a date is the
    # text it is written as (js-yaml reads no dates).
    if as_text(value) is not None:
        return True
    return isinstance(value, list) and all(item is None or as_text(item) for item in value)


def _is_tag_list(value: object) -> bool:
    # A number is a tag Obsidian refuses: invalid-tag says so, in its own words.
    def scalar(item: object) -> bool:
        return item is None or (isinstance(item, str | int | float) and not isinstance(item, bool))

    return scalar(value) or (isinstance(value, list) and all(scalar(item) for item in value))


# The properties whose shape conceptgraph (or Obsidian) relies on; null is Obsidian's empty value.
SHAPES: dict[str, tuple[str, Callable[[object], bool]]] = {
    "aliases": ("a list of text", _is_alias_list),
    "tags": ("a list of tags", _is_tag_list),
    "cssclasses": ("a list of text", _is_alias_list),
    "canonical": ("a checkbox (true or false)", lambda v: isinstance(v, bool)),
    "type": ("text", _is_text),
    "layer": ("text", _is_text),
    "role": ("text", _is_text),
    "note_kind": ("text", _is_text),
}


@rule("frontmatter-shape", family="frontmatter", severity=Severity.ERROR)
def frontmatter_shape(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag frontmatter that is not a mapping, or a known property with a value of wrong type.

    What is flagged is what Obsidian itself shows as wrong, or what would give this tool's
    graph something other than the note says. ``canonical`` is a checkbox (YAML 1.2, as
    Obsidian reads it: ``yes`` is text); ``aliases`` and ``cssclasses`` a list of text, or one
    text (``aliases: Fold`` is one alias; a date is the text it is written as, since
    Obsidian's js-yaml reads no dates); ``tags`` a list of tags or one text of them;
    ``type``, ``layer``, ``role`` and ``note_kind`` text (``canonical_of`` is
    bad-canonical-of's to check). Not flagged: an empty value (null, Obsidian's empty
    property) and an empty list item (``tags:`` then ``-``, as templates leave it), which
    Obsidian reads as no item; a number among tags is invalid-tag's. Flagged: nested
    properties, a list inside a list (``aliases: [[a]]``), a number or a checkbox among
    aliases. Obsidian: https://help.obsidian.md/properties (types, default properties, nested
    properties not supported), https://help.obsidian.md/aliases; an empty list item is shown
    as an empty entry (gfxholo/iconic#116, karstenpedersen/obsidian-advanced-random-note#4).
    Why: Obsidian drops values of the wrong type (a number among aliases, ``canonical: yes``
    read as text), so the graph says something other than the note.
    Example:  canonical: yes
    Instead:  canonical: true
    Fix: none. ``yes`` may be meant as text; the author decides.
    """
    for problem in note.problems:
        if problem.kind is ProblemKind.YAML_NOT_MAPPING:
            yield Hit(problem.span, problem.message)
    if note.frontmatter is None:
        return
    for key, (wanted, fits) in SHAPES.items():
        value = note.frontmatter.data.get(key)
        if value is None or fits(value):
            continue
        span = note.frontmatter.keys[key]
        yield Hit(span, f"{key} should be {wanted}, not {describe(value)}")


def _key_span(note: NoteRecord, key: str) -> Span:
    if note.frontmatter is None:
        return Span.point(1)
    return note.frontmatter.keys.get(key, Span(1, 1, 1, 4))


@rule("missing-key", family="frontmatter", severity=Severity.ERROR)
def missing_key(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a concept note without a required property, or with it left empty.

    Concept notes are the notes that declare the concept key (``type`` by default); the
    required keys are ``required-keys`` in the configuration (default: aliases, type, layer,
    role, canonical, note_kind). Plain notes are never asked for keys, and a variant
    (``canonical: false``) needs only its ``canonical_of``. Left empty is null, empty text,
    or a list of empty items only (a template's ``aliases:`` then ``-``).
    Why: the graph, the RDF and every query rely on these properties being there.
    Example:  a note with ``type: mechanism`` and no ``layer``
    Instead:  add ``layer: mechanism``
    Fix: none. The value is the author's to choose.
    """
    if not vault.is_concept(note) or note.frontmatter is None:
        return
    if note.property("canonical") is False:
        return
    data = note.frontmatter.data
    for key in vault.config.required_keys:
        if key not in data:
            yield Hit(Span(1, 1, 1, 4), f"concept note has no {key!r} property")
        elif _is_empty(data[key]):
            yield Hit(_key_span(note, key), f"{key!r} is empty")


def _is_empty(value: object) -> bool:
    # A list of empty items (a template's "- ") is as empty as Obsidian shows it.
    if isinstance(value, list):
        return all(item is None or item == "" for item in value)
    return value is None or value == ""


def _values(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


@rule("invalid-value", family="frontmatter", severity=Severity.ERROR)
def invalid_value(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a property value outside the set the configuration allows for it.

    ``[allowed-values]`` in the configuration lists, per key, the values a concept note may
    use (compared exactly; for a list property, each item). Keys without a list take anything;
    plain notes (no ``type``) may use these keys for their own purposes.
    Why: a typo (``mechansim``) silently makes a new type that no query or diagram expects.
    Example:  type: mechansim
    Instead:  type: mechanism
    Fix: none. The closest allowed value is suggested, not applied.
    """
    if not vault.is_concept(note) or note.frontmatter is None:
        return
    for key, allowed in vault.config.allowed_values.items():
        for value in _values(note.frontmatter.data.get(key)):
            if value in allowed:
                continue
            close = difflib.get_close_matches(value, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (allowed: {', '.join(allowed)})"
            yield Hit(_key_span(note, key), f"{key} {value!r} is not an allowed value{hint}")


@rule("unknown-key", family="frontmatter", severity=Severity.WARNING)
def unknown_key(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a property of a concept note that the configuration does not know.

    Known are the required keys, the keys with allowed values, the concept key, Obsidian's own
    (tags, cssclasses, publish, ...) and ``known-keys`` from the configuration. Plain notes may
    carry any property.
    Why: a misspelt key (``note_knd``) is a missing key in disguise.
    Example:  note_knd: operator
    Instead:  note_kind: operator
    Fix: none. Renaming keys is the author's call.
    """
    if not vault.is_concept(note) or note.frontmatter is None:
        return
    config = vault.config
    known = {*config.required_keys, *config.known_keys, *config.allowed_values, config.concept_key}
    for key, span in note.frontmatter.keys.items():
        if key in known:
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        yield Hit(span, f"unknown property {key!r}{hint}")
