"""``conceptgraph shacl``: the shipped shapes on a conforming and a violating vault, user shapes,
findings at the note behind each focus node, in every lint format."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import jsonschema
import pytest

from conceptgraph.api import shacl_vault
from conceptgraph.errors import UsageError
from conceptgraph.rdf.shacl import rule_name
from tests.conftest import FIXTURES

REPO = Path(__file__).parent.parent
NOTES = REPO / "notes"
SARIF_SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"

VIOLATING = {
    # canonical must be a boolean; an alias may not repeat the title (SKOS S13).
    "alpha.md": '---\naliases: ["Alpha"]\ntype: mechanism\ncanonical: "yes"\n---\n# Alpha\n',
    # A variant without canonical_of.
    "beta.md": "---\ntype: mechanism\ncanonical: false\n---\n# Beta\n\nSee [[alpha]].\n",
    # canonical_of leads to no note.
    "gamma.md": '---\ntype: mechanism\ncanonical: false\ncanonical_of: "[[ghost]]"\n---\n# Gamma\n',
    # Fine.
    "delta.md": "---\ntype: mechanism\ncanonical: true\n---\n# Delta\n\n"
    "## What this is NOT\n- Not [[alpha]] (different).\n",
}
EXPECTED = [
    (
        "alpha.md",
        4,
        "shacl-datatype",
        "cg:canonical: canonical must be true or false (value 'yes')",
    ),
    (
        "alpha.md",
        6,
        "shacl-disjoint",
        "skos:prefLabel: an alias repeats the title (SKOS: skos:prefLabel and skos:altLabel are "
        "disjoint) (value 'Alpha')",
    ),
    (
        "beta.md",
        5,
        "shacl-or",
        "a variant (canonical: false) names its canonical note with canonical_of",
    ),
    (
        "gamma.md",
        4,
        "shacl-class",
        "cg:canonicalOf: canonical_of must lead to a note of the vault "
        "(value <urn:conceptgraph:violating:concept:ghost>)",
    ),
]

USER_SHAPES = """\
@prefix cg: <https://w3id.org/conceptgraph/vocab#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <https://example.org/shapes#> .

ex:Defined a sh:NodeShape ;
    sh:targetClass cg:Note ;
    sh:property [
        sh:path skos:definition ;
        sh:minCount 1 ;
        sh:severity sh:Warning ;
        sh:message "every note has a Definition section" ;
    ] .

ex:NotItself a sh:NodeShape ;
    sh:targetClass cg:Note ;
    sh:sparql [
        sh:message "a note says it is not what it depends on" ;
        sh:select \"\"\"
            PREFIX cg: <https://w3id.org/conceptgraph/vocab#>
            SELECT $this ?value WHERE { $this cg:isNot ?value ; cg:dependsOn ?value . }
        \"\"\" ;
    ] .
