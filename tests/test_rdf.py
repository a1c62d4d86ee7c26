"""The vault as RDF: four formats that hold the same triples, stable IRIs and bytes, SKOS content.

Every export is parsed back with rdflib (a second, independent implementation: the writers
are pyoxigraph's and ours) and compared with ``rdflib.compare.isomorphic``.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS, SKOS

from conceptgraph.api import open_vault
from conceptgraph.errors import ExportError
from conceptgraph.export import ExportOptions, export
from conceptgraph.note.parse import parse_note
from conceptgraph.rdf.shacl import packaged, to_rdflib
from conceptgraph.rdf.sparql import load_batches, load_store, ntriples
from conceptgraph.rdf.triples import (
    CG,
    default_base,
    definition,
    encode,
    resource_iris,
    triple_batches,
    vault_rdf,
)
from tests.conftest import FIXTURES

REPO = Path(__file__).parent.parent
NOTES = REPO / "notes"
BASE = "urn:conceptgraph:notes:"
# rdflib's own JSON-LD parser uses its deprecated ConjunctiveGraph inside.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
FORMATS = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml"}

# File names that break naive IRI building: spaces, unicode (written NFD on disk, as macOS
# does), '#', both quotes, '<' and '>', '%', ';' and '=', '&', '?', '\', braces, '^', '`', '|',
# ':', a control character, right-to-left override, emoji, CJK, and two files whose
# IRIs would otherwise be one (x.png.md and x.png).
AWKWARD = [
    "plain",
    "with space",
    "café",
    unicodedata.normalize("NFD", "naïve"),
    "hash#tag",
    'quote"double',
    "quote'single",
    "gt>lt<",
    "per%cent",
    "per%2Fcent",
    "semi;colon=eq",
    "amp&q?",
    "back\\slash",
    "brace{}",
    "caret^tick`",
    "pipe|x",
    "colon:name",
    "ctrl\x01char",
    "bidi\u202eevil",
    "emoji🚀",
    "日本語",
    "x.png",
]


def awkward_vault(root: Path) -> Path:
    for index, name in enumerate(AWKWARD):
        after = AWKWARD[(index + 1) % len(AWKWARD)]
        (root / f"{name}.md").write_text(
            f'---\naliases: ["{name} alias"]\ntype: mechanism\ncanonical: true\n---\n'
            f"# Title of {name}\n\n## Definition\n"
            'Text with "quotes", <tags> & ampersands. ^block-1\r\nsecond line\x0b\n\n'
            f"## Structural dependencies\n- [[{after}]]\n\n"
            f"## Residuals\n- a leftover of {name}\n\n"
            f"## What this is NOT\n- Not a ghost of {name} (no note).\n",
            encoding="utf-8",
        )
    (root / "x.png").write_bytes(b"\x89PNG\r\n")
    (root / "sub").mkdir()
    (root / "sub" / "x.png.md").write_text("# Sub\n![[x.png]]\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return awkward_vault(tmp_path_factory.mktemp("awkward vault"))


def parse(data: bytes, fmt: str) -> Graph:
    graph = Graph()
    graph.parse(data=data, format=FORMATS[fmt])
    return graph


def check_round_trip(vault_path: Path) -> Graph:
    """Each format parses back to the same graph, the one the triples say."""
    vault = open_vault(vault_path)
    expected = to_rdflib(vault_rdf(vault))
    for fmt in FORMATS:
        parsed = parse(export(vault, fmt), fmt)
        assert len(parsed) == len(expected), fmt
        assert isomorphic(parsed, expected), fmt
    return expected


def test_notes_round_trip_in_every_format() -> None:
    graph = check_round_trip(NOTES)
    assert len(graph) > 1000


def test_awkward_names_round_trip_in_every_format(awkward: Path) -> None:
    graph = check_round_trip(awkward)
    notes = set(graph.subjects(RDF.type, URIRef(CG + "Note")))
    assert len(notes) == len(AWKWARD) + 1
    paths = {str(graph.value(note, URIRef(CG + "path"))) for note in notes}
    assert "café.md" in paths  # NFC, though the disk holds NFD
    assert "hash#tag.md" in paths
    assert "ctrl\ufffdchar.md" in paths  # RDF/XML cannot hold U+0001


@pytest.mark.parametrize(
    "vault", sorted(p for p in FIXTURES.glob("*/*") if p.is_dir()), ids=lambda p: p.name
)
def test_fixture_vaults_round_trip(vault: Path) -> None:
    check_round_trip(vault)


def test_note_iris_are_valid_and_distinct(awkward: Path) -> None:
    rdf = vault_rdf(open_vault(awkward))
    subjects = {s.value for s, _, _ in rdf.triples}
    assert "urn:conceptgraph:awkward%20vault0:with%20space" in subjects
    assert "urn:conceptgraph:awkward%20vault0:hash%23tag" in subjects
    assert "urn:conceptgraph:awkward%20vault0:caf%C3%A9" in subjects
    assert "urn:conceptgraph:awkward%20vault0:gt%3Elt%3C" in subjects
    assert "urn:conceptgraph:awkward%20vault0:per%252Fcent" in subjects
    # x.png.md and x.png would share "x.png": both keep their whole path.
    assert "urn:conceptgraph:awkward%20vault0:x.png.md" in subjects
    assert "urn:conceptgraph:awkward%20vault0:x.png" in subjects
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/%:")
    for subject in subjects:
        assert set(subject) <= allowed, subject


def test_resource_iris_keep_whole_paths_only_where_they_would_collide() -> None:
    iris = resource_iris("urn:x:", ["a.md", "a.MD", "b.md", "c.png", "c.png.md", "d/e f.md"])
    assert iris == {
        "a.md": "urn:x:a.md",
        "a.MD": "urn:x:a.MD",
        "b.md": "urn:x:b",
        "c.png": "urn:x:c.png",
        "c.png.md": "urn:x:c.png.md",
        "d/e f.md": "urn:x:d/e%20f",
    }
    assert encode("Ünïcode #1") == "%C3%9Cn%C3%AFcode%20%231"


def _digest(vault: Path, fmt: str, seed: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "conceptgraph", "export", str(vault), "-f", fmt],
        capture_output=True,
        check=True,
        timeout=120,
        env={**os.environ, "PYTHONHASHSEED": seed},
    )
    return hashlib.sha256(result.stdout).hexdigest()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_same_vault_same_bytes_whatever_the_hash_seed(fmt: str, awkward: Path) -> None:
    assert _digest(awkward, fmt, "1") == _digest(awkward, fmt, "2")


def test_ntriples_lines_are_sorted() -> None:
    lines = export(open_vault(NOTES), "ntriples").decode("utf-8").splitlines()
    assert lines == sorted(lines)
    assert len(lines) == len(set(lines))


def test_migration_as_skos_answers_sparql() -> None:
    graph = parse(export(open_vault(NOTES), "turtle"), "turtle")
    rows = graph.query(
        """
        SELECT ?label ?alias ?layer ?canonical WHERE {
          ?note a skos:Concept, cg:Note ; skos:prefLabel ?label ; skos:altLabel ?alias ;
                cg:layer ?layer ; cg:canonical ?canonical ; cg:path "migration.md" .
        } ORDER BY ?alias
        """,
        initNs={"skos": SKOS, "cg": CG},
    )
    assert [tuple(r) for r in rows] == [  # type: ignore[arg-type]
        (Literal("Migration"), Literal("move"), Literal("mechanism"), Literal(True)),
        (Literal("Migration"), Literal("transition"), Literal("mechanism"), Literal(True)),
    ]
    migration = URIRef(BASE + "migration")
    assert (migration, SKOS.inScheme, URIRef(BASE)) in graph
    assert (URIRef(BASE), RDF.type, SKOS.ConceptScheme) in graph
    definition = str(graph.value(migration, SKOS.definition))
    assert definition.startswith("**Migration** is an operator-pattern that moves a system")
    assert definition.endswith("while altering the underlying configuration.")
    deps = graph.query(
        "SELECT ?dep WHERE { ?m cg:dependsOn ?dep } ORDER BY ?dep",
        initNs={"cg": CG},
        initBindings={"m": migration},
    )
    assert [str(r[0]) for r in deps] == [  # type: ignore[index]
        BASE + name
        for name in ("displacement", "erasure-cost", "persistent-difference", "propagation")
    ] + [BASE + "residual"]


def test_negations_residuals_and_sources() -> None:
    graph = parse(export(open_vault(NOTES), "turtle"), "turtle")
    rows = graph.query(
        """
        SELECT ?target ?reason ?line WHERE {
          vault:migration cg:negation ?n ; cg:isNot ?target .
          ?n a cg:Negation ; cg:negatedConcept ?target ; cg:reason ?reason ; cg:line ?line .
        } ORDER BY ?line
        """,
        initNs={"cg": CG, "vault": BASE},
    )
    assert [(str(t), str(r), int(line)) for t, r, line in rows] == [  # type: ignore[misc]
        (BASE + "rename", "migration changes where and how structure lives", 43),
        (
            BASE + "rollback",
            "rollback attempts to restore; migration moves forward through coordination",
            44,
        ),
        (
            BASE + "convergence",
            "migration may increase divergence temporarily under dual-run",
            45,
        ),
    ]
    residuals = graph.query(
        """
        SELECT ?label ?line WHERE {
          vault:migration cg:hasResidual ?r . ?r a cg:Residual ; rdfs:label ?label ; cg:line ?line
        } ORDER BY ?line
        """,
        initNs={"cg": CG, "vault": BASE, "rdfs": RDFS},
    )
    assert [(str(label), int(line)) for label, line in residuals] == [  # type: ignore[misc]
        ("mapping residue (translation layers, backfills, partial conversions)", 30),
        ("long-lived dual-run logic and reconciliation queues", 31),
        ("displaced cost into monitoring, rollback narratives, and post-cutover cleanup", 32),
    ]


def test_variants_and_concepts_without_notes(tmp_path: Path) -> None:
    (tmp_path / "real.md").write_text(
        "---\ncanonical: true\n---\n# Real\n\n## What this is NOT\n- Not a ghost (none).\n",
        encoding="utf-8",
    )
    (tmp_path / "stub.md").write_text(
        '---\ncanonical: false\ncanonical_of: "[[real]]"\n---\n# Stub\n\nSee [[nowhere]].\n',
        encoding="utf-8",
    )
    graph = parse(export(open_vault(tmp_path), "turtle"), "turtle")
    base = default_base(tmp_path)
    assert (URIRef(base + "stub"), URIRef(CG + "canonicalOf"), URIRef(base + "real")) in graph
    assert (URIRef(base + "stub"), URIRef(CG + "canonical"), Literal(False)) in graph
    ghost = URIRef(base + "concept:ghost")
    assert (URIRef(base + "real"), URIRef(CG + "isNot"), ghost) in graph
    assert (ghost, RDF.type, URIRef(CG + "ConceptWithoutNote")) in graph
    assert (ghost, SKOS.prefLabel, Literal("ghost")) in graph
    nowhere = URIRef(base + "concept:nowhere")
    assert (URIRef(base + "stub"), URIRef(CG + "linksTo"), nowhere) in graph


def test_base_option(tmp_path: Path) -> None:
    (tmp_path / "a note.md").write_text("# A\n", encoding="utf-8")
    vault = open_vault(tmp_path)
    data = export(vault, "ntriples", ExportOptions(base="https://example.org/concepts/"))
    assert b"<https://example.org/concepts/a%20note>" in data
    hashed = export(vault, "turtle", ExportOptions(base="https://example.org/v#"))
    assert (URIRef("https://example.org/v#a%20note"), RDF.type, SKOS.Concept) in parse(
        hashed, "turtle"
    )
    for bad in ("not an iri", "https://example.org/a b/", "https://x.org/c", "skos:x/", "a#b#"):
        with pytest.raises(ExportError, match="--base"):
            export(vault, "turtle", ExportOptions(base=bad))


@pytest.mark.parametrize(
    "options",
    [ExportOptions(focus="a"), ExportOptions(kinds=("link",)), ExportOptions(depth=2)],
    ids=["focus", "kinds", "depth"],
)
def test_diagram_options_are_errors_for_rdf(options: ExportOptions, tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n", encoding="utf-8")
    with pytest.raises(ExportError, match="diagram"):
        export(open_vault(tmp_path), "jsonld", options)


# ------------------------------------------------------------------------- vocabulary, shapes


def test_every_term_used_is_in_the_published_vocabulary(awkward: Path) -> None:
    vocab = Graph().parse(data=packaged("vocab.ttl"), format="turtle")
    used: set[URIRef] = set()
    for vault in (NOTES, awkward):
        graph = to_rdflib(vault_rdf(open_vault(vault)))
        used |= {p for p in graph.predicates() if str(p).startswith(CG)}
        used |= {o for o in graph.objects(None, RDF.type) if str(o).startswith(CG)}
    assert len(used) >= 20
    for term in used:
        assert vocab.value(term, RDFS.label) is not None, term
        assert vocab.value(term, RDFS.comment) is not None, term
        assert vocab.value(term, RDFS.isDefinedBy) == URIRef(CG.rstrip("#")), term


def test_shapes_parse_and_use_only_the_vocabulary() -> None:
    shapes = Graph().parse(data=packaged("shapes.ttl"), format="turtle")
    vocab = Graph().parse(data=packaged("vocab.ttl"), format="turtle")
    defined = set(vocab.subjects())
    mentioned = {t for t in shapes.all_nodes() if isinstance(t, URIRef) and str(t).startswith(CG)}
    shape_names = set(shapes.subjects(RDF.type, URIRef("http://www.w3.org/ns/shacl#NodeShape")))
    assert mentioned - shape_names <= defined


def test_data_files_are_package_data(tmp_path: Path) -> None:
    """pyproject ships conceptgraph/data/ (RDF, the config schema) in the wheel: look inside."""
    try:
        import setuptools
    except ImportError:  # pragma: no cover - the test extra installs it
        pytest.skip("setuptools is not installed")
    major = int(setuptools.__version__.split(".")[0])
    if major < 77:  # pragma: no cover - the test extra requires >= 77
        pytest.skip(f"setuptools {setuptools.__version__} is older than the build requires")
    out = tmp_path / "wheel"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(REPO),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    wheel = next(out.glob("conceptgraph-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    shipped = {"vocab.ttl", "shapes.ttl", "conceptgraph.schema.json"}
    assert {f"conceptgraph/data/{name}" for name in shipped} <= names


@pytest.mark.parametrize(
    "vault",
    [NOTES, *sorted(p for p in FIXTURES.glob("*/*") if p.is_dir())],
    ids=lambda p: p.name,
)
def test_query_batches_hold_the_export_triples(vault: Path) -> None:
    """``query`` loads ``triple_batches``: the same triples, each subject in one batch."""
    opened = open_vault(vault)
    base = default_base(opened.root)
    batches = list(triple_batches(opened, base, size=3))
    subjects = [set(batch) for batch in batches]
    assert sum(map(len, subjects)) == len(set().union(*subjects))
    streamed = [(s, *pair) for batch in batches for s, pairs in batch.items() for pair in pairs]
    assert len(streamed) == len(set(streamed))
    assert set(streamed) == set(vault_rdf(opened, base).triples)


def test_batches_of_awkward_names_load_as_the_export_does(awkward: Path) -> None:
    opened = open_vault(awkward)
    base = default_base(opened.root)
    batches = triple_batches(opened, base, size=2)
    streamed = load_batches((ntriples(b.items()) for b in batches), base)
    exported = load_store(vault_rdf(opened, base))
    assert len(streamed) > 200
    assert set(streamed) == set(exported)


def test_a_batch_that_does_not_load_is_an_error_not_a_gap() -> None:
    good = b"<urn:x:a> <urn:x:p> <urn:x:b> .\n"
    with pytest.raises(SyntaxError):
        load_batches([good, good, b"<urn:x:a> <urn:x:p> .\n", good], "urn:x:")


def test_a_definition_is_its_text_as_obsidian_shows_it() -> None:
    text = (
        "# T\n\n## Definition\n\nA thing  ^block-1\n<!-- a note to self -->\n\n\n\n"
        "that %% hidden %%stays.   \n\n## Next\n\nnot this\n"
    )
    found = definition(parse_note("t.md", text.encode()))
    assert found is not None
    assert found[0] == "A thing\n\nthat stays."
    assert found[1].line == 3
    only_obsidian = parse_note("u.md", b"## Definition\n\nSeen %%unseen%% here.\n")
    assert definition(only_obsidian) == ("Seen  here.", only_obsidian.sections[0].span)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["a", " ", "^b", "<!--", "-->", "%%", "\n", "\t", "\r"]), max_size=30)
)
def test_a_definition_takes_out_what_every_line_would_lose(parts: list[str]) -> None:
    # The definition's text by the rule, line by line, with no shortcut: block ids, then
    # comments, then trailing spaces, then runs of blank lines.
    body = "".join(parts)
    record = parse_note("t.md", f"## Definition\n{body}\n## After\n".encode())
    section = record.sections[0]
    lines = record.lines()[1 : section.end_line]
    text = "\n".join(re.sub(r"\s+\^[A-Za-z0-9-]+\s*$", "", ln) for ln in lines)
    text = re.sub(r"<!--.*?(?:-->|$)|%%.*?(?:%%|$)", "", text, flags=re.DOTALL)
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(ln.rstrip() for ln in text.split("\n"))).strip()
    found = definition(record)
    assert (found[0] if found else "") == text
