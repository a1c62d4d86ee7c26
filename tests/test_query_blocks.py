"""Query blocks: `conceptgraph render` fills a SPARQL query's results in as a Markdown table."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from conceptgraph.errors import ConceptgraphError
from conceptgraph.export.render import render_files
from tests.conftest import run_conceptgraph

FIXTURE = Path(__file__).parent / "data" / "diagram-vault"
CLOSE = "<!-- /conceptgraph -->"
LABELS = """<!-- conceptgraph:query vault=vault -->
```sparql
SELECT ?note ?label WHERE { ?note a cg:Note ; skos:prefLabel ?label }
```
<!-- /conceptgraph -->
"""


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the document and the vault are of one repository
    root = tmp_path / "vault"
    shutil.copytree(FIXTURE, root)
    (root / "conceptgraph.toml").write_text("", encoding="utf-8")
    return root


def cells(text: str) -> list[list[str]]:
    """The table of a Markdown text as a GFM renderer reads it: the text of every cell."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    rows: list[list[str]] = []
    in_row = False
    for token in tokens:
        if token.type in ("tr_open", "tr_close"):
            in_row = token.type == "tr_open"
            if in_row:
                rows.append([])
        elif token.type == "inline" and in_row:
            rows[-1].append(_plain(token))
    return rows


def _plain(inline: object) -> str:
    children = getattr(inline, "children", None) or []
    return "".join(
        child.content if child.type in ("text", "code_inline") else "" for child in children
    )


def write_later(path: Path, text: str) -> None:
    """Write a file with a timestamp past the racy window, as an edit a while ago would be."""
    path.write_text(text, encoding="utf-8")
    past = time.time() - 10
    os.utime(path, (past, past))


def test_block_gets_the_results_as_a_table_of_links(vault: Path) -> None:
    doc = vault.parent / "doc.md"
    doc.write_text(f"# Notes\n\n{LABELS}\nAfter.\n", encoding="utf-8")
    result = render_files([doc])
    assert [f.stale for f in result.files] == [(3,)]
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Notes\n\n" + LABELS.split(CLOSE)[0])  # the query stays as written
    assert text.endswith(f"{CLOSE}\n\nAfter.\n")
    rows = cells(text)
    assert rows[0] == ["note", "label"]
    # Each note is a [[link]] Obsidian resolves to it: its file name, or its path where two
    # notes share one (one/dup.md and two/dup.md).
    notes = sorted(vault.rglob("*.md"))
    stems = [p.stem for p in notes]
    expected = sorted(
        (
            f"[[{p.stem if stems.count(p.stem) == 1 else p.relative_to(vault).with_suffix('')}]]",
            next(
                line[2:] for line in p.read_text(encoding="utf-8").splitlines() if line[:2] == "# "
            ),
        )
        for p in notes
    )
    assert sorted((link, label) for link, label in rows[1:]) == expected
    assert "[[one/dup]]" in text
    assert "| [[alpha]] | Alpha |" in text


def test_block_is_kept_current_and_check_says_when_stale(vault: Path) -> None:
    doc = vault.parent / "doc.md"
    doc.write_text(LABELS, encoding="utf-8")
    stale = run_conceptgraph("render", "--check", str(doc))
    assert stale.returncode == 1
    assert "out of date (block at line 1)" in stale.stderr
    assert doc.read_text(encoding="utf-8") == LABELS  # --check writes nothing
    assert run_conceptgraph("render", str(doc)).returncode == 0
    once = doc.read_bytes()
    # Again, from the copy of the triples the first queries kept: the same table.
    for _ in range(3):
        current = run_conceptgraph("render", "--check", str(doc))
        assert (current.returncode, current.stderr) == (0, "")
    assert doc.read_bytes() == once
    gamma = vault / "gamma.md"
    write_later(gamma, gamma.read_text(encoding="utf-8").replace("# Gamma", "# Gamma ray"))
    assert run_conceptgraph("render", "--check", str(doc)).returncode == 1
    render_files([doc])
    assert "| [[gamma]] | Gamma ray |" in doc.read_text(encoding="utf-8")


HOSTILE = (
    "a | b",
    "[[delta]] and ![[sheet.csv]]",
    "<!-- /conceptgraph --> <b>bold</b> &amp;",
    "*star* _under_ `tick` ==high== %%hidden%% $x$ ~~gone~~ \\ back",
    "# not a heading ^block",
)


@pytest.mark.parametrize("label", HOSTILE)
def test_literals_are_escaped_for_tables(vault: Path, label: str) -> None:
    (vault / "odd.md").write_text(
        f"---\naliases:\n  - {json.dumps(label)}\n---\n\n# Odd\n", encoding="utf-8"
    )
    doc = vault.parent / "doc.md"
    doc.write_text(
        "<!-- conceptgraph:query vault=vault -->\n```sparql\n"
        "SELECT ?alias ?n WHERE { ?n skos:altLabel ?alias . FILTER(?n = vault:odd) }\n```\n"
        f"{CLOSE}\n\nAfter.\n",
        encoding="utf-8",
    )
    render_files([doc])
    text = doc.read_text(encoding="utf-8")
    # The cell shows the alias as it is, and nothing in it ends the table or the block.
    assert cells(text) == [["alias", "n"], [label, "[[odd]]"]]
    assert text.endswith(f"{CLOSE}\n\nAfter.\n")
    assert not render_files([doc], check=True).stale


