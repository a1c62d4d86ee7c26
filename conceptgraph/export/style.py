"""What a diagram draws and how it looks, shared by the DOT and Mermaid exporters.

A picture is not the data (graph JSON is): to stay legible it draws a view of the graph as
*cards*. A note's card holds its title, its ``type`` and ``note_kind``, its aliases and the
residual bullets it leaves behind, so those small leaf nodes do not each take a box and an
edge. An alias two notes share, or a residual the focus lands on, keeps its own node. Between
two nodes, each edge kind is drawn once (with two heads when it runs both ways), and a plain
``link`` only where no typed edge (dependency, negation, residual, canonical, embed) already
joins them the same way.

Edge kinds get a line and colour (dependencies solid and dark, negations dashed red, residuals
dotted amber, canonical bold blue, links thin slate, embeds dashed purple, aliases thin grey);
notes are grouped by ``layer`` (or, in a vault without layers, by folder), each group tinted.
"""

from __future__ import annotations

import posixpath
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import networkx as nx

from conceptgraph.graph import EDGE_KINDS, NODE_KINDS
from conceptgraph.vault.load import Vault


@dataclass(frozen=True, slots=True)
class NodeStyle:
    """How one kind of node is drawn."""

    fill: str
    stroke: str
    text: str
    font_size: int
    dashed: bool = False


@dataclass(frozen=True, slots=True)
class EdgeStyle:
    """How one kind of edge is drawn."""

    colour: str
    line: str  # solid, dashed or dotted
    width: float
    arrow: str  # the Graphviz arrowhead; the Mermaid exporter has its own arrows
    meaning: str  # what the legend says: "A <meaning> B"


NODE_STYLES: Mapping[str, NodeStyle] = {
    "note": NodeStyle(fill="#ffffff", stroke="#37474f", text="#102027", font_size=12),
    "alias": NodeStyle(fill="#f5f5f5", stroke="#bdbdbd", text="#616161", font_size=9),
    "residual": NodeStyle(fill="#fff8e1", stroke="#e0b552", text="#5d4037", font_size=9),
    "concept": NodeStyle(
        fill="#fafafa", stroke="#9e9e9e", text="#424242", font_size=10, dashed=True
    ),
    "file": NodeStyle(fill="#f3e5f5", stroke="#ab47bc", text="#4a148c", font_size=9),
}
CAPTION_COLOUR = "#607d8b"
ALIAS_COLOUR = "#757575"
RESIDUAL_FILL = "#fff8e1"
FOCUS_COLOUR = "#ef6c00"

EDGE_STYLES: Mapping[str, EdgeStyle] = {
    "dependency": EdgeStyle("#263238", "solid", 1.6, "normal", "is built on"),
    "negation": EdgeStyle("#d32f2f", "dashed", 1.1, "tee", "is not"),
    "residual": EdgeStyle("#c49000", "dotted", 1.6, "normal", "leaves behind"),
    "canonical": EdgeStyle("#1565c0", "solid", 2.4, "empty", "is a variant of"),
    "link": EdgeStyle("#90a4ae", "solid", 0.7, "vee", "mentions"),
    "embed": EdgeStyle("#8e24aa", "dashed", 1.0, "odiamond", "embeds"),
    "canvas": EdgeStyle("#00897b", "dotted", 1.0, "vee", "shows on canvas"),
    "alias": EdgeStyle("#bdbdbd", "solid", 0.8, "none", "is also called"),
}

# Pale tints for group backgrounds, each with a border a shade darker.
CLUSTER_COLOURS = (
    ("#e3f2fd", "#90caf9"),
    ("#e8f5e9", "#a5d6a7"),
    ("#fff3e0", "#ffcc80"),
    ("#f3e5f5", "#ce93d8"),
    ("#e0f7fa", "#80deea"),
    ("#fce4ec", "#f48fb1"),
    ("#f9fbe7", "#e6ee9c"),
    ("#efebe9", "#bcaaa4"),
)

_TYPED = frozenset(EDGE_KINDS) - {"link", "alias"}
_WIDTH = {"note": 22, "concept": 22, "alias": 24, "residual": 30, "file": 24}
_MAX_LINES = 4


@dataclass(frozen=True, slots=True)
class Card:
    """One drawn node: a graph node, with the aliases and residuals folded into it."""

    node: str
    kind: str
    lines: tuple[str, ...]  # the title or name, wrapped
    caption: str = ""  # a note's type and note_kind
    aliases: tuple[str, ...] = ()
    residuals: tuple[tuple[str, ...], ...] = ()  # each residual bullet, wrapped
    focused: bool = False
    dashed: bool = False  # a concept with no note, or a variant (canonical: false)


