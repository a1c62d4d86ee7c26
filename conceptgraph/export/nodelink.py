"""A ``MultiDiGraph`` as node-link JSON, written as ``json.dumps`` of ``node_link_data`` writes it.

The bytes are those of ``json.dumps(nx.node_link_data(graph, edges="links"),
ensure_ascii=False, indent=1, sort_keys=True, allow_nan=False)``. That way made a dict for every
edge and then ran json's pure-Python encoder over them (``indent`` turns the C one off): a note
of a million links took a minute and gigabytes. Here an edge whose attributes are plain values
(all of them, in the graph conceptgraph builds) is one line per attribute joined in place, each
value through the C string encoder; anything else goes through ``json.dumps`` itself.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx

# The encoder json.dumps uses for strings with ensure_ascii=False (the C one where built).
_STRING: Any = json.encoder.encode_basestring


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
        out.write(f"{',' if index else ''}\n {_STRING(name)}: ".encode())
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
    text = json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, allow_nan=False)
    # JSON writes a newline inside a string as "\n": every real one starts a line of the value.
    return text.replace("\n", "\n" + " " * depth)


def _list(out: io.BytesIO, items: Iterable[Mapping[str, object]]) -> None:
    """A list of dicts two levels in (the nodes or the links), ``[]`` if empty."""
    separator = b"[\n  "
    for item in items:
        out.write(separator)
        out.write(_item(item).encode())
        separator = b",\n  "
    out.write(b"[]" if separator.startswith(b"[") else b"\n ]")


def _item(item: Mapping[str, object]) -> str:
    if not item:
        return "{}"
    if not all(isinstance(key, str) for key in item):
        return _nested(dict(item), 2)
    try:
        lines = [f"   {_STRING(key)}: {_scalar(item[key])}" for key in sorted(item)]
    except _NotPlain:
        return _nested(dict(item), 2)
    return "{\n" + ",\n".join(lines) + "\n  }"


class _NotPlain(Exception):
    """A value json.dumps itself must write (a list, a dict, a number that is not finite)."""


def _scalar(value: object) -> str:
    if isinstance(value, str):
        return str(_STRING(value))
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float) and math.isfinite(value):
        return float.__repr__(value)
    raise _NotPlain
