"""The graph as JSON: networkx node-link data, every node and edge attribute kept.

``networkx.node_link_graph(json.loads(data), edges="links")`` gives the ``MultiDiGraph`` back.
``--focus``, ``--depth`` and ``--kinds`` cut it as they cut the diagrams; the graph's own
attributes (``graph`` in the JSON) say which part it is.
"""

from __future__ import annotations

from conceptgraph.export import ExportOptions
from conceptgraph.export.nodelink import node_link_json
from conceptgraph.export.view import graph_view
from conceptgraph.vault.load import Vault


def export_json(vault: Vault, options: ExportOptions) -> bytes:
    """The vault's graph (or the part the options select) as node-link JSON."""
    return node_link_json(graph_view(vault, options))