"""


def write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def violating(tmp_path: Path) -> Path:
    return write(tmp_path / "violating", VIOLATING)


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conceptgraph", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_repository_notes_conform() -> None:
    result = shacl_vault(NOTES)
    assert result.conforms
    assert result.findings == []


@pytest.mark.parametrize("family", ["canonical", "negation"])
def test_fixture_vaults_validate_without_crashing(family: str) -> None:
    for vault in sorted(p for p in (FIXTURES / family).iterdir() if p.is_dir()):
        for finding in shacl_vault(vault).findings:
            assert finding.rule.startswith("shacl-")
            assert finding.path, finding


def test_violations_are_findings_at_their_notes(violating: Path) -> None:
    result = shacl_vault(violating)
    assert not result.conforms
    got = [(f.path, f.line, f.rule, f.message) for f in result.findings]
    assert got == EXPECTED
    assert {f.severity.label for f in result.findings} == {"error"}


def test_user_shapes_add_core_and_sparql_constraints(tmp_path: Path) -> None:
    vault = write(
        tmp_path / "vault",
        {
            "a.md": "---\ncanonical: true\n---\n# A\n\n## Definition\nAn a.\n\n"
            "## Structural dependencies\n- [[b]]\n\n## What this is NOT\n- Not [[b]] (really).\n",
            "b.md": "---\ncanonical: true\n---\n# B\n\nNo definition.\n",
        },
    )
    shapes = tmp_path / "mine.ttl"
    shapes.write_text(USER_SHAPES, encoding="utf-8")
    result = shacl_vault(vault, [shapes])
    got = [(f.path, f.line, f.rule, f.severity.label, f.message) for f in result.findings]
    assert got == [
        (
            "a.md",
            4,  # no sh:resultPath: the note's title
            "shacl-sparql",
            "error",
            "a note says it is not what it depends on (value <urn:conceptgraph:vault:b>)",
        ),
        (
            "b.md",
            4,
            "shacl-min-count",
            "warning",
            "skos:definition: every note has a Definition section",
        ),
    ]


def test_sparql_in_shapes_is_checked_before_running(tmp_path: Path) -> None:
    shapes = tmp_path / "remote.ttl"
    shapes.write_text(
        USER_SHAPES.replace(
            "SELECT $this", "SELECT $this WHERE { SERVICE <http://x/> {} }"
        ).replace("WHERE { $this cg:isNot", "{ $this cg:isNot"),
        encoding="utf-8",
    )
    with pytest.raises(UsageError, match=r"SPARQL in shapes: .*refused: SERVICE"):
        shacl_vault(NOTES, [shapes])


class _Listener(BaseHTTPRequestHandler):
    """A server that notes every request: what a shape must never reach."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    hits: ClassVar[list[str]] = []
    handler = type("Listener", (_Listener,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


# pySHACL writes "PREFIX {prefix}: <{namespace}>" before the query: either can hold a query of
# its own, and the triple quote opened there is closed by the harmless-looking sh:select.
SMUGGLED = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/> .
ex:decl sh:declare [ sh:prefix PREFIX ; sh:namespace NAMESPACE^^xsd:anyURI ] .
ex:shape a sh:NodeShape ; sh:targetClass skos:Concept ;
  sh:sparql [ sh:select '\"\"\" }' ; sh:prefixes ex:decl ] .
"""
PAYLOAD = (
    "SELECT $this WHERE { $this ?p ?o . SERVICE <http://127.0.0.1:PORT/x> { $this ?p ?o } } "
    'VALUES ?zz { \\"\\"\\"'
)


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
@pytest.mark.parametrize("through", ["namespace", "prefix"])
def test_sparql_smuggled_through_prefixes_never_runs(
    tmp_path: Path, listener: tuple[int, list[str]], through: str, engine: str
) -> None:
    port, hits = listener
    payload = PAYLOAD.replace("PORT", str(port))
    if through == "namespace":
        prefix, namespace = '"x"', f'"http://x/> {payload}"'
    else:
        prefix, namespace = f'"x: <http://x/> {payload} #"', '"http://y/"'
    shapes = tmp_path / "smuggled.ttl"
    shapes.write_text(
        SMUGGLED.replace("PREFIX", prefix).replace("NAMESPACE", namespace), encoding="utf-8"
    )
    done = subprocess.run(
        [
            sys.executable,
            *("-m", "conceptgraph", "shacl", str(NOTES)),
            *("--shapes", str(shapes), "--engine", engine),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    if engine == "pyshacl":
        assert "refused: SERVICE" in done.stderr
        assert "the SPARQL pySHACL built from the shapes" in done.stderr
    else:  # the fast engine pastes no declaration that is not a prefix and an IRI
        assert "SPARQL in shapes: shape <http://example.org/shape>: sh:declare of" in done.stderr
        assert "is not a prefix and a namespace IRI" in done.stderr
    assert hits == []


def test_validation_opens_no_socket(listener: tuple[int, list[str]]) -> None:
    from conceptgraph.rdf.shacl import _guarded

    port, hits = listener
    with _guarded(), pytest.raises(PermissionError, match="never reaches the network"):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/x", timeout=5)
    assert hits == []
    # Outside validation the process is as it was.
    urllib.request.urlopen(f"http://127.0.0.1:{port}/after", timeout=5).read()
    assert hits == ["/after"]


def test_unreadable_or_invalid_shapes_are_usage_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttl"
    broken.write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\nthis is not turtle\n")
    with pytest.raises(UsageError, match=r"broken\.ttl: not valid turtle RDF"):
        shacl_vault(NOTES, [broken])
    with pytest.raises(UsageError, match="cannot read shapes"):
        shacl_vault(NOTES, [tmp_path / "missing.ttl"])
    with pytest.raises(UsageError, match=r"shapes must be RDF in a file named"):
        shacl_vault(NOTES, [tmp_path / "shapes.jsonld"])


@pytest.mark.parametrize(
    ("component", "rule"),
    [
        ("http://www.w3.org/ns/shacl#MinCountConstraintComponent", "shacl-min-count"),
        ("http://www.w3.org/ns/shacl#SPARQLConstraintComponent", "shacl-sparql"),
        (
            "http://www.w3.org/ns/shacl#QualifiedMaxCountConstraintComponent",
            "shacl-qualified-max-count",
        ),
        ("https://example.org/MyCheck", "shacl-my-check"),
    ],
)
def test_rule_names(component: str, rule: str) -> None:
    from rdflib import URIRef

    assert rule_name(URIRef(component)) == rule
    assert rule_name(None) == "shacl-violation"


# ---------------------------------------------------------------------------------- command


def test_command_reports_in_every_lint_format(violating: Path, tmp_path: Path) -> None:
    text = run("shacl", violating)
    assert text.returncode == 1
    assert text.stdout.splitlines() == [
        f"{path}:{line}:1: error {rule} {message}" for path, line, rule, message in EXPECTED
    ]
    assert "Found 4 findings (4 errors) in 4 notes." in text.stderr
    as_json = run("shacl", violating, "--format", "json")
    assert [(f["path"], f["line"], f["rule"]) for f in json.loads(as_json.stdout)] == [
        (path, line, rule) for path, line, rule, _ in EXPECTED
    ]
    github = run("shacl", violating, "--format", "github")
    assert github.stdout.splitlines()[0].startswith("::error file=")
    assert "title=conceptgraph(shacl-datatype)" in github.stdout
    sarif = run("shacl", violating, "--format", "sarif", "-o", tmp_path / "out.sarif")
    assert sarif.returncode == 1
    log = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == [e[2] for e in EXPECTED]


def test_command_exit_status(violating: Path, tmp_path: Path) -> None:
    assert run("shacl", NOTES).returncode == 0
    # Warnings only fail at --fail-on warning (the default) or below.
    vault = write(tmp_path / "plain", {"a.md": "# A\n"})
    shapes = tmp_path / "mine.ttl"
    shapes.write_text(USER_SHAPES, encoding="utf-8")
    assert run("shacl", vault, "--shapes", shapes).returncode == 1
    assert run("shacl", vault, "--shapes", shapes, "--fail-on", "error").returncode == 0
    missing = run("shacl", violating, "--shapes", tmp_path / "nope.ttl")
    assert missing.returncode == 2
    assert "cannot read shapes" in missing.stderr
