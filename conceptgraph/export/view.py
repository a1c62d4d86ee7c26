"""The part of the graph a diagram or graph export shows: ``--focus``, ``--depth``, ``--kinds``.

One function, :func:`graph_view`, shared by the DOT, SVG, PNG, Mermaid and JSON exporters, so
every format draws the same nodes and edges for the same options.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import networkx as nx

from conceptgraph.errors import ExportError
from conceptgraph.export import ExportOptions
from conceptgraph.graph import EDGE_KINDS, build_graph
from conceptgraph.names import concept_key
from conceptgraph.vault.discovery import is_note_path
from conceptgraph.vault.load import Vault


def graph_view(vault: Vault, options: ExportOptions, *, distinct: bool = False) -> nx.MultiDiGraph:
    """The vault's graph cut down to what the options ask for.

    ``kinds`` keeps only edges of those kinds, and drops the nodes other than notes that no kept
    edge touches. ``focus`` keeps the nodes within ``depth`` steps of the focus note along the
    kept edges, in either direction, and the edges that lead from a node nearer than ``depth``
    (so at depth 1, only the focus's own edges: not the links among its neighbours). The
    graph's attributes say what was asked: ``focus`` (the node id), ``depth`` and ``kinds``.
    Nodes and edges keep the whole graph's order, so the same vault and options always give
    the same graph. ``distinct``: a note's links of one kind to one node are one edge (see
    ``graph_parts``), all a diagram draws of them.
    """
    if options.base is not None:
        raise ExportError("--base is for the RDF formats; diagrams and graph JSON have no IRIs")
    if options.depth < 0:
        raise ExportError(f"--depth must be 0 or more, not {options.depth}")
    kinds = _check_kinds(options.kinds)
    graph = build_graph(vault, distinct=distinct)
    if options.focus is None and kinds is None:
        # The whole graph: a copy would be the same graph again, edge for edge.
        return graph
    focus = resolve_focus(vault, graph, options.focus) if options.focus is not None else None

    edges = [
        (u, v, key, data)
        for u, v, key, data in graph.edges(keys=True, data=True)
        if kinds is None or data["kind"] in kinds
    ]
    if focus is not None:
        distance = _distances(focus, edges, options.depth)
        # An edge between two nodes at the rim leads no nearer the focus: it is a step
        # beyond the depth asked for, and would fill the picture with the rim's own links.
        edges = [
            (u, v, key, data)
            for u, v, key, data in edges
            if u in distance and v in distance and min(distance[u], distance[v]) < options.depth
        ]
        keep = set(distance)
    elif kinds is not None:
        touched = {u for u, *_ in edges} | {v for _, v, *_ in edges}
        keep = {n for n, kind in graph.nodes(data="kind") if kind == "note" or n in touched}
    else:
        keep = set(graph)

    view: nx.MultiDiGraph = nx.MultiDiGraph(**graph.graph)
    if focus is not None:
        view.graph.update(focus=focus, depth=options.depth)
    if kinds is not None:
        view.graph["kinds"] = [kind for kind in EDGE_KINDS if kind in kinds]
    view.add_nodes_from((n, data) for n, data in graph.nodes(data=True) if n in keep)
    view.add_edges_from((u, v, key, data) for u, v, key, data in edges if u in keep and v in keep)
    return view


def _check_kinds(kinds: tuple[str, ...] | None) -> frozenset[str] | None:
    if kinds is None:
        return None
    wanted = frozenset(kind.strip().lower() for kind in kinds if kind.strip())
    unknown = sorted(wanted - set(EDGE_KINDS))
    if unknown or not wanted:
        what = ", ".join(unknown) if unknown else "none"
        raise ExportError(f"unknown edge kind {what} (known: {', '.join(EDGE_KINDS)})")
    return wanted


def resolve_focus(vault: Vault, graph: nx.MultiDiGraph, focus: str) -> str:
    """The graph node ``--focus`` names: a note by path, name or alias, or a named concept.

    Paths and names resolve as a link ``[[focus]]`` would (case-insensitively, ``.md``
    optional, a path suffix where names repeat); failing that, the notes that carry the name
    as an alias or concept name ("erasure cost" finds ``erasure-cost.md``); failing that, a
    concept that has no note. Nothing found, or several notes equally named, is an
    ``ExportError`` that says which.
    """
    wanted = focus.strip()
    if not wanted:
        raise ExportError("--focus needs a note's name, alias or path")
    found = vault.resolve_linkpath(wanted, "")
    candidates = list(found.candidates)
    if not candidates:
        candidates = list(vault.concept_notes(wanted))
    if len(candidates) > 1:
        listed = ", ".join(sorted(candidates))
        raise ExportError(f"--focus {focus!r} names several notes: {listed}; give its path")
    if candidates:
        path = candidates[0]
        node = f"note:{path}" if is_note_path(path) and path in vault.notes else f"file:{path}"
        if node in graph:
            return node
    concept = f"concept:{concept_key(wanted)}"
    if concept in graph:
        return concept
    raise ExportError(f"--focus {focus!r} names no note of the vault (by name, alias or path)")


def _distances(
    focus: str, edges: list[tuple[str, str, Any, dict[str, Any]]], depth: int
) -> dict[str, int]:
    """How many steps each node within ``depth`` steps of ``focus`` is from it (either way)."""
    adjacent: dict[str, set[str]] = {}
    for u, v, *_ in edges:
        adjacent.setdefault(u, set()).add(v)
        adjacent.setdefault(v, set()).add(u)
    distance = {focus: 0}
    queue = deque([focus])
    while queue:
        node = queue.popleft()
        steps = distance[node]
        if steps == depth:
            continue
        for other in sorted(adjacent.get(node, ())):
            if other not in distance:
                distance[other] = steps + 1
                queue.append(other)
    return distance
