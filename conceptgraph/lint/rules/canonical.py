"""The canonical family: one authoritative note per concept, and variants that point at it.

``canonical: true`` marks a concept's one authoritative note; a note with ``canonical: false``
is a variant or stub and names its canonical note with ``canonical_of: "[[name]]"``. Names and
aliases are compared as concepts: without case, spaces, hyphens, underscores or a leading
article.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping

from conceptgraph.lint.rule import Hit, Scope, rule
from conceptgraph.model import NoteRecord, PlainSpan, Severity, Span
from conceptgraph.names import concept_key
from conceptgraph.vault.concepts import note_aliases
from conceptgraph.vault.load import Vault


def _key_span(note: NoteRecord, key: str) -> Span:
    if note.frontmatter is None:
        return Span.point(1)
    return note.frontmatter.keys.get(key, Span(1, 1, 1, 4))


def _related(vault: Vault, first: NoteRecord, second: NoteRecord) -> bool:
    """Whether one of two notes is declared a variant of the other."""
    return (
        vault.canonical_of(first)[1] == second.path or vault.canonical_of(second)[1] == first.path
    )


# A canonical note's concept names by key, and where it says ``canonical``.
CanonicalNames = tuple[dict[str, str], PlainSpan]


def _canonical_names(note: NoteRecord, vault: Vault) -> CanonicalNames | None:
    """For a canonical note: its concept names by key, and where it says ``canonical``."""
    if note.property("canonical") is not True:
        return None
    labels = {concept_key(name): name for name in [*note_aliases(note), note.name]}
    return labels, _key_span(note, "canonical").plain()


@rule(
    "duplicate-canonical",
    family="canonical",
    severity=Severity.ERROR,
    scope=Scope.VAULT,
    gather=_canonical_names,
)
def duplicate_canonical(
    vault: Vault, gathered: Mapping[str, CanonicalNames | None]
) -> Iterator[Hit]:
    """Flag two canonical notes for one concept, by name or alias.

    Each note of the pair is flagged, naming the other and the name they share.
    Why: a concept with two authoritative notes splits its links, negations and residuals
    between them, and every query answers half.
    Example:  migration.md (alias "transition") and transition.md, both canonical: true
    Instead:  make one canonical: false with canonical_of: "[[migration]]", or merge them.
    Fix: none. Which note stays authoritative is the author's decision.
    """
    first: dict[str, str] = {}
    owners: dict[str, list[str]] = {}  # the keys of two canonical notes or more, alone
    for path, found in gathered.items():
        if found is not None:
            for key in found[0]:
                # Most names have one owner: no list is made for them (30,000 of them in a
                # vault of 10,000 notes took most of the rule's time).
                owner = first.setdefault(key, path)
                if owner != path:
                    owners.setdefault(key, [owner]).append(path)
    shared: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for key, canonical in owners.items():
        for path in canonical:
            for other in canonical:
                if other != path:
                    shared[path][other].add(key)
    for path in sorted(shared):
        labels, place = gathered[path]  # type: ignore[misc]
        for other, keys in sorted(shared[path].items()):
            names = ", ".join(sorted(repr(labels.get(key, key)) for key in keys))
            message = f"{other} is canonical for the same concept ({names})"
            yield Hit(Span(*place), message, path=path)


@rule("alias-collision", family="canonical", severity=Severity.WARNING)
def alias_collision(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag an alias that is another note's name or alias.

    A variant and its canonical note may share names: that is what the pair means.
    Why: search and link suggestions offer two notes for one word, and concept matching
    (negations, canonical checks) cannot tell which is meant.
    Example:  migration.md has alias "move"; so does relocation.md
    Instead:  keep "move" on one of them
    Fix: none. Which note keeps the alias is the author's call.
    """
    lines: list[str] = []
    for alias in note_aliases(note):
        others = [p for p in vault.concept_notes(alias) if p != note.path]
        for other_path in others:
            other = vault.notes[other_path]
            if _related(vault, note, other):
                continue
            how = "the name" if concept_key(other.name) == concept_key(alias) else "an alias"
            lines = lines or note.lines()
            span = _alias_span(note, lines, alias)
            yield Hit(span, f"alias {alias!r} is {how} of {other_path}")


def _alias_span(note: NoteRecord, lines: list[str], alias: str) -> Span:
    span = _key_span(note, "aliases")
    end = note.frontmatter.span.end_line if note.frontmatter else 1
    # The alias as a whole item: "move" must not be found inside "remove".
    pattern = re.compile(rf"(?<![\w-]){re.escape(alias)}(?![\w-])")
    for number in range(span.line, min(end, len(lines))):
        match = pattern.search(lines[number - 1])
        if match:
            return Span(number, match.start() + 1, number, match.end() + 1)
    return span


@rule("missing-canonical-of", family="canonical", severity=Severity.ERROR)
def missing_canonical_of(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a note with ``canonical: false`` that does not say which note is canonical.

    Why: a variant that points nowhere cannot be folded into its concept; links to it cannot
    be redirected.
    Example:  canonical: false   (and no canonical_of)
    Instead:  canonical: false  canonical_of: "[[migration]]"
    Fix: none. Only the author knows the canonical note.
    """
    if note.property("canonical") is not False:
        return
    if note.property("canonical_of") in (None, "", []):
        yield Hit(_key_span(note, "canonical"), "canonical: false but no canonical_of")


@rule("bad-canonical-of", family="canonical", severity=Severity.ERROR)
def bad_canonical_of(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a ``canonical_of`` that does not lead to a canonical note.

    It must be a quoted link (``"[[name]]"``; unquoted, YAML reads a list), name an existing
    note other than this one, and that note must have ``canonical: true``; and it only belongs
    on a non-canonical note.
    Why: a chain or a dead end leaves the variant without an authoritative concept.
    Example:  canonical_of: "[[transition]]"   (itself canonical: false)
    Instead:  canonical_of: "[[migration]]"
    Fix: none. Following a chain may pick the wrong end.
    """
    value = note.property("canonical_of")
    if value in (None, "", []):
        return
    span = _key_span(note, "canonical_of")
    if note.property("canonical") is True:
        yield Hit(span, "canonical_of on a note that is itself canonical: true")
        return
    link, target = vault.canonical_of(note)
    if link is None:
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
            # canonical_of: [[migration]] unquoted is YAML for a list in a list.
            name = "".join(str(item) for item in value[0])
            yield Hit(span, f'canonical_of must be quoted: canonical_of: "[[{name}]]"')
        else:
            yield Hit(span, f'canonical_of should be a link such as "[[name]]", not {value!r}')
    elif target is None:
        yield Hit(link.span, f"canonical_of target {link.target!r} matches no note")
    elif target == note.path:
        yield Hit(link.span, "canonical_of points at the note itself")
    elif (other := vault.note_at(target)) is None:
        yield Hit(link.span, f"canonical_of target {target} is not a note")
    elif other.property("canonical") is not True:
        yield Hit(link.span, f"canonical_of target {target} is not canonical: true")
