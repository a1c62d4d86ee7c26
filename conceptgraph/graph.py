"""Vault -> the typed knowledge graph, a networkx ``MultiDiGraph``.

Nodes, by ``kind``: ``note`` (a Markdown file, with its properties), ``file`` (an attachment),
``alias``, ``residual`` (a bullet of a Residuals section) and ``concept`` (named by a link or a
negation, with no note). Edges, by ``kind``: ``dependency``, ``residual``, ``negation``,
``alias``, ``canonical``, ``link`` and ``embed``. Every node and edge records where it came from:
``path``, ``line`` and ``column``.

Node ids are stable strings: ``note:<path>``, ``file:<path>``, ``alias:<alias>``,
``residual:<path>#<n>``, ``concept:<key>``.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from conceptgraph.model import Link, NoteRecord, Span
from conceptgraph.names import concept_key, fold
from conceptgraph.vault import Vault, is_note_path, note_aliases

NOTE_PROPERTIES = ("type", "layer", "role", "note_kind", "canonical")
EDGE_KINDS = ("dependency", "residual", "negation", "alias", "canonical", "link", "embed")
NODE_KINDS = ("note", "file", "alias", "residual", "concept")


def _where(path: str, span: Span) -> dict[str, Any]:
    return {"path": path, "line": span.line, "column": span.column}


class _Builder:
    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.graph: nx.MultiDiGraph = nx.MultiDiGraph(name=vault.root.name)

    def build(self) -> nx.MultiDiGraph:
        notes = sorted(self.vault.notes.values(), key=lambda n: n.path)
        for note in notes:
            self._add_note(note)
        for note in notes:
            self._note_edges(note)
        return self.graph

    def _add_note(self, note: NoteRecord) -> None:
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
        if node not in self.graph:
            self.graph.add_node(node, kind="file", name=found.rsplit("/", 1)[-1], path=found)
        return node

    def _concept(self, name: str, path: str, span: Span) -> str:
        node = f"concept:{concept_key(name)}"
        if node not in self.graph:
            self.graph.add_node(node, kind="concept", name=name, **_where(path, span))
        return node

    def _note_edges(self, note: NoteRecord) -> None:
        source = f"note:{note.path}"
        for alias in note_aliases(note):
            node = f"alias:{fold(alias)}"
            if node not in self.graph:
                self.graph.add_node(node, kind="alias", name=alias, path=note.path)
            span = note.frontmatter.keys["aliases"] if note.frontmatter else Span.point(1)
            self.graph.add_edge(source, node, kind="alias", **_where(note.path, span))
        kinds = self.vault.section_kinds(note)

        def kind_of(section: int | None) -> str | None:
            return kinds[section] if section is not None else None

        negation_links = set()
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
        for link in note.links:
            if link in negation_links:
                continue
            if link.frontmatter_key == "canonical_of":
                kind = "canonical"
            elif link.embed:
                kind = "embed"
            else:
                kind = kind_of(link.section) or "link"
            self.graph.add_edge(
                source, self._target(note, link), kind=kind, **_where(note.path, link.span)
            )
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


def build_graph(vault: Vault) -> nx.MultiDiGraph:
    """The typed graph of a vault; deterministic for the same vault."""
    return _Builder(vault).build()
