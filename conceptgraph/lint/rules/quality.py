"""The quality family: qSKOS's checks of a concept scheme, where a vault has the same problem.

Each rule names the qSKOS check it follows (Mader, Haslhofer and Isaac, "Finding Quality
Issues in SKOS Vocabularies", and the qSKOS catalogue of quality issues). Whole-vault rules
gather what they need of each note and then work in one pass over what was gathered, never
a search per note, so that they stay linear at 10,000 notes. The rules that would flood an
ordinary vault are off by default: ``--extend-select quality`` (or ``extend-select =
["quality"]``) turns the family on.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping

from conceptgraph.lint.rule import Hit, Scope, rule
from conceptgraph.lint.rules.links import LinksOut, _links_out
from conceptgraph.lint.rules.structure import Dependencies, _dependencies, empty_sections
from conceptgraph.model import NoteRecord, PlainSpan, Severity, Span
from conceptgraph.names import concept_key, heading_key
from conceptgraph.vault.concepts import note_aliases
from conceptgraph.vault.discovery import is_note_path
from conceptgraph.vault.load import Vault

_LISTED = 8  # notes named in a message before "... (N more)"


def _listed(paths: list[str]) -> str:
    more = len(paths) - _LISTED
    return ", ".join(paths[:_LISTED]) + (f" ... ({more} more)" if more > 0 else "")


def _title_place(note: NoteRecord) -> PlainSpan:
    title = note.title
    return (title.span if title is not None else Span.point(1)).plain()


# ------------------------------------------------------------------------- orphan-concept

# Whether the note is a concept note, where its title is, and the other files it links to.
ConceptLinks = tuple[bool, PlainSpan, tuple[str, ...]]


def _concept_links(note: NoteRecord, vault: Vault) -> ConceptLinks:
    _, place, reached = _links_out(note, vault)
    return vault.is_concept(note), place, reached


@rule(
    "orphan-concept",
    family="quality",
    severity=Severity.INFO,
    scope=Scope.VAULT,
    gather=_concept_links,
    default=False,
)
def orphan_concept(vault: Vault, gathered: Mapping[str, ConceptLinks]) -> Iterator[Hit]:
    """Flag a concept note that links to no other concept note and that none links to.

    qSKOS: Orphan Concepts (a concept with no semantic relation to any other). Links from
    or to plain notes (an index, a daily note) do not count: the concept still stands
    outside the scheme. A note with no links at all is also an orphan-note. Off by default.
    Why: a concept nothing is built on and that builds on nothing says nothing in the
    graph, the RDF or a diagram; it is often a draft or a concept that lost its links.
    Example:  cutover.md (type: mechanism), linked only from index.md
    Instead:  list it under the Structural dependencies of the concepts built on it.
    Fix: none. Which concepts it belongs with is the author's knowledge.
    """
    concepts = {path for path, (is_concept, _, _) in gathered.items() if is_concept}
    related: set[str] = set()
    for path in concepts:
        for target in gathered[path][2]:
            if target in concepts:
                related.update((path, target))
    for path in sorted(concepts - related):
        message = "concept note with no link to or from another concept note"
        yield Hit(Span(*gathered[path][1]), message, path=path)


# --------------------------------------------------------------------- disconnected-cluster


@rule(
    "disconnected-cluster",
    family="quality",
    severity=Severity.INFO,
    scope=Scope.VAULT,
    gather=_links_out,
    default=False,
)
def disconnected_cluster(vault: Vault, gathered: Mapping[str, LinksOut]) -> Iterator[Hit]:
    """Flag a group of linked notes with no link to or from the rest of the vault.

    qSKOS: Disconnected Concept Clusters. Links count both ways round, as in Obsidian's graph
    view; a canvas joins the notes on it. The largest group is the vault; every other group
    of two notes or more is one finding, at its first note by path, naming its size and its
    notes (up to 8). A note alone is an orphan-note instead. Off by default.
    Why: a cluster no link reaches is a second vault inside the first: its concepts are
    never met while reading, and queries across the vault never join it.
    Example:  archive/a.md and archive/b.md link to each other and nothing else
    Instead:  link the cluster from the notes it belongs with, or move it out of the vault.
    Fix: none.
    """
    groups = [
        notes
        for group in clusters({path: reached for path, (_, _, reached) in gathered.items()})
        if (notes := [p for p in group if is_note_path(p) and gathered[p][0]])
    ]
    groups.sort(key=lambda notes: (-len(notes), notes[0]))
    total = sum(len(notes) for notes in groups)
    for notes in groups[1:]:
        if len(notes) < 2:
            continue
        rest = total - len(notes)
        message = (
            f"a cluster of {len(notes)} notes with no link to or from the other {rest}: "
            f"{_listed(notes)}"
        )
        yield Hit(Span(*gathered[notes[0]][1]), message, path=notes[0])


def clusters(reached: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The groups of files linked to each other, links taken both ways round.

    ``reached``: each file, with the files it links to (those not among the keys are left
    out). Each group is in path order; a union-find, so linear in the links.
    """
    parent = {path: path for path in reached}

    def root(path: str) -> str:
        while parent[path] != path:
            parent[path] = parent[parent[path]]  # path halving keeps the trees flat
            path = parent[path]
        return path

    for path, targets in reached.items():
        for target in targets:
            if target in parent:
                one, other = root(path), root(target)
                if one != other:
                    parent[max(one, other)] = min(one, other)
    groups: dict[str, list[str]] = defaultdict(list)
    for path in sorted(reached):
        groups[root(path)].append(path)
    return list(groups.values())


