from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from conceptgraph.config import Config
from conceptgraph.graph import EDGE_KINDS, NODE_KINDS, GraphParts, build_graph, graph_parts
from conceptgraph.vault.load import Vault, load_vault
from tests.conftest import FIXTURES

NOTES = Path(__file__).parent.parent / "notes"
FIXTURE_VAULTS = sorted(p for p in FIXTURES.glob("*/*") if p.is_dir())


def _edges(graph: nx.MultiDiGraph, source: str, kind: str) -> set[str]:
    return {v for _, v, d in graph.out_edges(source, data=True) if d["kind"] == kind}


def test_migration_edges_follow_its_sections() -> None:
    graph = build_graph(load_vault(NOTES, Config()))
    note = "note:migration.md"
    assert graph.nodes[note]["type"] == "mechanism"
    assert graph.nodes[note]["canonical"] is True
    assert graph.nodes[note]["title"] == "Migration"
    assert _edges(graph, note, "dependency") == {
        "note:persistent-difference.md",
        "note:propagation.md",
        "note:displacement.md",
        "note:erasure-cost.md",
        "note:residual.md",
    }
    # "Not a rename (...)" names the note rename.md in plain words, article and all.
    assert _edges(graph, note, "negation") == {
        "note:rename.md",
        "note:rollback.md",
        "note:convergence.md",
    }
    assert _edges(graph, note, "alias") == {"alias:transition", "alias:move"}
    residuals = _edges(graph, note, "residual")
    assert "note:residual.md" in residuals
    bullets = sorted(r for r in residuals if r.startswith("residual:"))
    assert [graph.nodes[r]["name"] for r in bullets] == [
        "mapping residue (translation layers, backfills, partial conversions)",
        "long-lived dual-run logic and reconciliation queues",
        "displaced cost into monitoring, rollback narratives, and post-cutover cleanup",
    ]
    dependency = next(
        d
        for _, v, d in graph.out_edges(note, data=True)
        if v == "note:propagation.md" and d["kind"] == "dependency"
    )
    assert (dependency["path"], dependency["line"], dependency["column"]) == ("migration.md", 36, 3)


