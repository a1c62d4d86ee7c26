"""Vault -> the typed knowledge graph, as plain data or as a networkx ``MultiDiGraph``.

Nodes, by ``kind``: ``note`` (a Markdown file, with its properties), ``file`` (an attachment),
``alias``, ``residual`` (a bullet of a Residuals section) and ``concept`` (named by a link or a
negation, with no note). Edges, by ``kind``: ``dependency``, ``residual``, ``negation``,
``alias``, ``canonical``, ``link``, ``embed`` and ``canvas`` (from a ``.canvas`` file, a
``file`` node, to what its cards show). Every node and edge records where it came from:
``path``, ``line`` and ``column``.

Node ids are stable strings: ``note:<path>``, ``file:<path>``, ``alias:<alias>``,
``residual:<path>#<n>``, ``concept:<key>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conceptgraph.model import Link, NoteRecord, Span
from conceptgraph.names import concept_key, fold
from conceptgraph.obsidian import holds_placeholder
from conceptgraph.vault.concepts import note_aliases
from conceptgraph.vault.discovery import is_canvas_path, is_note_path
from conceptgraph.vault.load import Vault

if TYPE_CHECKING:
    import networkx as nx

NOTE_PROPERTIES = ("type", "layer", "role", "note_kind", "canonical")
EDGE_KINDS = (
    "dependency",
    "residual",
    "negation",
    "alias",
    "canonical",
    "link",
    "embed",
    "canvas",
)
NODE_KINDS = ("note", "file", "alias", "residual", "concept")


def _where(path: str, span: Span) -> dict[str, Any]:
    return {"path": path, "line": span.line, "column": span.column}


@dataclass(frozen=True, slots=True)
class GraphParts:
    """The graph as dicts, in the order networkx gives its nodes and edges back.

    The RDF export reads these directly: putting 170,000 edges into networkx, only to read
    them out again, took half of the time of a first query at 10,000 notes.
    """

    name: str
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    # source -> target -> each edge's attributes, in the order added; a source's targets in
    # the order first linked, as networkx keeps its adjacency.
    edges: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)

    def add_node(self, node: str, **attrs: Any) -> None:
        """Add a node, or give a node new attributes."""
        self.nodes[node] = attrs

    def add_edge(self, source: str, target: str, **attrs: Any) -> None:
        """Add an edge beside any others between the same two nodes."""
        self.edges.setdefault(source, {}).setdefault(target, []).append(attrs)

    def edge_list(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every edge as (source, target, attributes), as ``MultiDiGraph.edges`` lists them."""
        for node in self.nodes:
            for target, found in self.edges.get(node, {}).items():
                for attrs in found:
                    yield node, target, attrs


