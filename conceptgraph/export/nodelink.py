"""A ``MultiDiGraph`` as node-link JSON, written as ``json.dumps`` of ``node_link_data`` writes it.

The bytes are those of ``json.dumps(nx.node_link_data(graph, edges="links"),
ensure_ascii=False, indent=1, sort_keys=True, allow_nan=False)``. That way made a dict for every
edge and then ran json's pure-Python encoder over them (``indent`` turns the C one off): a note
of a million links took a minute and gigabytes. Here each node and edge is written (by
:mod:`conceptgraph.jsontext`) one at a time, and the text goes to the output as it is made:
an edge as the graph builds it (kind, path, line and column) is filled into a template
without making a dict for it at all.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from json.encoder import encode_basestring
from typing import IO, TYPE_CHECKING, Any

from conceptgraph import jsontext
from conceptgraph.graph import GraphParts

if TYPE_CHECKING:
    import networkx as nx  # written from the parts, graph JSON never imports it (0.1 s)

# Text is handed to the output in pieces of about this many characters.
_CHUNK = 1 << 20
# The keys of an edge as conceptgraph's graph makes it (``conceptgraph.graph``): such an edge
# is filled into a template, which holds them and the three node-link adds (source, target,
# key) in the order ``sort_keys`` writes them.
_PLAIN_EDGE = frozenset({"column", "kind", "line", "path"})
_NEGATION_EDGE = _PLAIN_EDGE | {"reason"}


def node_link_json(graph: nx.MultiDiGraph) -> bytes:
    """The node-link JSON of ``graph`` (edges under ``links``) in UTF-8, with a final newline."""
    out = io.BytesIO()
    write_node_link_json(graph, out)
    return out.getvalue()


def write_node_link_json(graph: nx.MultiDiGraph, out: IO[bytes]) -> None:
    """``node_link_json``, written to ``out`` as it is made."""
    # The graph's own dicts, not its views: iterating an AtlasView goes through
    # collections.abc in Python, an item at a time (a third of the writing at 10,000 notes).
    adjacency = (
        (u, v, keyed.items()) for u, targets in graph._adj.items() for v, keyed in targets.items()
    )
    _write(out, graph.graph, graph._node.items(), adjacency)


def write_parts_json(parts: GraphParts, out: IO[bytes]) -> None:
    """The node-link JSON of the whole graph, from its parts: no networkx graph in between.

    The same bytes as ``write_node_link_json(build_graph(vault), out)``: the parts list their
    nodes and edges in networkx's order.
    """
    adjacency = (
        (u, v, enumerate(found)) for u in parts.nodes for v, found in parts.edges.get(u, {}).items()
    )
    _write(out, {"name": parts.name}, parts.nodes.items(), adjacency)


Adjacency = Iterable[tuple[Any, Any, Iterable[tuple[Any, dict[str, Any]]]]]


def _write(
    out: IO[bytes],
    attrs: dict[str, Any],
    nodes: Iterable[tuple[Any, dict[str, Any]]],
    adjacency: Adjacency,
) -> None:
    pieces: list[str] = []
    size = 0
    for piece in _pieces(attrs, nodes, adjacency):
        pieces.append(piece)
        size += len(piece)
        if size >= _CHUNK:
            out.write("".join(pieces).encode())
            pieces.clear()
            size = 0
    out.write("".join(pieces).encode())


def _pieces(
    attrs: dict[str, Any], nodes: Iterable[tuple[Any, dict[str, Any]]], adjacency: Adjacency
) -> Iterator[str]:
    yield "{"
    top: dict[str, Any] = {
        "directed": True,
        "graph": attrs,
        "links": None,
        "multigraph": True,
        "nodes": None,
    }
    for index, (name, value) in enumerate(top.items()):
        yield f"{',' if index else ''}\n {jsontext.dumps(name)}: "
        if name == "links":
            yield from _list(_edges(adjacency))
        elif name == "nodes":
            yield from _list(_nested({**data, "id": n}, 2) for n, data in nodes)
        else:
            yield _nested(value, 1)
    yield "\n}\n"


def _nested(value: object, depth: int) -> str:
    """``value`` as json.dumps writes it ``depth`` levels in: its own lines indented so far."""
    return jsontext.dumps(value, indent=1, sort_keys=True, allow_nan=False, depth=depth)


def _list(items: Iterable[str]) -> Iterator[str]:
    """A list of items written two levels in (the nodes or the links), ``[]`` if empty."""
    separator = "[\n  "
    for item in items:
        yield separator
        yield item
        separator = ",\n  "
    yield "[]" if separator.startswith("[") else "\n ]"


def _edges(adjacency: Adjacency) -> Iterator[str]:
    """Each edge as a link object, in the order of ``adjacency``."""
    written: dict[str, str] = {}  # paths and kinds repeat edge after edge

    def encode(text: str) -> str:
        found = written.get(text)
        if found is None:
            if len(written) > 4096:
                written.clear()
            found = written[text] = encode_basestring(text)
        return found

    for u, v, keyed in adjacency:
        ends = None
        if type(u) is str and type(v) is str:
            ends = f'"source": {encode_basestring(u)},\n   "target": {encode_basestring(v)}'
        for key, data in keyed:
            if ends is not None and type(key) is int:
                text = _plain_edge(data, key, ends, encode)
                if text is not None:
                    yield text
                    continue
            yield _nested({**data, "source": u, "target": v, "key": key}, 2)


def _plain_edge(
    data: dict[str, Any], key: int, ends: str, encode: Callable[[str], str]
) -> str | None:
    """An edge as the graph makes it (a negation's with its reason) filled into its template."""
    keys = data.keys()
    if keys == _PLAIN_EDGE:
        reason = ""
    elif keys == _NEGATION_EDGE:
        given = data["reason"]
        if given is None:
            reason = '\n   "reason": null,'
        elif type(given) is str:
            reason = f'\n   "reason": {encode_basestring(given)},'
        else:
            return None
    else:
        return None
    column, kind, line, path = data["column"], data["kind"], data["line"], data["path"]
    if not (type(column) is type(line) is int and type(kind) is type(path) is str):
        return None
    return (
        f'{{\n   "column": {column},\n   "key": {key},\n   "kind": {encode(kind)},\n   "line": '
        f'{line},\n   "path": {encode(path)},{reason}\n   {ends}\n  }}'
    )
