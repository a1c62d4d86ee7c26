"""The graph as JSON: networkx node-link data, every node and edge attribute kept.

``networkx.node_link_graph(json.loads(data), edges="links")`` gives the ``MultiDiGraph`` back.
``--focus``, ``--depth`` and ``--kinds`` cut it as they cut the diagrams; the graph's own
attributes (``graph`` in the JSON) say which part it is.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from conceptgraph import jsontext
from conceptgraph.export import ExportOptions
from conceptgraph.export.view import graph_view
from conceptgraph.vault.load import Vault


def export_json(vault: Vault, options: ExportOptions) -> bytes:
    """The vault's graph (or the part the options select) as node-link JSON."""
    data: dict[str, Any] = nx.node_link_data(graph_view(vault, options), edges="links")
    text = jsontext.dumps(data, indent=1, sort_keys=True, allow_nan=False)
    return (text + "\n").encode("utf-8")
