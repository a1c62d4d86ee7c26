"""The "What this is NOT" family: negations must name real concepts and not contradict the note.

Each item of a negation section (by default ``## What this is NOT``) reads ``Not X (why).``:
"Not", perhaps an article, the concept in plain words or as a ``[[link]]``, then the reason.
Plain words are matched against note names and aliases as concepts: without case, spaces,
hyphens, underscores or a leading article ("Not a rename" names rename.md).
"""

from __future__ import annotations

from collections.abc import Iterator

from conceptgraph.lint.rule import Hit, rule
from conceptgraph.model import NoteRecord, Severity, Span, name_of
from conceptgraph.names import concept_key
from conceptgraph.note.negation import Negation
from conceptgraph.vault.concepts import note_aliases
from conceptgraph.vault.load import Vault


def _items(vault: Vault, note: NoteRecord) -> Iterator[tuple[Negation, str, tuple[str, ...]]]:
    for named in vault.negations(note):
        if named.key is not None:
            yield named.negation, named.key, named.notes


def _own_names(note: NoteRecord) -> set[str]:
    names = {concept_key(note.name)}
    if note.title is not None:
        names.add(concept_key(note.title.text))
    return names


@rule("self-negation", family="negation", severity=Severity.ERROR)
def self_negation(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a note that says it is not itself.

    Why: "Migration is not a migration" is a contradiction, usually a copied section.
    Example:  in migration.md: - Not a migration (...)
    Instead:  name the concept it is mistaken for: - Not a rename (...)
    Fix: none.
    """
    own = _own_names(note)
    for negation, key, _notes in _items(vault, note):
        if key in own:
            yield Hit(negation.item.span, f"the note negates itself ({negation.name!r})")


@rule("negation-contradicts-alias", family="negation", severity=Severity.ERROR)
def negation_contradicts_alias(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag "Not X" when X is one of this note's aliases, or X's note lists this note as alias.

    Why: an alias says "X is another word for this"; the negation says the opposite.
    Example:  aliases: [transition]  ...  - Not a transition (...)
    Instead:  drop the alias or the negation, whichever is wrong.
    Fix: none.
    """
    aliases = {concept_key(alias) for alias in note_aliases(note)}
    own = _own_names(note)
    for negation, key, notes in _items(vault, note):
        if key in own:
            continue
        if key in aliases:
            yield Hit(negation.item.span, f"{negation.name!r} is an alias of this very note")
            continue
        for path in notes:
            if path != note.path and path in vault.notes and _alias_among(vault, path, own):
                yield Hit(negation.item.span, f"{path} names this note as one of its aliases")


def _alias_among(vault: Vault, path: str, keys: set[str]) -> bool:
    """Whether the note at ``path`` has an alias whose concept key is one of ``keys``.

    The concept index answers without reading that note, but where the note's own name is
    such a key: the index does not say whether an alias carries it too.
    """
    carried = {key for key in keys if path in vault.concepts.get(key, ())}
    if concept_key(name_of(path)) not in carried:
        return bool(carried)
    return not keys.isdisjoint(concept_key(alias) for alias in note_aliases(vault.notes[path]))


@rule("negation-contradicts-canonical", family="negation", severity=Severity.ERROR)
def negation_contradicts_canonical(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag "Not X" when this note is a variant of X, or X is a variant of this note.

    Why: ``canonical_of`` says the two notes are one concept; the negation says they are not.
    Example:  in transition.md (canonical_of: "[[migration]]"): - Not a migration (...)
    Instead:  drop the negation, or make the note a concept of its own.
    Fix: none.
    """
    _, canonical = vault.canonical_of(note)
    for negation, _key, notes in _items(vault, note):
        for path in notes:
            if path == note.path:
                continue
            if path == canonical:
                yield Hit(negation.item.span, f"this note is a variant of {path}")
            elif path in vault.variants:
                other = vault.notes.get(path)
                if other is not None and vault.canonical_of(other)[1] == note.path:
                    yield Hit(negation.item.span, f"{path} is a variant of this note")


@rule("negation-contradicts-type", family="negation", severity=Severity.ERROR)
def negation_contradicts_type(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag "Not X" when X is the note's own ``type`` or ``note_kind``.

    Why: ``type: mechanism`` with "Not a mechanism" cannot both be true.
    Example:  type: mechanism  ...  - Not a mechanism (...)
    Instead:  fix the type, or negate the concept really meant.
    Fix: none.
    """
    kinds = {
        concept_key(value): key
        for key in ("type", "note_kind")
        if isinstance(value := note.property(key), str)
    }
    for negation, key, _notes in _items(vault, note):
        if key in kinds:
            yield Hit(negation.item.span, f"{negation.name!r} is this note's own {kinds[key]}")


@rule("malformed-negation", family="negation", severity=Severity.WARNING)
def malformed_negation(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag an item of a "What this is NOT" section that does not read "Not ...".

    Only top-level items count; nested bullets may explain an item freely.
    Why: the item names no concept, so it makes no negation edge in the graph.
    Example:  - Renames are different (...)
    Instead:  - Not a rename (...)
    Fix: none. Rewording is the author's.
    """
    for named in vault.negations(note):
        negation = named.negation
        if named.key is None:
            text = negation.item.text.strip() or "an empty item"
            yield Hit(negation.item.span, f"negation should read 'Not X (why).', not {text!r}")


@rule("unresolved-negation", family="negation", severity=Severity.INFO)
def unresolved_negation(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Report a negation naming, in plain words, no note or alias of the vault.

    Linked negations that lead nowhere are broken-link findings instead.
    Why: the negation still becomes an edge, to a bare concept node; often it wants a note,
    or names one with other words.
    Example:  - Not a teleport (...)   with no teleport.md and no such alias
    Instead:  write teleport.md, or name an existing concept.
    Fix: none.
    """
    # Items that name the note itself or its own type are other rules' findings.
    own = _own_names(note) | {
        concept_key(value)
        for key in ("type", "note_kind")
        if isinstance(value := note.property(key), str)
    }
    for negation, key, notes in _items(vault, note):
        if negation.link is None and not notes and key not in own:
            yield Hit(negation.item.span, f"{negation.name!r} names no note or alias of the vault")


@rule("missing-negation", family="negation", severity=Severity.WARNING)
def missing_negation(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a canonical concept note without a "What this is NOT" section.

    Why: saying what a concept is not is how the vault keeps near-synonyms apart; the
    authoritative note of a concept is where that belongs.
    Example:  a note with canonical: true and no ## What this is NOT
    Instead:  add the section with at least one "Not ..." item.
    Fix: none.
    """
    if not vault.is_concept(note) or note.property("canonical") is not True:
        return
    if "negation" not in vault.section_kinds(note):
        title = note.title
        span = title.span if title is not None else Span.point(1)
        yield Hit(span, "canonical concept note has no 'What this is NOT' section")
