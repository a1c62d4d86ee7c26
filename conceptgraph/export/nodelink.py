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
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring
from typing import IO, Any

import networkx as nx

from conceptgraph import jsontext

# Text is handed to the output in pieces of about this many characters.
_CHUNK = 1 << 20
# The keys of an edge as conceptgraph's graph makes it (``conceptgraph.graph``): such an edge
# is filled into a template, which holds them and the three node-link adds (source, target,
# key) in the order ``sort_keys`` writes them.
_PLAIN_EDGE = frozenset({"column", "kind", "line", "path"})


def node_link_json(graph: nx.MultiDiGraph) -> bytes:
    """The node-link JSON of ``graph`` (edges under ``links``) in UTF-8, with a final newline."""
    out = io.BytesIO()
    write_node_link_json(graph, out)
    return out.getvalue()


def write_node_link_json(graph: nx.MultiDiGraph, out: IO[bytes]) -> None:
    """``node_link_json``, written to ``out`` as it is made."""
    pieces: list[str] = []
    size = 0
    for piece in _pieces(graph):
        pieces.append(piece)
        size += len(piece)
        if size >= _CHUNK:
            out.write("".join(pieces).encode())
            pieces.clear()
            size = 0
    out.write("".join(pieces).encode())


def _pieces(graph: nx.MultiDiGraph) -> Iterator[str]:
    yield "{"
    top: dict[str, Any] = {
        "directed": graph.is_directed(),
        "graph": graph.graph,
        "links": None,
        "multigraph": True,
        "nodes": None,
    }
    for index, (name, value) in enumerate(top.items()):
        yield f"{',' if index else ''}\n {jsontext.dumps(name)}: "
        if name == "links":
            yield from _list(_edges(graph))
        elif name == "nodes":
            yield from _list(_nested({**graph.nodes[n], "id": n}, 2) for n in graph)
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


def _edges(graph: nx.MultiDiGraph) -> Iterator[str]:
    """Each edge as a link object, in the order ``graph.edges`` lists them."""
    written: dict[str, str] = {}  # paths and kinds repeat edge after edge

    def encode(text: str) -> str:
        found = written.get(text)
        if found is None:
            if len(written) > 4096:
                written.clear()
            found = written[text] = encode_basestring(text)
        return found

    for u, targets in graph.adj.items():
        for v, keyed in targets.items():
            ends = None
            if type(u) is str and type(v) is str:
                ends = f'"source": {encode_basestring(u)},\n   "target": {encode_basestring(v)}'
            for key, data in keyed.items():
                if ends is not None and type(key) is int and data.keys() == _PLAIN_EDGE:
                    column, kind, line, path = (
                        data["column"],
                        data["kind"],
                        data["line"],
                        data["path"],
                    )
                    if (
                        type(column) is int
                        and type(line) is int
                        and type(kind) is str
                        and type(path) is str
                    ):
                        yield (
                            f'{{\n   "column": {column},\n   "key": {key},\n   "kind": '
                            f'{encode(kind)},\n   "line": {line},\n   "path": {encode(path)},'
                            f"\n   {ends}\n  }}"
                        )
                        continue
                yield _nested({**data, "source": u, "target": v, "key": key}, 2)
