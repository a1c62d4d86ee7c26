"""The structure family: concept notes have their sections, a matching title, no cycles.

These rules look at concept notes only (notes that declare the concept key, ``type`` by
default), except dependency-cycle, which follows the dependency links of every note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from conceptgraph.lint.rule import Hit, Scope, rule
from conceptgraph.model import NoteRecord, PlainSpan, Severity, Span
from conceptgraph.names import concept_key, heading_key, strip_comments
from conceptgraph.vault.load import Vault


def _title_span(note: NoteRecord) -> Span:
    title = note.title
    return title.span if title is not None else Span.point(1)


@rule("missing-section", family="structure", severity=Severity.WARNING)
def missing_section(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a concept note without a section its type requires.

    ``[required-sections]`` in the configuration lists headings for every concept note (``"*"``)
    and per ``type``; by default Definition, Preconditions, Residuals and Structural
    dependencies. Headings compare as Obsidian compares them (case and punctuation aside).
    A variant (``canonical: false``) is exempt: its canonical note carries the sections.
    Why: queries and diagrams expect every concept to state its definition, what it leaves
    behind and what it stands on.
    Example:  a mechanism note with no ## Preconditions
    Instead:  add ## Preconditions with its bullets
    Fix: none. An empty heading would only hide the gap.
    """
    if not vault.is_concept(note) or note.property("canonical") is False:
        return
    present = {heading_key(section.title) for section in note.sections}
    for title in vault.config.sections_required(note.property(vault.config.concept_key)):
        if heading_key(title) not in present:
            yield Hit(_title_span(note), f"no '## {title}' section")


