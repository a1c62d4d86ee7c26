"""`export` in an RDF format by the query's route gives the very bytes of the vault's export."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.generate_vault import generate_vault
from conceptgraph.api import open_vault
from conceptgraph.errors import ExportError
from conceptgraph.export import RDF_FORMATS, ExportOptions, export
from conceptgraph.export.rdfroute import export_rdf_at
from tests import hostile_names
from tests.conftest import FIXTURES, run_conceptgraph

REPO = Path(__file__).parent.parent


def vaults() -> list[Path]:
    """The repository's notes and every fixture vault (the folders holding notes)."""
    found = {REPO / "notes", REPO / "tests" / "data" / "diagram-vault"}
    for note in FIXTURES.rglob("*.md"):
        found.add(note.parent)
    return sorted(found)


def same_bytes(root: Path, base: str | None = None) -> None:
    vault = open_vault(root)
    for fmt in RDF_FORMATS:
        expected = export(vault, fmt, ExportOptions(base=base))
        assert export_rdf_at(root, fmt, base) == expected, (root, fmt)


@pytest.mark.parametrize("root", vaults(), ids=lambda p: str(p.relative_to(REPO)))
def test_fixture_vaults(root: Path) -> None:
    same_bytes(root)


def test_hostile_names(tmp_path: Path) -> None:
    root = tmp_path / "names"
    hostile_names.build(root)
    same_bytes(root)
    same_bytes(root, base="https://example.org/c/")


def test_the_hostile_vault(hostile_vault: Path) -> None:
    same_bytes(hostile_vault)


@pytest.mark.parametrize("seed", [0, 3])
def test_generated_vaults_made_in_workers(tmp_path: Path, sharded: list[int], seed: int) -> None:
    root = tmp_path / "v"
    generate_vault(root, notes=60, seed=seed, defects=True)
    expected = {fmt: export(open_vault(root, jobs=1), fmt) for fmt in RDF_FORMATS}
    runs = len(sharded)
    for fmt in RDF_FORMATS:
        assert export_rdf_at(root, fmt) == expected[fmt], fmt
    assert len(sharded) == runs + len(RDF_FORMATS)  # each read by the workers


def test_the_command_takes_the_route_and_says_what_is_wrong(tmp_path: Path) -> None:
    shutil.copytree(REPO / "notes", tmp_path / "notes")
    for fmt in RDF_FORMATS:
        out = tmp_path / f"notes.{fmt}"
        done = run_conceptgraph("export", tmp_path / "notes", "--format", fmt, "-o", out)
        assert done.returncode == 0, done.stderr
        suffix = {"turtle": "ttl", "ntriples": "nt", "jsonld": "jsonld", "rdfxml": "rdf"}[fmt]
        assert out.read_bytes() == (REPO / "exports" / f"notes.{suffix}").read_bytes()
    bad = run_conceptgraph("export", tmp_path / "notes", "-f", "nt", "--focus", "migration")
    assert bad.returncode == 2
    assert "--focus applies to diagrams" in bad.stderr
    with pytest.raises(ExportError, match="not an absolute IRI"):
        export_rdf_at(tmp_path / "notes", "turtle", base="no iri")


def test_jsonld_is_compacted_with_the_shipped_context() -> None:
    import json

    import rdflib
    from rdflib.compare import isomorphic

    shipped = json.loads((REPO / "conceptgraph" / "data" / "context.jsonld").read_text("utf-8"))
    document = json.loads(export_rdf_at(REPO / "notes", "jsonld"))
    assert document["@context"] == shipped["@context"]
    # Without its own context, read with the shipped one, it holds the N-Triples' triples.
    bare = json.dumps({"@graph": document["@graph"]})
    graph = rdflib.Graph().parse(data=bare, format="json-ld", context=shipped)
    triples = rdflib.Graph().parse(data=export_rdf_at(REPO / "notes", "nt"), format="nt")
    assert len(graph) == len(triples) > 1000
    assert isomorphic(graph, triples)
