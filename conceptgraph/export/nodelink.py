"""A ``MultiDiGraph`` as node-link JSON, written as ``json.dumps`` of ``node_link_data`` writes it.

The bytes are those of ``json.dumps(nx.node_link_data(graph, edges="links"),
ensure_ascii=False, indent=1, sort_keys=True, allow_nan=False)``. That way made a dict for every
edge and then ran json's pure-Python encoder over them (``indent`` turns the C one off): a note
of a million links took a minute and gigabytes. Here each node and edge is made into a dict
and written (by :mod:`conceptgraph.jsontext`) one at a time, never the whole list at once.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx

from conceptgraph import jsontext


def node_link_json(graph: nx.MultiDiGraph) -> bytes:
    """The node-link JSON of ``graph`` (edges under ``links``) in UTF-8, with a final newline."""
    out = io.BytesIO()
    out.write(b"{")
    top: dict[str, Any] = {
        "directed": graph.is_directed(),
        "graph": graph.graph,
        "links": None,
        "multigraph": True,
        "nodes": None,
    }
    for index, (name, value) in enumerate(top.items()):
        out.write(f"{',' if index else ''}\n {jsontext.dumps(name)}: ".encode())
        if name == "links":
            edges = graph.edges(keys=True, data=True)
            _list(out, ({**d, "source": u, "target": v, "key": k} for u, v, k, d in edges))
        elif name == "nodes":
            _list(out, ({**graph.nodes[n], "id": n} for n in graph))
        else:
            out.write(_nested(value, 1).encode())
    out.write(b"\n}\n")
    return out.getvalue()


def _nested(value: object, depth: int) -> str:
    """``value`` as json.dumps writes it ``depth`` levels in: its own lines indented so far."""
    return jsontext.dumps(value, indent=1, sort_keys=True, allow_nan=False, depth=depth)


def _list(out: io.BytesIO, items: Iterable[Mapping[str, object]]) -> None:
    """A list of dicts two levels in (the nodes or the links), ``[]`` if empty."""
    separator = b"[\n  "
    for item in items:
        out.write(separator)
        out.write(_nested(item, 2).encode())
        separator = b",\n  "
    out.write(b"[]" if separator.startswith(b"[") else b"\n ]")
