"""The frontmatter family: the YAML block must parse and hold values of the right shape."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator

from conceptgraph.lint.rule import Hit, rule
from conceptgraph.model import NoteRecord, ProblemKind, Severity, Span
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


def _is_string_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_string_or_list(value: object) -> bool:
    return isinstance(value, str) or _is_string_list(value)


# The properties whose shape conceptgraph (or Obsidian) relies on; null is Obsidian's empty value.
_SHAPES: dict[str, tuple[str, Callable[[object], bool]]] = {
    "aliases": ("a list of strings", _is_string_list),
    "tags": ("a list of strings", _is_string_or_list),
    "cssclasses": ("a list of strings", _is_string_or_list),
    "canonical": ("a boolean (true or false)", lambda v: isinstance(v, bool)),
    "type": ("a string", lambda v: isinstance(v, str)),
    "layer": ("a string", lambda v: isinstance(v, str)),
    "role": ("a string", lambda v: isinstance(v, str)),
    "note_kind": ("a string", lambda v: isinstance(v, str)),
}


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        kinds = sorted({type(item).__name__ for item in value if not isinstance(item, str)})
        return f"a list holding {', '.join(kinds) or 'strings'}"
    return f"a {type(value).__name__}"


@rule("frontmatter-shape", family="frontmatter", severity=Severity.ERROR)
def frontmatter_shape(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag frontmatter that is not a mapping, or a known property with a value of wrong type.

    ``canonical`` must be a boolean (YAML 1.2, as Obsidian reads it: ``yes`` is a string),
    ``aliases`` a list of strings, ``type``, ``layer``, ``role`` and ``note_kind`` strings
    (``canonical_of`` is bad-canonical-of's to check). An empty value (null) is Obsidian's
    empty property and is fine.
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
    for key, (expected, fits) in _SHAPES.items():
        value = note.frontmatter.data.get(key)
        if value is None or fits(value):
            continue
        span = note.frontmatter.keys[key]
        yield Hit(span, f"{key} should be {expected}, not {_describe(value)}")


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
    (``canonical: false``) needs only its ``canonical_of``.
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
        elif data[key] is None or data[key] == [] or data[key] == "":
            yield Hit(_key_span(note, key), f"{key!r} is empty")


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