# ----------------------------------------------------------------- hierarchical-redundancy


@rule(
    "hierarchical-redundancy",
    family="quality",
    severity=Severity.INFO,
    scope=Scope.VAULT,
    gather=_dependencies,
    default=False,
)
def hierarchical_redundancy(vault: Vault, gathered: Mapping[str, Dependencies]) -> Iterator[Hit]:
    """Flag a structural dependency the note already has through another of its dependencies.

    qSKOS: Hierarchical Redundancy (A broader B, B broader C and A broader C). Here: A's
    Structural dependencies list B and C, and B's list C. Flagged at A's link to C, naming B
    (the first such by path). Only one step round is looked for, as qSKOS does. Off by
    default: many concept vaults list the dependencies of their dependencies on purpose.
    Why: the direct link says nothing the chain does not, and it hides which of the two
    dependencies the concept really stands on when the chain is edited.
    Example:  cutover depends on [[migration]] and [[state]]; migration depends on [[state]]
    Instead:  cutover depends on [[migration]] alone
    Fix: none. The author may mean the direct dependency and want the other one gone.
    """
    depends = {path: dict(deps) for path, deps in gathered.items()}
    for path in sorted(depends):
        own = depends[path]
        through: dict[str, str] = {}
        for middle in sorted(own):
            for target in depends.get(middle, {}):
                if target in own and target != path and target != middle:
                    through.setdefault(target, middle)
        for target, middle in sorted(through.items()):
            message = f"depends on {target} already through {middle}"
            yield Hit(Span(*own[target]), message, path=path)


# ------------------------------------------------------------------- undocumented-concept

_DEFINITION = "definition"
_DEFINING_KEYS = ("definition", "description")