def test_a_definition_over_lines_stays_in_its_cell(vault: Path) -> None:
    (vault / "long.md").write_text(
        "# Long\n\n## Definition\n\nFirst line.\n\nSecond | line.\n", encoding="utf-8"
    )
    doc = vault.parent / "doc.md"
    doc.write_text(
        "<!-- conceptgraph:query vault=vault -->\n```sparql\n"
        "SELECT ?d WHERE { vault:long skos:definition ?d }\n```\n"
        f"{CLOSE}\n",
        encoding="utf-8",
    )
    render_files([doc])
    text = doc.read_text(encoding="utf-8")
    assert "| First line.<br><br>Second \\| line. |" in text
    assert len(cells(text)) == 2


def test_other_iris_and_ask(vault: Path) -> None:
    doc = vault.parent / "doc.md"
    doc.write_text(
        "<!-- conceptgraph:query vault=vault -->\n```sparql\n"
        "SELECT ?type WHERE { vault:alpha a ?type } ORDER BY ?type\n```\n"
        f"{CLOSE}\n\n"
        "<!-- conceptgraph:query vault=vault -->\n```sparql\n"
        "ASK { vault:gamma cg:dependsOn ?anything }\n```\n"
        f"{CLOSE}\n",
        encoding="utf-8",
    )
    render_files([doc])
    rows = cells(doc.read_text(encoding="utf-8"))
    # The engine's order is kept (by IRI: http://...skos before https://...conceptgraph, the
    # reverse of the text's order), and IRIs of no file are prefixed names in code.
    assert rows[:3] == [["type"], ["skos:Concept"], ["cg:Note"]]
    assert rows[3:] == [["ASK"], ["false"]]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "SELECT * WHERE {\n  SERVICE <http://127.0.0.1:9/> { ?s ?p ?o }\n}",
            "doc.md:4: refused: SERVICE: conceptgraph query never reaches the network",
        ),
        ("SELECT * WHERE { ?s ?p ?o . LOAD <http://127.0.0.1:9/> }", "doc.md:3: refused: LOAD"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "doc.md:1: a query block shows SELECT or ASK"),
    ],
)
def test_bad_queries_say_where_and_change_nothing(vault: Path, query: str, message: str) -> None:
    doc = vault.parent / "doc.md"
    text = f"<!-- conceptgraph:query vault=vault -->\n```sparql\n{query}\n```\n{CLOSE}\n"
    doc.write_text(text, encoding="utf-8")
    with pytest.raises(ConceptgraphError) as caught:
        render_files([doc])
    assert str(caught.value).startswith(str(doc.parent) + os.sep)
    assert message in str(caught.value)
    assert doc.read_text(encoding="utf-8") == text
    done = run_conceptgraph("render", str(doc))
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_syntax_error_names_the_line_in_the_file(vault: Path) -> None:
    query = "SELECT * WHERE {\n\n  ?s ?p ?o . FILTER(?s = ) }\n"
    alone = vault.parent / "q.rq"
    alone.write_text(query, encoding="utf-8")
    said = run_conceptgraph("query", str(vault), "-f", str(alone)).stderr
    line = int(said.split(f"{alone}:")[1].split(":")[0])  # where `query` puts it
    doc = vault.parent / "doc.md"
    doc.write_text(
        f"# Doc\n\n<!-- conceptgraph:query vault=vault -->\n```sparql\n{query}```\n{CLOSE}\n"
    )
    with pytest.raises(ConceptgraphError) as caught:
        render_files([doc])
    # Four lines stand before the query in the document.
    assert str(caught.value).startswith(f"{doc}:{line + 4}: syntax error: ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"<!-- conceptgraph:query vault=vault -->\n\nno query\n{CLOSE}\n", "holds no ```sparql"),
        (
            f"<!-- conceptgraph:query focus=alpha -->\n```sparql\nASK {{}}\n```\n{CLOSE}\n",
            "unknown query option 'focus=alpha' (known: vault=)",
        ),
        ("<!-- conceptgraph:query vault=vault -->\n```sparql\nASK {}\n```\n", "has no closing"),
    ],
)
def test_bad_blocks_say_where(vault: Path, text: str, message: str) -> None:
    doc = vault.parent / "doc.md"
    doc.write_text(text, encoding="utf-8")
    with pytest.raises(ConceptgraphError) as caught:
        render_files([doc])
    assert str(caught.value).startswith(f"{doc}:1: ")
    assert message in str(caught.value)


def test_the_living_examples_are_current() -> None:
    repo = Path(__file__).parent.parent
    docs = [repo / "README.md", repo / "docs" / "rdf.md"]
    assert any("<!-- conceptgraph:query" in p.read_text(encoding="utf-8") for p in docs)
    result = run_conceptgraph("render", "--check", *map(str, docs), cwd=repo)
    assert result.returncode == 0, result.stderr
