"""--focus, --depth and --kinds: the part of the graph every diagram and graph export shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conceptgraph.api import open_vault
from conceptgraph.errors import ExportError
from conceptgraph.export import ExportOptions
from conceptgraph.export.view import graph_view
from conceptgraph.vault.load import Vault

VAULT = Path(__file__).parent / "data" / "diagram-vault"


@pytest.fixture(scope="module")
def vault() -> Vault:
    return open_vault(VAULT)


def view(vault: Vault, **options: Any) -> tuple[set[str], set[tuple[str, str, str]]]:
    graph = graph_view(vault, ExportOptions(**options))
    return set(graph), {(u, v, kind) for u, v, kind in graph.edges(data="kind")}


def test_no_options_is_the_whole_graph(vault: Vault) -> None:
    nodes, edges = view(vault)
    assert len(nodes) == 13
    assert len(edges) == 11
    assert "graph" not in nodes


def test_focus_depth_1_is_the_focus_and_its_own_edges(vault: Vault) -> None:
    nodes, edges = view(vault, focus="alpha", depth=1)
    assert nodes == {
        "note:alpha.md",
        "note:beta.md",
        "note:gamma.md",
        "note:delta.md",
        "note:variant.md",  # points at alpha: both directions count
        "alias:first",
        "alias:the start",
        "concept:phantom",
        "file:sheet.csv",
        "residual:alpha.md#1",
    }
    # beta -> gamma joins two neighbours: a step beyond depth 1, so not drawn.
    assert ("note:beta.md", "note:gamma.md", "dependency") not in edges
    assert all("note:alpha.md" in (u, v) for u, v, _ in edges)
    assert ("note:variant.md", "note:alpha.md", "canonical") in edges


def test_focus_depth_2_reaches_further(vault: Vault) -> None:
    nodes, edges = view(vault, focus="alpha", depth=2)
    assert "note:epsilon.md" in nodes
    assert ("note:beta.md", "note:gamma.md", "dependency") in edges
    assert ("note:delta.md", "note:epsilon.md", "dependency") in edges
    assert "note:one/dup.md" not in nodes


def test_focus_depth_0_is_the_focus_alone(vault: Vault) -> None:
    assert view(vault, focus="alpha", depth=0) == ({"note:alpha.md"}, set())


def test_kinds_keep_those_edges_and_every_note(vault: Vault) -> None:
    nodes, edges = view(vault, kinds=("dependency",))
    assert {kind for *_, kind in edges} == {"dependency"}
    assert len(edges) == 3
    assert {n for n in nodes if not n.startswith("note:")} == set()
    assert "note:one/dup.md" in nodes


def test_kinds_and_focus_walk_only_the_kept_edges(vault: Vault) -> None:
    nodes, edges = view(vault, focus="alpha", depth=5, kinds=("dependency",))
    assert nodes == {"note:alpha.md", "note:beta.md", "note:gamma.md"}
    assert len(edges) == 2
    nodes, _ = view(vault, focus="alpha", depth=1, kinds=("negation", "residual"))
    assert nodes == {
        "note:alpha.md",
        "note:gamma.md",
        "concept:phantom",
        "residual:alpha.md#1",
    }


def test_view_records_what_was_asked(vault: Vault) -> None:
    graph = graph_view(vault, ExportOptions(focus="first", depth=2, kinds=("negation", "link")))
    assert graph.graph == {
        "name": "diagram-vault",
        "focus": "note:alpha.md",
        "depth": 2,
        "kinds": ["negation", "link"],
    }


@pytest.mark.parametrize(
    ("focus", "node"),
    [
        ("alpha", "note:alpha.md"),
        ("ALPHA", "note:alpha.md"),
        ("alpha.md", "note:alpha.md"),
        ("first", "note:alpha.md"),  # an alias
        ("The Start", "note:alpha.md"),  # an alias, any case
        ("start", "note:alpha.md"),  # a concept name: the leading article does not count
        ("one/dup", "note:one/dup.md"),  # a path tells same-named notes apart
        ("two/dup.md", "note:two/dup.md"),
        ("sheet.csv", "file:sheet.csv"),
        ("phantom", "concept:phantom"),  # named by a negation, with no note
    ],
)
def test_focus_resolves_by_name_alias_or_path(vault: Vault, focus: str, node: str) -> None:
    assert graph_view(vault, ExportOptions(focus=focus)).graph["focus"] == node


def test_focus_on_several_notes_is_an_error_naming_them(vault: Vault) -> None:
    with pytest.raises(ExportError, match=r"several notes: one/dup\.md, two/dup\.md"):
        graph_view(vault, ExportOptions(focus="dup"))


@pytest.mark.parametrize("focus", ["nothing", "", "  "])
def test_focus_on_nothing_is_an_error(vault: Vault, focus: str) -> None:
    with pytest.raises(ExportError, match="--focus"):
        graph_view(vault, ExportOptions(focus=focus))


def test_unknown_edge_kind_is_an_error_listing_the_kinds(vault: Vault) -> None:
    with pytest.raises(ExportError, match=r"unknown edge kind dependancy \(known: dependency,"):
        graph_view(vault, ExportOptions(kinds=("dependancy",)))


def test_base_means_nothing_to_a_diagram(vault: Vault) -> None:
    with pytest.raises(ExportError, match="--base is for the RDF formats"):
        graph_view(vault, ExportOptions(base="https://example.org/"))


def test_same_vault_same_view(vault: Vault) -> None:
    again = open_vault(VAULT)
    for options in (ExportOptions(), ExportOptions(focus="alpha", depth=2)):
        one, two = graph_view(vault, options), graph_view(again, options)
        assert list(one.nodes(data=True)) == list(two.nodes(data=True))
        assert list(one.edges(keys=True, data=True)) == list(two.edges(keys=True, data=True))