@rule("duplicate-section", family="structure", severity=Severity.WARNING)
def duplicate_section(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a heading that repeats a sibling heading of a concept note.

    Siblings are headings of one level under one parent; ``[[note#Heading]]`` only ever
    reaches the first of them.
    Why: two "Residuals" sections split one list in two, and links reach only the first.
    Example:  ## Residuals ... ## Residuals
    Instead:  merge them into one section
    Fix: none. Merging needs judgement about order.
    """
    if not vault.is_concept(note):
        return
    seen: dict[tuple[int | None, int, str], int] = {}
    for section in note.sections:
        key = (section.parent, section.level, heading_key(section.title))
        if key in seen:
            yield Hit(section.span, f"'{section.title}' repeats the section on line {seen[key]}")
        else:
            seen[key] = section.span.line


@rule("empty-section", family="structure", severity=Severity.WARNING)
def empty_section(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a section of a concept note with nothing under its heading.

    Blank lines and lone HTML comments are nothing; a section whose subsections have content is
    not empty. The title (level 1) is not a section in this sense.
    Why: an empty "Structural dependencies" reads as "depends on nothing", which is a claim.
    Example:  ## Residuals   followed directly by ## Structural dependencies
    Instead:  write the residuals, or remove the heading if the type does not require it
    Fix: none.
    """
    if not vault.is_concept(note):
        return
    for index in empty_sections(note):
        section = note.sections[index]
        yield Hit(section.span, f"section '{section.title}' is empty")


def empty_sections(note: NoteRecord) -> Iterator[int]:
    """The indexes of a note's sections (below the title) with nothing under their heading."""
    # Most sections hold a list or a link, which settles it without reading their lines.
    filled = {item.section for item in note.list_items} | {link.section for link in note.links}
    lines: list[str] = []
    heading_lines = {heading.span.line for heading in note.headings}
    for index, section in enumerate(note.sections):
        if section.level == 1 or index in filled:
            continue
        lines = lines or note.lines()
        body = range(section.span.line + 1, min(section.end_line, len(lines)) + 1)
        text = "\n".join(lines[n - 1] for n in body if n not in heading_lines)
        if not strip_comments(text).strip():
            yield index


@rule("title-mismatch", family="structure", severity=Severity.WARNING)
def title_mismatch(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a concept note whose ``# Title`` is missing or names another concept than its file.

    Title and file name compare as concepts: case, spaces, hyphens, underscores and a leading
    article aside (``# Erasure cost`` matches erasure-cost.md).
    Why: links use the file name and readers the title; when they differ, one of them names
    the wrong concept.
    Example:  rollback.md titled # Rollforward
    Instead:  # Rollback, or rename the file
    Fix: none. Which of the two is right is the author's call.
    """
    if not vault.is_concept(note):
        return
    title = note.title
    if title is None:
        yield Hit(Span.point(1), f"no '# {note.name}' title")
    elif concept_key(strip_comments(title.text)) != concept_key(note.name):
        yield Hit(title.span, f"title {title.text!r} does not match the file name {note.name!r}")


# The notes one note depends on, each with where its first dependency link on it stands.
Dependencies = tuple[tuple[str, PlainSpan], ...]


def _dependencies(note: NoteRecord, vault: Vault) -> Dependencies:
    """The other notes this note depends on, each with its first dependency link's span."""
    kinds = vault.section_kinds(note)
    first: dict[str, PlainSpan] = {}
    for link in note.links:
        if link.section is None or kinds[link.section] != "dependency":
            continue
        target = vault.resolve(link, note.path).path
        if target is None or target == note.path or target not in vault.notes:
            continue
        first.setdefault(target, link.span.plain())
    return tuple(first.items())


def _has_cycle(gathered: Mapping[str, Dependencies]) -> bool:
    """Whether the dependencies go round anywhere: Kahn's topological sort leaves notes over."""
    waiting = dict.fromkeys(gathered, 0)
    for dependencies in gathered.values():
        for target, _ in dependencies:
            waiting[target] = waiting.get(target, 0) + 1
    ready = [path for path, count in waiting.items() if count == 0]
    done = 0
    while ready:
        done += 1
        for target, _ in gathered.get(ready.pop(), ()):
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)
    return done < len(waiting)


@rule(
    "dependency-cycle",
    family="structure",
    severity=Severity.ERROR,
    scope=Scope.VAULT,
    gather=_dependencies,
)
def dependency_cycle(vault: Vault, gathered: Mapping[str, Dependencies]) -> Iterator[Hit]:
    """Flag structural dependencies that lead back to where they started.

    Each note on a cycle is flagged at its dependency link into the cycle, with the cycle
    spelled out: the shortest way round through that note, where the notes that depend on
    each other round about are at most 200; in a larger knot, a way round through the note
    and one note every way round shares. A cycle of more than 12 notes is cut after the
    first 12, "... (N more)". A note depending on itself is a self-link finding.
    Why: "built on" must bottom out; a cycle means one of the dependencies is really a
    residual, a negation or a plain link.
    Example:  migration -> propagation -> migration
    Instead:  keep the dependency that is structural and turn the other into a plain link
    Fix: none.
    """
    if not _has_cycle(gathered):
        return  # most vaults: networkx is not even imported, a tenth of a second saved
    import networkx as nx

    graph = nx.DiGraph()
    first_link: dict[tuple[str, str], PlainSpan] = {}
    # In path order, whatever order the notes were read in: which of two equally short ways
    # round a cycle is spelled out follows the order the edges went in.
    for path in sorted(gathered):
        for target, place in gathered[path]:
            graph.add_edge(path, target)
            first_link[(path, target)] = place
    for component in nx.strongly_connected_components(graph):
        if len(component) < 2:
            continue
        ways = _shortest_ways if len(component) <= _SHORTEST_UP_TO else _ways_through_hub
        for source, way, length in ways(graph.subgraph(component)):
            span = Span(*first_link[(source, way[0])])
            yield Hit(span, f"dependency cycle: {_spelled(source, way, length)}", path=source)


# A knot of notes up to this size gets each note's shortest way round: one search per note.
_SHORTEST_UP_TO = 200
_SHOWN = 12  # notes of a way round spelled out in a message

# A way round from a note: its first notes (up to ``_SHOWN``, the last of all the note
# itself), and how many steps it takes.
Way = tuple[str, list[str], int]


def _spelled(source: str, first: list[str], length: int) -> str:
    """``source -> ... -> source``, cut after ``_SHOWN`` notes."""
    if length <= _SHOWN:
        return " -> ".join([source, *first])
    hidden = length - _SHOWN
    return " -> ".join([source, *first[: _SHOWN - 1]]) + f" -> ... ({hidden} more) -> {source}"


def _shortest_ways(knot: Any) -> Iterator[Way]:
    """For each note of a knot, by path: the shortest way back from its first step into it."""
    import networkx as nx

    for source in sorted(knot):
        target = min(knot.successors(source))
        way: list[str] = nx.shortest_path(knot, target, source)
        yield source, way[:_SHOWN], len(way)


def _ways_through_hub(knot: Any) -> Iterator[Way]:
    """For each note of a large knot, by path: a way round through it and the knot's hub.

    The hub is the knot's first note by path. One search backwards from the hub gives every
    note's shortest way to it, one forwards the hub's way to every note: a way round is the
    one and then the other. Two searches for the knot, where one a note was quadratic.
    """
    hub = min(knot)
    to_hub, steps_to = _search(hub, knot.predecessors)  # a note -> the next on its way
    from_hub, steps_from = _search(hub, knot.successors)  # a note -> the one before it
    # The first notes of the way from the hub to each note, the hub left out: each note's
    # from the one before it, which the search reached first.
    heads: dict[str, tuple[str, ...]] = {hub: ()}
    for note, before in from_hub.items():
        if note != hub:
            head = heads[before]
            heads[note] = (*head, note) if len(head) < _SHOWN else head
    for source in sorted(knot):
        if source == hub:
            note = min(knot.successors(hub))
            first, length = [note], 1 + steps_to[note]
        else:
            note, first, length = source, [], steps_to[source] + steps_from[source]
        while note != hub and len(first) < _SHOWN:
            note = to_hub[note]
            first.append(note)
        if source != hub:
            first += heads[source][: _SHOWN - len(first)]
        yield source, first, length


def _search(
    root: str, neighbours: Callable[[str], Iterable[str]]
) -> tuple[dict[str, str], dict[str, int]]:
    """Breadth first from ``root``: each note reached, with the note it was reached from.

    In the order reached; and how many steps from ``root`` each note is.
    """
    parent = {root: root}
    steps = {root: 0}
    frontier = [root]
    while frontier:
        following: list[str] = []
        for note in frontier:
            for other in sorted(neighbours(note)):
                if other not in parent:
                    parent[other] = note
                    steps[other] = steps[note] + 1
                    following.append(other)
        frontier = following
    return parent, steps
