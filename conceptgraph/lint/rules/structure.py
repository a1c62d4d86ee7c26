"""The structure family: concept notes have their sections, a matching title, no cycles.

These rules look at concept notes only (notes that declare the concept key, ``type`` by
default), except dependency-cycle, which follows the dependency links of every note.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from conceptgraph.lint.engine import Hit, Scope, rule
from conceptgraph.model import NoteRecord, PlainSpan, Severity, Span
from conceptgraph.names import concept_key, heading_key, strip_comments
from conceptgraph.vault import Vault


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
            yield Hit(section.span, f"section '{section.title}' is empty")


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
    spelled out. A note depending on itself is a self-link finding.
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
        cycle_graph = graph.subgraph(component)
        for source in sorted(component):
            # The shortest way back from this note's first step into the cycle spells out a
            # cycle through this very note.
            target = min(cycle_graph.successors(source))
            back = nx.shortest_path(cycle_graph, target, source)
            shown = " -> ".join([source, *back])
            span = Span(*first_link[(source, target)])
            yield Hit(span, f"dependency cycle: {shown}", path=source)