@dataclass(frozen=True, slots=True)
class Edge:
    """One drawn edge; ``both`` when the graph holds it in each direction."""

    source: str
    target: str
    kind: str
    both: bool = False


@dataclass(frozen=True, slots=True)
class Drawing:
    """What one picture shows, in a stable order: cards, edges, groups and a title."""

    title: str
    cards: tuple[Card, ...]
    edges: tuple[Edge, ...]
    groups: tuple[str, ...] = ()
    group_of: Mapping[str, str] = field(default_factory=dict)
    colours: Mapping[str, int] = field(default_factory=dict)  # group -> CLUSTER_COLOURS index

    def colour(self, index: int) -> tuple[str, str]:
        """The fill and border of a group: the same for a layer in every picture of a vault."""
        number = self.colours.get(self.groups[index], index)
        return CLUSTER_COLOURS[number % len(CLUSTER_COLOURS)]

    def by_group(self) -> list[tuple[int | None, list[Card]]]:
        """The cards as they are written: each group's (by index), then those in none."""
        members: dict[str, list[Card]] = {name: [] for name in self.groups}
        loose: list[Card] = []
        for card in self.cards:
            members.get(self.group_of.get(card.node, ""), loose).append(card)
        found: list[tuple[int | None, list[Card]]] = list(enumerate(members.values()))
        return [*found, (None, loose)]

    def ordered(self) -> list[Card]:
        """The cards in the order they are written."""
        return [card for _, cards in self.by_group() for card in cards]

    def kinds(self) -> tuple[list[str], list[str]]:
        """The node kinds and edge kinds the picture holds, for its legend."""
        nodes = {card.kind for card in self.cards}
        if any(card.aliases for card in self.cards):
            nodes.add("alias")
        if any(card.residuals for card in self.cards):
            nodes.add("residual")
        edges = {edge.kind for edge in self.edges}
        return [k for k in NODE_KINDS if k in nodes], [k for k in EDGE_KINDS if k in edges]


def group_colours(vault: Vault) -> dict[str, int]:
    """A colour for each group the whole vault has, so a part of it is coloured alike."""
    layers = set()
    for note in vault.notes.values():
        layer = note.property("layer")
        if isinstance(layer, str) and layer.strip():
            layers.add(" ".join(layer.split()))
    if not layers:
        layers = {posixpath.dirname(path) or "/" for path in vault.notes}
    return {name: number for number, name in enumerate(sorted(layers))}


def drawing(graph: nx.MultiDiGraph, colours: Mapping[str, int] | None = None) -> Drawing:
    """The picture of a graph view (see the module docstring for what is folded and merged).

    ``colours`` numbers the groups of the whole vault (:func:`group_colours`); without it,
    groups are coloured in the order they appear.
    """
    focus = graph.graph.get("focus")
    folded = _folded(graph, focus)
    aliases: dict[str, list[str]] = {}
    residuals: dict[str, list[tuple[str, ...]]] = {}
    for node, owner in folded.items():
        data = graph.nodes[node]
        if data.get("kind") == "alias":
            aliases.setdefault(owner, []).append(" ".join(str(data.get("name", "")).split()))
        else:
            residuals.setdefault(owner, []).append(tuple(node_lines(data)))
    cards = []
    for node, data in graph.nodes(data=True):
        if node in folded:
            continue
        kind = str(data.get("kind", ""))
        cards.append(
            Card(
                node=node,
                kind=kind,
                lines=tuple(node_lines(data)),
                caption=node_caption(data),
                aliases=tuple(aliases.get(node, ())),
                residuals=tuple(residuals.get(node, ())),
                focused=node == focus,
                dashed=kind == "concept" or data.get("canonical") is False,
            )
        )
    groups, group_of = _groups(graph)
    return Drawing(
        title=title(graph),
        cards=tuple(cards),
        edges=_edges(graph, folded),
        groups=tuple(groups),
        group_of={card.node: group_of[card.node] for card in cards if card.node in group_of},
        colours=dict(colours or {}),
    )


