"""The frontmatter family: the YAML block must parse and hold values of the right shape."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from conceptgraph.lint.engine import Hit, rule
from conceptgraph.model import NoteRecord, ProblemKind, Severity
from conceptgraph.vault import Vault

_SYNTAX = (ProblemKind.YAML_SYNTAX, ProblemKind.YAML_UNSAFE, ProblemKind.YAML_UNCLOSED)


@rule("frontmatter-syntax", family="frontmatter", severity=Severity.ERROR)
def frontmatter_syntax(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag frontmatter YAML that does not parse, or a ``---`` block that never closes.

    Tags that would construct objects (``!!python/object``) are refused, never run; duplicate
    keys are an error, as in Obsidian.
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
    "canonical_of": ('a link string such as "[[name]]"', lambda v: isinstance(v, str)),
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
    ``aliases`` a list of strings, ``canonical_of`` a link string, ``type``, ``layer``, ``role``
    and ``note_kind`` strings. An empty value (null) is Obsidian's empty property and is fine.
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
