"""The graph as JSON: networkx node-link data, every node and edge attribute kept.

``networkx.node_link_graph(json.loads(data), edges="links")`` gives the ``MultiDiGraph`` back.
``--focus``, ``--depth`` and ``--kinds`` cut it as they cut the diagrams; the graph's own
attributes (``graph`` in the JSON) say which part it is.
"""

from __future__ import annotations

import io
from typing import IO

from conceptgraph.export import ExportOptions
from conceptgraph.export.nodelink import write_node_link_json, write_parts_json
from conceptgraph.graph import graph_parts
from conceptgraph.vault.load import Vault


def export_json(vault: Vault, options: ExportOptions) -> bytes:
    """The vault's graph (or the part the options select) as node-link JSON."""
    out = io.BytesIO()
    write_json(vault, options, out)
    return out.getvalue()


def write_json(vault: Vault, options: ExportOptions, out: IO[bytes]) -> None:
    """``export_json``, written to ``out`` as it is made (hundreds of MB for millions of links)."""
    if options == ExportOptions(depth=options.depth) and options.depth >= 0:
        # The whole graph: from its parts, with no networkx graph built only to be read out.
        write_parts_json(graph_parts(vault), out)
        return
    from conceptgraph.export.view import graph_view  # networkx: a part of the graph is cut there

    write_node_link_json(graph_view(vault, options), out)