def _folded(graph: nx.MultiDiGraph, focus: object) -> dict[str, str]:
    """Aliases and residuals that belong to exactly one note of the view, and that note."""
    folded: dict[str, str] = {}
    for node, kind in graph.nodes(data="kind"):
        if kind not in ("alias", "residual") or node == focus:
            continue
        edges = list(graph.in_edges(node, data="kind"))
        owners = {u for u, *_ in edges}
        if graph.out_degree(node) or len(owners) != 1 or any(k != kind for *_, k in edges):
            continue
        (owner,) = owners
        if graph.nodes[owner].get("kind") == "note":
            folded[node] = owner
    return folded


def _edges(graph: nx.MultiDiGraph, folded: Mapping[str, str]) -> tuple[Edge, ...]:
    drawn: dict[tuple[str, str, str], bool] = {}
    # Pair by pair, not edge by edge: a note may link to another a million times.
    for u, targets in graph.adj.items():
        for v, keyed in targets.items():
            if u in folded or v in folded:
                continue
            kinds = dict.fromkeys(map(dict.get, keyed.values(), repeat("kind")))
            if "link" in kinds and not _TYPED.isdisjoint(kinds):
                del kinds["link"]  # a typed edge says more than a plain link between the two
            for kind in map(str, kinds):
                if (v, u, kind) in drawn and u != v:
                    drawn[(v, u, kind)] = True  # the same relation both ways: a double head
                else:
                    drawn.setdefault((u, v, kind), False)
    return tuple(Edge(u, v, kind, both) for (u, v, kind), both in drawn.items())


def node_lines(data: Mapping[str, Any]) -> list[str]:
    """A node's label, wrapped: a note's title, another node's name; cut at four lines."""
    kind = data.get("kind", "")
    text = str(data.get("title") or "") if kind == "note" else ""
    text = text or str(data.get("name") or data.get("path") or "?")
    text = " ".join(text.split())
    lines = textwrap.wrap(
        text, _WIDTH.get(str(kind), 24), break_on_hyphens=False, break_long_words=True
    ) or [""]
    if len(lines) > _MAX_LINES:
        lines = [*lines[: _MAX_LINES - 1], lines[_MAX_LINES - 1][:-1].rstrip() + "…"]
    return lines


def node_caption(data: Mapping[str, Any]) -> str:
    """The small line under a note's title: its ``type`` and ``note_kind`` (or nothing)."""
    if data.get("kind") != "note":
        return ""
    parts = [str(data[key]) for key in ("type", "note_kind") if isinstance(data.get(key), str)]
    if data.get("canonical") is False:
        parts.append("variant")
    return " · ".join(dict.fromkeys(" ".join(part.split()) for part in parts))


def _groups(graph: nx.MultiDiGraph) -> tuple[list[str], dict[str, str]]:
    """The group names, sorted, and the group of each node that has one.

    Notes go by their ``layer``; in a vault where no note has one, by folder (when there is
    more than one). Aliases and residuals join the group of their note; concepts and
    attachments, which several notes may share, stay outside.
    """
    notes = {n: data for n, data in graph.nodes(data=True) if data.get("kind") == "note"}
    of: dict[str, str] = {}
    if any(isinstance(data.get("layer"), str) for data in notes.values()):
        for node, data in notes.items():
            layer = data.get("layer")
            if isinstance(layer, str) and layer.strip():
                of[node] = " ".join(layer.split())
    else:
        folders = {posixpath.dirname(str(data.get("path", ""))) for data in notes.values()}
        if len(folders) > 1:
            for node, data in notes.items():
                of[node] = posixpath.dirname(str(data.get("path", ""))) or "/"
    for node, data in graph.nodes(data=True):
        if data.get("kind") in ("alias", "residual"):
            owner = f"note:{data.get('path')}"
            if owner in of:
                of[node] = of[owner]
    return sorted(set(of.values())), of


def title(graph: nx.MultiDiGraph) -> str:
    """What the picture shows: the vault, or the focus and depth of a neighbourhood."""
    name = str(graph.graph.get("name") or "vault")
    focus = graph.graph.get("focus")
    if focus is not None and focus in graph:
        shown = " ".join(node_lines(graph.nodes[focus]))
        depth = graph.graph.get("depth", 1)
        steps = "step" if depth == 1 else "steps"
        what = f"{name}: {shown}"
        if depth:
            what += f" and its neighbours within {depth} {steps}"
    else:
        notes = sum(1 for _, kind in graph.nodes(data="kind") if kind == "note")
        what = f"{name}: {notes} notes"
    kinds = graph.graph.get("kinds")
    if kinds:
        what += f" ({', '.join(kinds)} edges)"
    return what
