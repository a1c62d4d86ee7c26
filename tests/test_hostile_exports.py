"""Exports of the hostile vault parse back: every IRI, DOT id and Mermaid id from a hostile name.

The vault is tests/hostile.py's (control and bidirectional characters in names, a newline in a
name, ``#`` in a name, NFD names, case and NFC/NFD twins, unreadable and binary notes, broken
YAML), without its ``size/`` notes and its 1,200-level folder: those are about the parser and
the walk, and 50,000 edges to lay out would only make ``dot`` slow. Each export is read back
by the real thing: rdflib, Graphviz's ``dot``, the Mermaid parser, and Python's JSON and XML
parsers.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib

from conceptgraph.api import open_vault
from conceptgraph.export import export
from conceptgraph.export.rdf import oxigraph_triples
from conceptgraph.rdf.sparql import load_store
from conceptgraph.rdf.triples import IRI, RDFS, XSD_STRING, Literal, VaultRdf, vault_rdf
from conceptgraph.vault.load import Vault
from tests import hostile
from tests.mermaid_check import mermaid_parse

# Characters RFC 3987 does not allow anywhere in an IRI.
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f-\x9f\u202a-\u202e\u2066-\u2069]')


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vault]:
    root = tmp_path_factory.mktemp("hostile-exports") / "vault"
    hostile.build(root)
    shutil.rmtree(root / "size")
    hostile.remove_tree(root / "deep")
    yield open_vault(root, jobs=1)
    hostile.remove_tree(root)


@pytest.mark.parametrize(
    ("fmt", "rdflib_format"),
    [("turtle", "turtle"), ("ntriples", "nt"), ("jsonld", "json-ld"), ("rdfxml", "xml")],
)
def test_rdf_of_the_hostile_vault_parses_back_with_valid_iris(
    vault: Vault, fmt: str, rdflib_format: str
) -> None:
    graph = rdflib.Graph().parse(data=export(vault, fmt), format=rdflib_format)
    turtle = rdflib.Graph().parse(data=export(vault, "turtle"), format="turtle")
    assert len(graph) == len(turtle) > 0
    iris = {str(term) for triple in graph for term in triple if isinstance(term, rdflib.URIRef)}
    assert [iri for iri in iris if _NOT_IN_IRI.search(iri)] == []
    # Every readable note of the vault, hostile names included, is a resource of the graph.
    assert any("names/new%0Aline" in iri for iri in iris)
    assert any("names/%E2%80%AEevil%E2%80%AC" in iri for iri in iris)


def test_dot_of_the_hostile_vault_is_drawn_by_graphviz(vault: Vault, tmp_path: Path) -> None:
    (tmp_path / "vault.dot").write_bytes(export(vault, "dot"))
    done = subprocess.run(
        ["dot", "-Tsvg", str(tmp_path / "vault.dot"), "-o", str(tmp_path / "vault.svg")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    # Well-formed XML: no raw control character of a name got through into a label.
    assert ET.parse(tmp_path / "vault.svg").getroot().tag.endswith("svg")


def test_svg_export_of_the_hostile_vault_is_well_formed(vault: Vault) -> None:
    ET.fromstring(export(vault, "svg"))


def test_mermaid_of_the_hostile_vault_parses(vault: Vault, tmp_path: Path) -> None:
    text = export(vault, "mermaid").decode("utf-8")
    result = mermaid_parse({"hostile": text}, tmp_path)["hostile"]
    assert result["ok"], result


def test_json_of_the_hostile_vault_parses(vault: Vault) -> None:
    data = json.loads(export(vault, "json"))
    assert data


def test_the_query_store_of_the_hostile_vault_holds_every_triple_as_written(vault: Vault) -> None:
    # `query` loads the triples as N-Triples text it writes itself: every quote, backslash,
    # line end and control character of a hostile note must come back as the same term.
    rdf = vault_rdf(vault, "urn:conceptgraph:hostile:")
    store = load_store(rdf)
    expected = {(str(s), str(p), str(o)) for s, p, o in oxigraph_triples(rdf.triples)}
    assert {(str(q.subject), str(q.predicate), str(q.object)) for q in store} == expected


@pytest.mark.parametrize(
    "text",
    ['a "quote"', "back\\slash \\n", "line\nend\r\nand\rmore", "nul\x00 tab\t \u2028 \U0001f600"],
)
def test_query_store_literals_survive_n_triples(text: str) -> None:
    base = "urn:conceptgraph:t:"
    triples = [(IRI(base + "a"), IRI(RDFS + "label"), Literal(text, XSD_STRING))]
    store = load_store(VaultRdf(base, tuple(triples), {}))
    (quad,) = list(store)
    assert quad.object.value == text
