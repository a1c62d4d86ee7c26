"""``conceptgraph query``: real SPARQL over notes/, refusals before running, every result format."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS

from conceptgraph import cli
from conceptgraph.api import query_vault
from conceptgraph.errors import QueryError
from conceptgraph.rdf.sparql import RESULT_FORMATS, check_query, format_result

REPO = Path(__file__).parent.parent
NOTES = REPO / "notes"
BASE = "urn:conceptgraph:notes:"
GRAPHS = (BASE,)

DEPENDENCIES = """
SELECT ?label WHERE {
  vault:migration cg:dependsOn ?dependency .
  ?dependency skos:prefLabel ?label .
} ORDER BY ?label
"""
LABELS = ["Displacement", "Erasure cost", "Persistent difference", "Propagation", "Residual"]


def select(query: str, fmt: str = "csv") -> bytes:
    return format_result(query_vault(NOTES, query), fmt)


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def run(*args: str | Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conceptgraph", *map(str, args)],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        check=False,
    )


# ------------------------------------------------------------------------------------ results


def test_select_returns_the_dependencies_of_migration() -> None:
    assert csv_rows(select(DEPENDENCIES)) == [["label"], *([label] for label in LABELS)]


def test_a_join_across_notes() -> None:
    # Notes that depend on a concept which itself depends on one the first says it is not.
    rows = csv_rows(
        select(
            """
            SELECT ?note ?dependency ?other WHERE {
              ?note cg:dependsOn ?dependency ; cg:isNot ?other .
              ?dependency cg:dependsOn ?other .
            } ORDER BY ?note ?dependency ?other
            """
        )
    )
    assert [[cell.removeprefix(BASE) for cell in row] for row in rows] == [
        ["note", "dependency", "other"],
        ["divergence", "propagation", "persistent-difference"],
        ["divergence", "scheme", "persistent-difference"],
        ["shim", "compatibility", "boundary"],
        ["shim", "compatibility", "mapping"],
    ]


def test_negation_reasons_and_source_lines() -> None:
    rows = csv_rows(
        select(
            """
            SELECT ?name ?reason ?line WHERE {
              vault:migration cg:negation ?n .
              ?n cg:negatedConcept/skos:prefLabel ?name ; cg:reason ?reason ; cg:line ?line .
            } ORDER BY ?line
            """
        )
    )
    assert rows == [
        ["name", "reason", "line"],
        ["Rename", "migration changes where and how structure lives", "43"],
        [
            "Rollback",
            "rollback attempts to restore; migration moves forward through coordination",
            "44",
        ],
        ["Convergence", "migration may increase divergence temporarily under dual-run", "45"],
    ]


def test_aggregates_and_filters() -> None:
    rows = csv_rows(
        select(
            """
            SELECT ?layer (COUNT(?note) AS ?notes) WHERE {
              ?note a cg:Note ; cg:layer ?layer .
            } GROUP BY ?layer ORDER BY DESC(?notes) ?layer
            """
        )
    )
    assert rows[0] == ["layer", "notes"]
    assert sum(int(n) for _, n in rows[1:]) == 20
    assert {layer for layer, _ in rows[1:]} <= {"substrate", "mechanism", "dynamics", "accounting"}


def test_from_the_vaults_own_graph_and_graph_patterns() -> None:
    plain = select(DEPENDENCIES)
    from_own = select(DEPENDENCIES.replace("WHERE", f"FROM <{BASE}> WHERE"))
    assert from_own == plain
    rows = csv_rows(select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"))
    assert rows == [["g"], [BASE]]


def test_base_option_changes_the_iris(tmp_path: Path) -> None:
    found = query_vault(
        NOTES,
        "SELECT ?n WHERE { ?n a cg:Note ; cg:path 'migration.md' }",
        base="https://example.org/notes/",
    )
    assert csv_rows(format_result(found, "csv")) == [["n"], ["https://example.org/notes/migration"]]


def test_json_results_follow_sparql_json() -> None:
    data = json.loads(select(DEPENDENCIES, "json"))
    assert data["head"]["vars"] == ["label"]
    bindings = data["results"]["bindings"]
    assert [b["label"]["value"] for b in bindings] == LABELS
    assert bindings[0]["label"]["type"] == "literal"


def test_xml_results_follow_sparql_xml() -> None:
    root = ET.fromstring(select(DEPENDENCIES, "xml"))
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    assert [v.get("name") for v in root.findall("r:head/r:variable", ns)] == ["label"]
    assert [e.text for e in root.findall("r:results/r:result/r:binding/r:literal", ns)] == LABELS


def test_tsv_writes_terms_as_rdf() -> None:
    lines = select(DEPENDENCIES, "tsv").decode("utf-8").splitlines()
    assert lines == ["?label", *(f'"{label}"' for label in LABELS)]


def test_table_is_aligned_and_compacts_iris() -> None:
    text = select(
        "SELECT ?dependency ?label WHERE { vault:migration cg:dependsOn ?dependency . "
        "?dependency skos:prefLabel ?label } ORDER BY ?label",
        "table",
    ).decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == "?dependency                  ?label"
    assert lines[1] == "---------------------------  ---------------------"
    assert lines[2] == "vault:displacement           Displacement"
    assert lines[4] == "vault:persistent-difference  Persistent difference"
    assert len(lines) == 2 + len(LABELS)


@pytest.mark.parametrize(
    ("query", "answer"),
    [
        ("ASK { vault:migration cg:isNot vault:rename }", True),
        ("ASK { vault:migration cg:dependsOn vault:rename }", False),
    ],
)
def test_ask(query: str, answer: bool) -> None:
    word = b"true\n" if answer else b"false\n"
    for fmt in ("table", "csv", "tsv"):
        assert select(query, fmt) == word
    assert json.loads(select(query, "json"))["boolean"] is answer
    root = ET.fromstring(select(query, "xml"))
    boolean = root.find("{http://www.w3.org/2005/sparql-results#}boolean")
    assert boolean is not None and boolean.text == str(answer).lower()


def test_construct_prints_turtle() -> None:
    found = query_vault(
        NOTES,
        "CONSTRUCT { ?d skos:broader vault:migration } WHERE { vault:migration cg:dependsOn ?d }",
    )
    data = format_result(found, None)
    graph = Graph().parse(data=data, format="turtle")
    assert len(graph) == 5
    assert (URIRef(BASE + "propagation"), SKOS.broader, URIRef(BASE + "migration")) in graph
    assert data.startswith(b"@prefix")
    with pytest.raises(QueryError, match="CONSTRUCT and DESCRIBE print Turtle"):
        format_result(query_vault(NOTES, "CONSTRUCT WHERE { ?s cg:line ?o }"), "csv")


def test_describe_prints_turtle() -> None:
    data = format_result(query_vault(NOTES, "DESCRIBE vault:migration"), None)
    graph = Graph().parse(data=data, format="turtle")
    assert (URIRef(BASE + "migration"), SKOS.prefLabel, Literal("Migration")) in graph


# ------------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("query", "where", "reason"),
    [
        ("SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", "1:12", "SERVICE"),
        ("select * {\n  service silent <http://x/> { ?s ?p ?o } }", "2:3", "SERVICE"),
        ("SELECT * { ?s ?p ?o . SERVICE ?endpoint { ?a ?b ?c } }", "1:23", "SERVICE"),
        ("SELECT * { \\u0053ERVICE <http://x/> { ?s ?p ?o } }", "1:12", "SERVICE"),
        # Glued to a number, a parser may still read the keyword: refuse.
        ("PREFIX : <http://x/>\nSELECT * { ?s ?p 1SERVICE:e{ ?a ?b ?c } }", "2:19", "SERVICE"),
        # The quote of a prefixed name's escape opens no string hiding the SERVICE.
        (
            "SELECT * { ?s ex:a\\' ?o . SERVICE <http://x/> { ?a ?b ?c } ?s ex:b\\' ?o }",
            "1:27",
            "SERVICE",
        ),
        # Read as "less than", the quote would open a string: refused as uncheckable.
        (
            "SELECT * { ?s ?p ?o FILTER(?o<?s+'x>') SERVICE <http://x/> {} FILTER(?o != 'y') }",
            "1:30",
            "IRI holding '",
        ),
        ("LOAD <http://example.org/data.ttl>", "1:1", "LOAD"),
        ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "1:1", "INSERT"),
        ("DELETE WHERE { ?s ?p ?o }", "1:1", "DELETE"),
        ("CLEAR ALL", "1:1", "CLEAR"),
        ("DROP GRAPH <urn:conceptgraph:notes:>", "1:1", "DROP"),
        ("SELECT * FROM <http://example.org/data.ttl> { ?s ?p ?o }", "1:10", "FROM"),
        ("SELECT *\nFROM NAMED <http://example.org/g> { ?s ?p ?o }", "2:1", "FROM"),
        ("SELECT * FROM vault: { ?s ?p ?o }", "1:10", "FROM"),
    ],
)
def test_refused_before_running(query: str, where: str, reason: str) -> None:
    with pytest.raises(QueryError) as info:
        check_query(query, GRAPHS, source="q.rq")
    assert str(info.value).startswith(f"q.rq:{where}: refused: ")
    assert reason in str(info.value)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { ?s ?p ?o FILTER(CONTAINS(?o, 'SERVICE')) }",
        'SELECT * { ?s ?p """LOAD <x> FROM <y>""" }',
        "SELECT * { ?s ?p ?o } # SERVICE <http://x/> { }",
        "SELECT ?service { ?service ex:service <http://x/service> }",
        "PREFIX add: <http://x/>\nSELECT * { ?s add:from ?o FILTER(?o < 3) }",
        f"SELECT * FROM <{BASE}> FROM NAMED <{BASE}> {{ ?s ?p ?o }}",
    ],
)
def test_harmless_look_alikes_pass(query: str) -> None:
    check_query(query, GRAPHS)


def test_refusal_happens_before_the_vault_is_read(tmp_path: Path) -> None:
    # The folder is no vault at all; the refusal comes first all the same.
    with pytest.raises(QueryError, match="refused: SERVICE"):
        query_vault(tmp_path, "SELECT * { SERVICE <http://x/> { ?s ?p ?o } }")


def test_syntax_errors_name_line_and_column() -> None:
    with pytest.raises(QueryError) as info:
        query_vault(NOTES, "SELECT ?s WHERE {\n  ?s ?p ?o .\n  ?s ?p }", source="q.rq")
    # Where the parser gave up: here the end of the last line.
    assert str(info.value).startswith("q.rq:3:10: syntax error: ")
    with pytest.raises(QueryError) as info:
        query_vault(NOTES, 'SELECT * { ?s ?p "éé" ?x }')
    # Columns count characters, not UTF-8 bytes.
    assert str(info.value).startswith("query:1:27: syntax error: ")
    with pytest.raises(QueryError, match=r"^query:1:\d+: syntax error: "):
        query_vault(NOTES, "SELECT * { ?s undeclared:p ?o }")


# ---------------------------------------------------------------------------------- command


def test_cli_formats_match_the_engine() -> None:
    assert cli.QUERY_FORMATS == RESULT_FORMATS


def test_command_runs_a_query_from_the_argument_a_file_and_stdin(tmp_path: Path) -> None:
    direct = run("query", NOTES, DEPENDENCIES, "--format", "csv")
    assert direct.returncode == 0, direct.stderr
    assert csv_rows(direct.stdout.encode()) == [["label"], *([label] for label in LABELS)]
    query_file = tmp_path / "deps.rq"
    query_file.write_text(DEPENDENCIES, encoding="utf-8")
    from_file = run("query", NOTES, "-f", query_file, "--format", "csv")
    assert from_file.stdout == direct.stdout
    from_stdin = run("query", NOTES, "-f", "-", "--format", "csv", stdin=DEPENDENCIES)
    assert from_stdin.stdout == direct.stdout
    # Not a terminal: tab-separated by default.
    piped = run("query", NOTES, DEPENDENCIES)
    assert piped.stdout.splitlines()[0] == "?label"
    output = tmp_path / "out.json"
    written = run("query", NOTES, DEPENDENCIES, "--format", "json", "-o", output)
    assert written.stdout == ""
    assert json.loads(output.read_text(encoding="utf-8"))["head"]["vars"] == ["label"]


def test_command_refuses_with_exit_2(tmp_path: Path) -> None:
    query_file = tmp_path / "remote.rq"
    query_file.write_text("SELECT *\nFROM <http://example.org/x> { ?s ?p ?o }\n", encoding="utf-8")
    result = run("query", NOTES, "-f", query_file)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"conceptgraph: {query_file}:2:1: refused: FROM")
    bad = run("query", NOTES, "SELECT * WHERE { ?s ?p }")
    assert bad.returncode == 2
    assert "query:1:" in bad.stderr and "syntax error" in bad.stderr
    both = run("query", NOTES, "ASK {}", "-f", query_file)
    assert both.returncode == 2
    assert "not both" in both.stderr
    construct = run("query", NOTES, "CONSTRUCT WHERE { ?s cg:line ?o }", "--format", "json")
    assert construct.returncode == 2
    assert "print Turtle" in construct.stderr


# ------------------------------------------------------------------------- what the engine bears


def test_a_query_nested_past_the_limit_is_refused_with_exit_2(tmp_path: Path) -> None:
    # 50,000 nested groups killed the process with a segmentation fault (exit 139).
    query_file = tmp_path / "deep.rq"
    query_file.write_text("ASK\n" + "{" * 50_000 + "}" * 50_000, encoding="utf-8")
    result = run("query", NOTES, "-f", query_file)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"conceptgraph: {query_file}: refused: 100,004 characters")
    nested = "ASK\n" + "{" * 300 + "}" * 300
    with pytest.raises(QueryError, match=r"^query:2:257: refused: nested more than 256"):
        check_query(nested, GRAPHS)
    # Brackets in strings and IRIs are not nesting.
    check_query("ASK { ?s ?p '" + "{" * 300 + "' }", GRAPHS)


def test_a_long_expression_within_the_limits_runs_instead_of_crashing() -> None:
    # 20,000 chained additions overflow the main thread's stack inside the engine.
    total = "+".join(["1"] * 20_000)
    result = run("query", NOTES, f"ASK {{ FILTER(({total}) = 20000) }}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "true"