@rule("undocumented-concept", family="quality", severity=Severity.INFO, default=False)
def undocumented_concept(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a concept note with no definition: no filled Definition section, no description.

    qSKOS: Undocumented Concepts (no ``skos:definition`` or other documentation). A
    ``## Definition`` section with something under it, or a non-empty ``definition`` or
    ``description`` property, documents the concept. Variants (``canonical: false``) are
    exempt: their canonical note defines the concept. Off by default: missing-section and
    empty-section already flag the gap where Definition is a required section.
    Why: the RDF export's ``skos:definition`` comes from that section; a concept without one
    is a name the reader has to guess the meaning of.
    Example:  a concept note with ## Preconditions and ## Examples, but no ## Definition
    Instead:  ## Definition, then a sentence that says what the concept is
    Fix: none. Only the author can define the concept.
    """
    if not vault.is_concept(note) or note.property("canonical") is False:
        return
    if any(_filled(note.property(key)) for key in _DEFINING_KEYS):
        return
    empty = set(empty_sections(note))
    definitions = [
        index
        for index, section in enumerate(note.sections)
        if heading_key(section.title) == _DEFINITION
    ]
    if any(index not in empty for index in definitions):
        return
    title = note.title
    span = title.span if title is not None else Span.point(1)
    if definitions:
        yield Hit(note.sections[definitions[0]].span, "the Definition section is empty")
    else:
        yield Hit(span, "no Definition section and no description: the concept is undefined")


def _filled(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


# ---------------------------------------------------------------------- overlapping-labels

# A concept note's labels (name, title, aliases), each with what it is; and its canonical note.
Labels = tuple[tuple[tuple[str, str], ...], PlainSpan, str | None]


def _labels(note: NoteRecord, vault: Vault) -> Labels | None:
    if not vault.is_concept(note):
        return None
    labels = [(note.name, "name")]
    title = note.title
    if title is not None and title.text.strip():
        labels.append((title.text.strip(), "title"))
    labels += [(alias, "alias") for alias in note_aliases(note)]
    return tuple(labels), _title_place(note), vault.canonical_of(note)[1]


def _loose_key(label: str) -> str:
    """A label without case, accents or compatibility forms (full-width letters, ligatures)."""
    if label.isascii():
        return concept_key(label)  # nothing to decompose: most labels of most vaults
    decomposed = unicodedata.normalize("NFKD", label)
    return concept_key("".join(c for c in decomposed if not unicodedata.combining(c)))


@rule(
    "overlapping-labels",
    family="quality",
    severity=Severity.WARNING,
    scope=Scope.VAULT,
    gather=_labels,
)
def overlapping_labels(vault: Vault, gathered: Mapping[str, Labels | None]) -> Iterator[Hit]:
    """Flag two concept notes whose names, titles or aliases are one label in another form.

    qSKOS: Overlapping Labels (two concepts share a label, case or form aside). Labels
    compare as concepts do (case, spaces, hyphens, a leading article aside) and also without
    accents and compatibility forms ("Café" and "cafe", full-width letters): the note's file
    name, its ``# Title`` and its aliases. A variant and its canonical note may share labels.
    A pair whose shared label is an alias written the same way is left to alias-collision.
    Each note is flagged once per label, at its title, naming the other notes (up to 8).
    Why: a search, a link suggestion or a negation that names the label cannot tell which
    concept is meant, and the RDF export gives two concepts one label.
    Example:  café.md and cafe-culture.md titled # Cafe
    Instead:  rename or retitle one of them, or make one a variant of the other.
    Fix: none. Which concept keeps the label is the author's call.
    """
    owners: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for path, found in gathered.items():
        if found is not None:
            for label, kind in found[0]:
                owners[_loose_key(label)][path].append((label, kind))
    for key in sorted(owners):
        by_path = owners[key]
        if len(by_path) < 2 or not key:
            continue
        for path in sorted(by_path):
            own = gathered[path]
            assert own is not None
            others = [
                other
                for other in sorted(by_path)
                if other != path and not _excused(path, other, by_path, gathered)
            ]
            if not others:
                continue
            label = by_path[path][0][0]
            theirs = by_path[others[0]][0][0]
            message = f"label {label!r} is also {theirs!r} of {_listed(others)}"
            yield Hit(Span(*own[1]), message, path=path)


def _excused(
    path: str,
    other: str,
    by_path: Mapping[str, list[tuple[str, str]]],
    gathered: Mapping[str, Labels | None],
) -> bool:
    """Whether two notes may share a label: a variant pair, or alias-collision's case."""
    mine, theirs = gathered[path], gathered[other]
    assert mine is not None and theirs is not None
    if mine[2] == other or theirs[2] == path:
        return True
    return any(
        concept_key(a) == concept_key(b)
        and "alias" in (kind_a, kind_b)
        and "title" not in (kind_a, kind_b)
        for a, kind_a in by_path[path]
        for b, kind_b in by_path[other]
    )


# ------------------------------------------------------------------------ missing-inverse

# A note's links in the properties that have a declared inverse: property, target, where.
InverseLinks = tuple[tuple[str, str, PlainSpan], ...]


def _inverse_links(note: NoteRecord, vault: Vault) -> InverseLinks:
    inverses = vault.config.inverses
    if not inverses:
        return ()
    found: list[tuple[str, str, PlainSpan]] = []
    for link in note.links:
        key = (link.frontmatter_key or "").lower()
        if key not in inverses:
            continue
        target = vault.resolve(link, note.path).path
        if target is not None and target != note.path and target in vault.notes:
            found.append((key, target, link.span.plain()))
    return tuple(found)


@rule(
    "missing-inverse",
    family="quality",
    severity=Severity.WARNING,
    scope=Scope.VAULT,
    gather=_inverse_links,
)
def missing_inverse(vault: Vault, gathered: Mapping[str, InverseLinks]) -> Iterator[Hit]:
    """Flag a link property whose target does not link back through the inverse property.

    qSKOS: Missing Inverse Statements (``skos:broader`` without ``skos:narrower`` back).
    Only for the pairs the configuration declares under ``[inverses]`` (``broader =
    "narrower"``, checked both ways round; ``related = "related"`` for a symmetric one);
    without them the rule does nothing. Property names compare without case.
    Why: tools that read only one side (Obsidian's properties view, a SPARQL query over
    ``narrower``) miss the relation, and the two sides drift apart as notes are edited.
    Example:  cutover.md has broader: "[[migration]]"; migration.md lists no narrower
    Instead:  migration.md: narrower: ["[[cutover]]"]
    Fix: none. The inverse goes in another note, whose property list the author orders.
    """
    stated = {(path, key, target) for path, links in gathered.items() for key, target, _ in links}
    inverses = vault.config.inverses
    for path in sorted(gathered):
        for key, target, place in gathered[path]:
            inverse = inverses[key]
            if (target, inverse, path) not in stated:
                message = f"{key}: links to {target}, which does not link back in {inverse}"
                yield Hit(Span(*place), message, path=path)


# ---------------------------------------------------------------------------- empty-label


@rule("empty-label", family="quality", severity=Severity.WARNING)
def empty_label(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag an alias that is empty or blank, and a ``# Title`` heading with no text.

    qSKOS: Empty Labels. An alias written as an empty or blank string, ``aliases: ["",
    migration]`` or ``aliases: "  "``, is flagged. ``aliases:`` with no value, or a list item
    ``-`` with nothing after it, is what a template leaves: Obsidian's empty property, and fine.
    Why: Obsidian offers an empty suggestion for the note, and the RDF export would give the
    concept an empty ``skos:altLabel``; conceptgraph drops such aliases, so they mean nothing.
    Example:  aliases: [transition, ""]
    Instead:  aliases: [transition]
    Fix: none. An empty item is often a label half written.
    """
    value = note.property("aliases")
    items = value if isinstance(value, list) else [value]
    blank = sum(1 for item in items if isinstance(item, str) and not item.strip())
    if blank and note.frontmatter is not None:
        span = note.frontmatter.keys.get("aliases", Span.point(1))
        what = "an empty alias" if blank == 1 else f"{blank} empty aliases"
        yield Hit(span, f"aliases holds {what}")
    title = note.title
    if title is not None and not title.text.strip():
        yield Hit(title.span, "the title heading has no text")
