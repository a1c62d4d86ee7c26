"""The graph as a Mermaid ``flowchart``, drawn as the DOT picture is (see ``style``).

Node ids are ``n0``, ``n1``, ... and group ids ``g0``, ``g1``, ...; every label is a quoted
string in which each character Mermaid could read as syntax (quotes, ``#``, ``;``, ``:``,
``<``, ``>``, ``&``, ``|``, brackets, backticks) is written as a Mermaid entity code
(``#35;``), so no note name can break the diagram or inject markup. Styles are ``classDef``
per node kind and ``linkStyle`` per edge kind; groups (layers) get their tint with ``style``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from conceptgraph.export import ExportOptions
from conceptgraph.export.style import (
    EDGE_STYLES,
    FOCUS_COLOUR,
    NODE_STYLES,
    Card,
    Drawing,
    drawing,
    group_colours,
)
from conceptgraph.export.view import graph_view
from conceptgraph.vault.load import Vault

# Node shapes by kind: a note is a rounded card, a concept without a note a hexagon.
_SHAPES = {
    "note": ("(", ")"),
    "alias": ("([", "])"),
    "residual": (">", "]"),
    "concept": ("{{", "}}"),
    "file": ("[/", "/]"),
}
# Arrows by edge kind, one way and both ways.
_ARROWS = {
    "dependency": ("-->", "<-->"),
    "negation": ("-.-x", "x-.-x"),
    "residual": ("-.->", "<-.->"),
    "canonical": ("==>", "<==>"),
    "link": ("-->", "<-->"),
    "embed": ("--o", "o--o"),
    "alias": ("---", "---"),
}
_DASHES = {"dashed": "6 4", "dotted": "2 3"}
# Characters that are syntax somewhere in a Mermaid label, or that Mermaid's own entity
# handling (``#name;``, its private-use markers) would rewrite.
_ESCAPED = frozenset('"#&<>;:|[](){}`\\\ufb02\u00b6\u00b0%')


def export_mermaid(vault: Vault, options: ExportOptions) -> bytes:
    """The vault (or the part the options select) as Mermaid flowchart text."""
    picture = drawing(graph_view(vault, options, distinct=True), group_colours(vault))
    return mermaid_source(picture).encode("utf-8")


def mermaid_source(picture: Drawing) -> str:
    """Mermaid text for a picture: a title, groups, styled cards and edges."""
    return "".join(_lines(picture))


def _lines(picture: Drawing) -> Iterator[str]:
    ids = {card.node: f"n{index}" for index, card in enumerate(picture.ordered())}
    # The title is YAML in the diagram's front matter; a JSON string is a YAML string.
    yield f"---\ntitle: {json.dumps(picture.title, ensure_ascii=False)}\n---\n"
    yield "flowchart TB\n"
    for index, cards in picture.by_group():
        if index is not None:
            yield f'  subgraph g{index}["{_escape(picture.groups[index])}"]\n'
        for card in cards:
            yield f"{'    ' if index is not None else '  '}{_node(ids[card.node], card)}\n"
        if index is not None:
            yield "  end\n"
    by_kind: dict[str, list[int]] = {}
    for number, edge in enumerate(picture.edges):
        one, both = _ARROWS.get(edge.kind, ("-->", "<-->"))
        yield f"  {ids[edge.source]} {both if edge.both else one} {ids[edge.target]}\n"
        by_kind.setdefault(edge.kind, []).append(number)
    yield from _styles(picture, ids, by_kind)


def _node(node_id: str, card: Card) -> str:
    opening, closing = _SHAPES.get(card.kind, ("[", "]"))
    return f'{node_id}{opening}"{_label(card)}"{closing}'


def _label(card: Card) -> str:
    name = "<br>".join(_escape(line) for line in card.lines)
    if card.kind != "note":
        return f"<i>{name}</i>" if card.kind == "alias" else name
    parts = [f"<b>{name}</b>"]
    if card.caption:
        parts.append(_escape(card.caption))
    if card.aliases:
        parts.append(f"<i>also{_escape(':')} {_escape(', '.join(card.aliases))}</i>")
    for residual in card.residuals:
        parts.append("• " + "<br>".join(_escape(line) for line in residual))
    return "<br>".join(parts)


def _styles(picture: Drawing, ids: dict[str, str], by_kind: dict[str, list[int]]) -> Iterator[str]:
    classes: dict[str, list[str]] = {}
    for card in picture.ordered():
        classes.setdefault(f"cg_{card.kind}", []).append(ids[card.node])
        if card.dashed:
            classes.setdefault("cg_dashed", []).append(ids[card.node])
        if card.focused:
            classes.setdefault("cg_focus", []).append(ids[card.node])
    for kind, node_style in NODE_STYLES.items():
        if f"cg_{kind}" in classes:
            colours = f"fill:{node_style.fill},stroke:{node_style.stroke},color:{node_style.text}"
            yield f"  classDef cg_{kind} {colours}\n"
    if "cg_dashed" in classes:
        yield "  classDef cg_dashed stroke-dasharray:5 4\n"
    if "cg_focus" in classes:
        yield f"  classDef cg_focus stroke:{FOCUS_COLOUR},stroke-width:3px\n"
    for name, members in classes.items():
        yield f"  class {','.join(members)} {name}\n"
    for kind, numbers in by_kind.items():
        style = EDGE_STYLES.get(kind)
        if style is None:
            continue
        looks = [f"stroke:{style.colour}", f"stroke-width:{style.width}px"]
        if style.line in _DASHES:
            looks.append(f"stroke-dasharray:{_DASHES[style.line]}")
        yield f"  linkStyle {','.join(map(str, numbers))} {','.join(looks)}\n"
    for index in range(len(picture.groups)):
        fill, border = picture.colour(index)
        yield f"  style g{index} fill:{fill},stroke:{border}\n"


def _escape(text: str) -> str:
    """Text safe inside a quoted Mermaid label: syntax characters as ``#<code>;`` entities."""
    out = []
    for char in text:
        if not char.isprintable():
            out.append(" ")  # line breaks and control characters end a label line early
        elif char in _ESCAPED:
            out.append(f"#{ord(char)};")
        else:
            out.append(char)
    return "".join(out)