class _Builder:
    def __init__(self, vault: Vault, distinct: bool = False) -> None:
        self.vault = vault
        self.graph = GraphParts(vault.root.name)
        self.distinct = distinct

    def build(self, paths: Iterable[str] | None) -> GraphParts:
        notes = [
            self.vault.notes[path] for path in sorted(self.vault.notes if paths is None else paths)
        ]
        for note in notes:
            self._add_note(note)
        for note in notes:
            self._note_edges(note)
        return self.graph

    def _add_note(self, note: NoteRecord) -> None:
        if is_canvas_path(note.path):
            name = note.path.rsplit("/", 1)[-1]
            self.graph.add_node(f"file:{note.path}", kind="file", name=name, path=note.path)
            return
        title = note.title
        attrs: dict[str, Any] = {
            "kind": "note",
            "name": note.name,
            "title": title.text if title is not None else note.name,
            **_where(note.path, title.span if title is not None else Span.point(1)),
        }
        for key in NOTE_PROPERTIES:
            value = note.property(key)
            if isinstance(value, (str, bool)):
                attrs[key] = value
        self.graph.add_node(f"note:{note.path}", **attrs)

    def _target(self, note: NoteRecord, link: Link) -> str:
        found = self.vault.resolve(link, note.path).path
        if found is None:
            return self._concept(link.target, note.path, link.span)
        if is_note_path(found) and found in self.vault.notes:
            return f"note:{found}"
        node = f"file:{found}"
        if node not in self.graph.nodes:
            self.graph.add_node(node, kind="file", name=found.rsplit("/", 1)[-1], path=found)
        return node

    def _concept(self, name: str, path: str, span: Span) -> str:
        node = f"concept:{concept_key(name)}"
        if node not in self.graph.nodes:
            self.graph.add_node(node, kind="concept", name=name, **_where(path, span))
        return node

    def _note_edges(self, note: NoteRecord) -> None:
        if is_canvas_path(note.path):
            source = f"file:{note.path}"
            for link in note.links:
                target = self._target(note, link)
                self.graph.add_edge(source, target, kind="canvas", **_where(note.path, link.span))
            return
        source = f"note:{note.path}"
        for alias in note_aliases(note):
            node = f"alias:{fold(alias)}"
            if node not in self.graph.nodes:
                self.graph.add_node(node, kind="alias", name=alias, path=note.path)
            span = note.frontmatter.keys["aliases"] if note.frontmatter else Span.point(1)
            self.graph.add_edge(source, node, kind="alias", **_where(note.path, span))
        kinds = self.vault.section_kinds(note)

        def kind_of(section: int | None) -> str | None:
            return kinds[section] if section is not None else None

        negation_links = set()
        template = self.vault.config.is_template(note.path)
        for named in self.vault.negations(note):
            negation = named.negation
            if negation.name is None:
                continue
            if negation.link is not None:
                target = self._target(note, negation.link)
                negation_links.add(negation.link)
            elif named.notes:
                target = f"note:{named.notes[0]}"
            else:
                target = self._concept(negation.name, note.path, negation.item.span)
            self.graph.add_edge(
                source,
                target,
                kind="negation",
                reason=negation.reason,
                **_where(note.path, negation.item.span),
            )
        # A link leads where its target does from this note: resolved once a target, since a
        # note can hold millions of links to a few notes.
        resolved: dict[str, str] = {}
        path, edges = note.path, self.graph.edges
        drawn: set[tuple[str, str]] | None = set() if self.distinct else None
        for link in note.links:
            if negation_links and link in negation_links:
                continue
            if template and holds_placeholder(link.target):
                continue  # a template's [[{{title}}]]: names a note once the template is used
            if link.frontmatter_key == "canonical_of":
                kind = "canonical"
            elif link.embed:
                kind = "embed"
            else:
                kind = kind_of(link.section) or "link"
            leads_to = resolved.get(link.target)
            if leads_to is None:
                leads_to = resolved[link.target] = self._target(note, link)
            if drawn is not None:
                if (leads_to, kind) in drawn:
                    continue
                drawn.add((leads_to, kind))
            # add_edge, written out: its keyword arguments and two lookups cost more than the rest.
            targets = edges.get(source)
            if targets is None:
                targets = edges[source] = {}
            found = targets.get(leads_to)
            if found is None:
                found = targets[leads_to] = []
            span = link.span
            found.append({"kind": kind, "path": path, "line": span.line, "column": span.column})
        number = 0
        for item in note.list_items:
            if item.depth != 1 or kind_of(item.section) != "residual" or "[[" in item.text:
                continue
            number += 1
            node = f"residual:{note.path}#{number}"
            self.graph.add_node(
                node, kind="residual", name=item.text, **_where(note.path, item.span)
            )
            self.graph.add_edge(source, node, kind="residual", **_where(note.path, item.span))


def graph_parts(
    vault: Vault, paths: Iterable[str] | None = None, *, distinct: bool = False
) -> GraphParts:
    """The typed graph of a vault as plain data; deterministic for the same vault.

    With ``paths``, the part of it that the notes at those paths make: their nodes and
    edges, and the nodes their edges lead to (a concept node placed where the first of
    those notes names it). With ``distinct``, a note's links of one kind to one node are one
    edge, the first: what the RDF says and the diagrams draw of them (a note of a million
    links to a few notes makes a few edges).
    """
    return _Builder(vault, distinct).build(paths)


def build_graph(vault: Vault, *, distinct: bool = False) -> nx.MultiDiGraph:
    """The typed graph of a vault; deterministic for the same vault (``distinct``: as above)."""
    import networkx as nx

    parts = graph_parts(vault, distinct=distinct)
    graph = nx.MultiDiGraph(name=parts.name)
    graph.add_nodes_from(parts.nodes.items())
    # ``add_edges_from`` copies each edge's dict, in Python, an edge at a time: 3 s and the
    # graph held twice for a note of 3 million links. The parts are this graph's alone, so
    # their dicts go into its adjacency as they are, laid out as ``MultiDiGraph.add_edge``
    # lays them: keys 0, 1, ... in the order added, one key dict shared by both directions.
    # (``tests/test_graph.py`` checks the result against ``add_edges_from``.)
    succ, pred = graph._succ, graph._pred
    for source, targets in parts.edges.items():
        for target in (source, *targets):
            if target not in succ:
                graph.add_node(target)
        out = succ[source]
        for target, found in targets.items():
            out[target] = pred[target][source] = dict(enumerate(found))
    return graph
