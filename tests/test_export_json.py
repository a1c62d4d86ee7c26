"""Graph JSON: networkx node-link data that loads back into the same graph."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from conceptgraph.api import open_vault
from conceptgraph.export import ExportOptions, export
from conceptgraph.export.nodelink import node_link_json
from conceptgraph.graph import build_graph
from tests import hostile_names
from tests.conftest import FIXTURES

REPO = Path(__file__).parent.parent
FIXTURE = Path(__file__).parent / "data" / "diagram-vault"


def load(data: bytes) -> nx.MultiDiGraph:
    graph = nx.node_link_graph(json.loads(data), edges="links")
    assert isinstance(graph, nx.MultiDiGraph)
    return graph


def same(one: nx.MultiDiGraph, two: nx.MultiDiGraph) -> None:
    assert list(one.nodes(data=True)) == list(two.nodes(data=True))
    assert list(one.edges(keys=True, data=True)) == list(two.edges(keys=True, data=True))


def test_round_trip_keeps_every_node_edge_and_attribute() -> None:
    for root in (REPO / "notes", FIXTURE):
        vault = open_vault(root)
        graph = load(export(vault, "json"))
        same(graph, build_graph(vault))
        assert graph.graph == {"name": root.name}


def test_notes_attributes_survive() -> None:
    graph = load(export(open_vault(REPO / "notes"), "json"))
    migration = graph.nodes["note:migration.md"]
    assert migration["kind"] == "note"
    assert migration["title"] == "Migration"
    assert migration["canonical"] is True
    assert migration["layer"] == "mechanism"
    negations = [
        data
        for _, v, data in graph.out_edges("note:migration.md", data=True)
        if data["kind"] == "negation" and v == "note:rollback.md"
    ]
    assert negations and negations[0]["reason"].startswith("rollback attempts")
    assert {"path", "line", "column"} <= set(negations[0])


def test_focus_and_kinds_cut_the_json_too() -> None:
    vault = open_vault(FIXTURE)
    graph = load(
        export(vault, "json", ExportOptions(focus="alpha", depth=1, kinds=("dependency",)))
    )
    assert set(graph) == {"note:alpha.md", "note:beta.md"}
    assert graph.graph["focus"] == "note:alpha.md"
    assert graph.graph["kinds"] == ["dependency"]


def test_hostile_names_round_trip(tmp_path: Path) -> None:
    hostile_names.build(tmp_path / "vault")
    vault = open_vault(tmp_path / "vault")
    data = export(vault, "json")
    same(load(data), build_graph(vault))
    assert data == export(open_vault(tmp_path / "vault"), "json")
    assert data.endswith(b"}\n")


def test_the_command_writes_what_export_gives_to_a_file_and_to_stdout(tmp_path: Path) -> None:
    # The command writes graph JSON as it is made (a note of millions of links gives 500 MB):
    # to a file, in one step at the end, and to stdout; the bytes are export()'s.
    root = REPO / "notes"
    expected = export(open_vault(root), "json")
    target = tmp_path / "graph.json"
    target.write_bytes(b"old\n")
    command = [sys.executable, "-m", "conceptgraph", "export", str(root), "--format", "json"]
    subprocess.run([*command, "-o", str(target)], check=True)
    assert target.read_bytes() == expected
    assert [p.name for p in tmp_path.iterdir()] == ["graph.json"]  # no temp file left
    printed = subprocess.run(command, check=True, capture_output=True).stdout
    assert printed == expected
    assert expected.count(b'"source": "note:migration.md"') > 10


def test_a_failed_export_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "graph.json"
    target.write_bytes(b"old\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conceptgraph",
            "export",
            str(REPO / "notes"),
            "--format",
            "json",
            "--focus",
            "no-such-note",
            "-o",
            str(target),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "--focus" in done.stderr
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.json"]


def test_the_whole_graph_is_written_from_its_parts_as_from_networkx(tmp_path: Path) -> None:
    # The whole graph's JSON is written from graph_parts, never built into networkx: the bytes
    # must be those node_link_json writes of build_graph, on every fixture vault.
    hostile_names.build(tmp_path / "hostile")
    roots = [REPO / "notes", FIXTURE, tmp_path / "hostile"]
    roots += sorted(p for p in FIXTURES.glob("*/*") if p.is_dir())
    for root in roots:
        vault = open_vault(root)
        assert export(vault, "json") == node_link_json(build_graph(vault)), root


@pytest.mark.parametrize("fmt", ["json", "dot"])
def test_the_export_command_builds_the_graph_with_the_cyclic_collector_off(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A dict an edge and no reference cycles: the collector only slowed the command down (a
    # fifth of a 10,000-note vault's DOT export). On again once the command is done.
    from click.testing import CliRunner

    from conceptgraph import cli
    from conceptgraph.export import json as json_export
    from conceptgraph.export import view

    seen: list[bool] = []
    for module, name in ((json_export, "graph_parts"), (view, "build_graph")):
        real = getattr(module, name)

        def watched(*args: Any, real: Any = real, **options: Any) -> Any:
            seen.append(gc.isenabled())
            return real(*args, **options)

        monkeypatch.setattr(module, name, watched)
    target = tmp_path / f"graph.{fmt}"
    command = ["export", str(REPO / "notes"), "--format", fmt, "-o", str(target)]
    result = CliRunner().invoke(cli.cli, command)
    assert result.exit_code == 0, result.output
    assert seen == [False]
    assert gc.isenabled()
    assert target.read_bytes() == export(open_vault(REPO / "notes"), fmt)