def test_every_kind_appears(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(
        "---\naliases: [first]\ncanonical: true\n---\n# A\n\n"
        "## Structural dependencies\n- [[b]]\n\n"
        "## Residuals\n- a leftover\n\n"
        "## What this is NOT\n- Not a ghost (no note for it).\n- Not [[b]] (linked).\n\n"
        "## Examples\n![[pic.png]] and [[nowhere]].\n",
        encoding="utf-8",
    )
    (tmp_path / "b.md").write_text(
        '---\ncanonical: false\ncanonical_of: "[[a]]"\n---\n# B\n', encoding="utf-8"
    )
    (tmp_path / "pic.png").write_bytes(b"\x89PNG")
    (tmp_path / "board.canvas").write_text(
        '{"nodes": [{"id": "1", "type": "file", "file": "a.md"}]}', encoding="utf-8"
    )
    graph = build_graph(load_vault(tmp_path, Config()))
    assert set(Counter(d["kind"] for _, d in graph.nodes(data=True))) == set(NODE_KINDS)
    assert set(Counter(d["kind"] for *_, d in graph.edges(data=True))) == set(EDGE_KINDS)
    assert _edges(graph, "note:b.md", "canonical") == {"note:a.md"}
    assert _edges(graph, "note:a.md", "negation") == {"concept:ghost", "note:b.md"}
    assert _edges(graph, "note:a.md", "embed") == {"file:pic.png"}
    assert _edges(graph, "note:a.md", "link") == {"concept:nowhere"}
    for node, data in graph.nodes(data=True):
        assert "path" in data, node
    for *_, data in graph.edges(data=True):
        assert {"path", "line", "column"} <= set(data)


def test_graph_is_deterministic() -> None:
    first = nx.node_link_data(build_graph(load_vault(NOTES, Config())), edges="links")
    second = nx.node_link_data(build_graph(load_vault(NOTES, Config())), edges="links")
    assert first == second


def _interleaved(root: Path) -> Path:
    # Negations and links to the same notes, interleaved: networkx groups a note's edges by
    # target, first linked first, and the RDF export numbers negations in that order.
    (root / "a.md").write_text(
        "# A\n\n## What this is NOT\n- Not [[b]] (first).\n- Not [[c]].\n"
        "- Not [[b]] (again).\n\n## Examples\n[[c]], [[b]], ![[c]].\n",
        encoding="utf-8",
    )
    (root / "b.md").write_text("---\naliases: [bee]\n---\n# B\n[[a]] [[ghost]]\n", "utf-8")
    (root / "c.md").write_text("# C\n\n## Residuals\n- left over\n", encoding="utf-8")
    return root


def _vault(which: str, tmp_path: Path) -> Vault:
    """The vault a test is parametrised with: notes/, a fixture vault, or an interleaved one."""
    root = {"notes": NOTES, "interleaved": tmp_path, **{p.name: p for p in FIXTURE_VAULTS}}[which]
    if which == "interleaved":
        _interleaved(tmp_path)
    return load_vault(root, Config())


@pytest.mark.parametrize("which", ["notes", "interleaved", *(p.name for p in FIXTURE_VAULTS)])
def test_plain_parts_list_what_networkx_lists(which: str, tmp_path: Path) -> None:
    vault = _vault(which, tmp_path)
    parts, graph = graph_parts(vault), build_graph(vault)
    assert list(parts.nodes.items()) == list(graph.nodes(data=True))
    assert list(parts.edge_list()) == list(graph.edges(data=True))
    assert parts.name == graph.graph["name"]


def _reference_graph(vault: Vault) -> nx.MultiDiGraph:
    """The graph as networkx's own ``add_edges_from`` builds it, edge by edge."""
    parts = graph_parts(vault)
    graph = nx.MultiDiGraph(name=parts.name)
    graph.add_nodes_from(parts.nodes.items())
    graph.add_edges_from(
        (source, target, key, attrs)
        for source, targets in parts.edges.items()
        for target, found in targets.items()
        for key, attrs in enumerate(found)
    )
    return graph


@pytest.mark.parametrize("which", ["notes", "interleaved", *(p.name for p in FIXTURE_VAULTS)])
def test_build_graph_is_the_graph_networkx_builds(which: str, tmp_path: Path) -> None:
    # build_graph lays the edges into networkx's adjacency itself (add_edges_from copied each
    # edge's dict): the graph must be networkx's own, both ways round and editable after.
    vault = _vault(which, tmp_path)
    graph, reference = build_graph(vault), _reference_graph(vault)
    assert nx.utils.graphs_equal(graph, reference)
    assert list(graph.edges(keys=True, data=True)) == list(reference.edges(keys=True, data=True))
    assert list(graph.in_edges(keys=True, data=True)) == list(
        reference.in_edges(keys=True, data=True)
    )
    # An edge added after, and one taken away, show both ways round, as in networkx's own.
    for which_graph in (graph, reference):
        first = next(iter(which_graph.edges()), None)
        if first is not None:
            which_graph.add_edge(*first, kind="link")
            which_graph.remove_edge(*first, key=0)
    assert list(graph.edges(keys=True, data=True)) == list(reference.edges(keys=True, data=True))
    assert list(graph.in_edges(keys=True, data=True)) == list(
        reference.in_edges(keys=True, data=True)
    )


def _repeated(root: Path) -> Path:
    # The same links again and again, of several kinds, to notes, files and concepts.
    (root / "a.md").write_text(
        "---\ntype: mechanism\n---\n# A\n\n## Depends on\n- [[b]] and [[b|bee]], [[c]], [[b#B]]\n"
        "## What this is NOT\n- Not [[c]] (one).\n- Not [[c]] (two).\n\n"
        "## Examples\n[[b]] [[b]] ![[pic.png]] ![[pic.png]] [[ghost]] [[ghost]] [[a]] [[a]]\n",
        encoding="utf-8",
    )
    (root / "b.md").write_text("# B\n\n[[a]] [[a]] [[c]] [[a]]\n", encoding="utf-8")
    (root / "c.md").write_text("# C\n\n![[b]] [[b]] ![[b]]\n", encoding="utf-8")
    (root / "pic.png").write_bytes(b"\x89PNG")
    return root


@pytest.mark.parametrize(
    "which", ["notes", "interleaved", "repeated", *(p.name for p in FIXTURE_VAULTS)]
)
@pytest.mark.parametrize("fmt", ["dot", "mermaid", "ntriples", "turtle"])
def test_one_edge_a_kind_says_and_draws_what_every_edge_does(
    which: str, fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Diagrams and RDF are made from the graph with one edge per note, target and kind
    # (graph_parts(distinct=True)): the same bytes as from the graph with an edge a link.
    from conceptgraph import graph
    from conceptgraph.export import export

    if which == "repeated":
        vault = load_vault(_repeated(tmp_path), Config())
    else:
        vault = _vault(which, tmp_path)
    distinct = export(vault, fmt)
    real = graph.graph_parts

    def every_edge(*args: Any, **options: Any) -> GraphParts:
        return real(*args, **{**options, "distinct": False})

    monkeypatch.setattr(graph, "graph_parts", every_edge)
    assert export(vault, fmt) == distinct


def test_distinct_parts_keep_the_first_link_of_each_kind(tmp_path: Path) -> None:
    vault = load_vault(_repeated(tmp_path), Config())
    every, distinct = graph_parts(vault), graph_parts(vault, distinct=True)
    assert len(list(every.edge_list())) > len(list(distinct.edge_list()))
    kept = {(u, v, d["kind"]) for u, v, d in distinct.edge_list()}
    assert kept == {(u, v, d["kind"]) for u, v, d in every.edge_list()}
    firsts: dict[tuple[str, str, str], dict[str, Any]] = {}
    for u, v, data in every.edge_list():
        firsts.setdefault((u, v, data["kind"]), data)
    negations = [d for u, v, d in every.edge_list() if d["kind"] == "negation"]
    for u, v, data in distinct.edge_list():
        if data["kind"] != "negation":
            assert data == firsts[(u, v, data["kind"])]
    # Each negation is a statement of its own: all are kept.
    assert [d for _, _, d in distinct.edge_list() if d["kind"] == "negation"] == negations
