"""Issue 23's adversarial shapes: the same answers as the algorithms they replace, in bounded work.

Each replaced algorithm is held to its old self (kept here as the reference) on small and
random inputs; each shape is linted at n and 4n with its work counted (calls or regex steps),
never timed. benchmarks/adversarial.py times the same shapes.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conceptgraph.api import lint_paths, open_vault, query_vault
from conceptgraph.export import export
from conceptgraph.export.nodelink import node_link_json, write_node_link_json
from conceptgraph.graph import build_graph
from conceptgraph.model import BlockId, Heading, Link, NoteRecord, Span
from conceptgraph.names import heading_key
from conceptgraph.note import negation as negation_module
from conceptgraph.note import wikilinks
from conceptgraph.note.markdown import plain
from conceptgraph.note.markdown.fast import spans_holding, table_header_lines
from conceptgraph.note.negation import _split_item
from conceptgraph.note.parse import parse_note
from conceptgraph.rdf import triples
from conceptgraph.vault import resolve
from conceptgraph.vault.load import Vault
from conceptgraph.vault.resolve import Resolution, SubpathIndex

# --------------------------------------------------------------- links into a note's headings


def _reference_find_subpath(note: NoteRecord, subpath: str) -> bool:
    """find_subpath before issue 23: a walk over every heading for every link."""
    parts = [part for part in subpath.split("#") if part]
    if not parts:
        return True
    if len(parts) == 1 and parts[0].startswith("^"):
        wanted = parts[0][1:].lower()
        if any(block.id.lower() == wanted for block in note.block_ids):
            return True
    keys = [heading_key(part) for part in parts]
    level = 0
    matched = 0
    for heading in note.headings:
        if heading.level > level and heading_key(heading.text) == keys[matched]:
            level = heading.level
            matched += 1
            if matched == len(keys):
                return True
    return False


_WORDS = st.sampled_from(["a", "B", "a b", "c", "^x", "x", "A:", ""])


@settings(max_examples=300, deadline=None)
@given(
    headings=st.lists(st.tuples(st.integers(1, 6), _WORDS), max_size=12),
    blocks=st.lists(st.sampled_from(["x", "X", "y"]), max_size=3),
    subpath=st.lists(_WORDS, min_size=0, max_size=4).map("#".join),
)
def test_subpath_index_answers_as_the_walk_did(
    headings: list[tuple[int, str]], blocks: list[str], subpath: str
) -> None:
    note = NoteRecord(
        path="n.md",
        text="",
        headings=tuple(Heading(level, text, Span.point(1)) for level, text in headings),
        block_ids=tuple(BlockId(block, Span.point(1)) for block in blocks),
    )
    assert SubpathIndex.of(note).finds(subpath) == _reference_find_subpath(note, subpath)


def _headings_note(n: int) -> str:
    parts = ["# Many\n\n"]
    for i in range(n):
        parts.append(
            f"{'#' * (2 + i % 3)} Part {i}\n\nSee [[#Part {i}]] and [[many#Part {n - i}]].\n\n"
        )
    return "".join(parts)


def _counting_heading_keys(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]

    def counted(text: str) -> str:
        calls[0] += 1
        return heading_key(text)

    monkeypatch.setattr(resolve, "heading_key", counted)
    return calls


@pytest.mark.parametrize("n", [100, 400])
def test_links_into_many_headings_read_each_heading_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int
) -> None:
    (tmp_path / "many.md").write_text(_headings_note(n), encoding="utf-8")
    calls = _counting_heading_keys(monkeypatch)
    result = lint_paths([tmp_path], jobs=1)
    broken = [f for f in result.findings if f.rule == "broken-heading"]
    # [[many#Part n]] is the one link to a heading that is not there.
    assert [f.line for f in broken] == [5]
    # Part 10 is one edit away, then the two-edit ones by name (Part 40 for n=400).
    assert broken[0].message.startswith(f"many.md has no heading 'Part {n}'; did you mean: ")
    # One key per heading for the index, one per link part: the walk took n per link.
    assert calls[0] <= 3 * n + 10


# ------------------------------------------------------------------ "What this is NOT" items

_OLD_ITEM = re.compile(
    r"""^\s*not\s+(?:(?:a|an|the)\s+)?      # "Not", perhaps an article
        (?P<name>.+?)\s*                     # the concept, as few words as will do
        (?:\((?P<why>.*)\)\s*\.?            # "(why)." ...
          |[.:;,—–-]\s+(?P<rest>.*)          # ... or ": why" ...
          |\.)?\s*$                          # ... or nothing but a full stop
    """,
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)

_ITEM_TEXT = st.lists(
    st.sampled_from(
        [
            "Not",
            "not",
            "NOT",
            " ",
            "  ",
            "\t",
            "a",
            "an",
            "the",
            "x",
            "rename",
            "(",
            ")",
            "(why)",
            ".",
            ":",
            ";",
            ",",
            "—",
            "–",
            "-",
            "\xa0",
            "[[x]]",
            "é",
        ]
    ),
    max_size=14,
).map(lambda words: "".join(words).strip())


@settings(max_examples=2000, deadline=None)
@given(text=_ITEM_TEXT)
def test_negation_item_splits_as_the_regex_did(text: str) -> None:
    old = _OLD_ITEM.match(text)
    expected = None if old is None else (old.group("name"), old.group("why"), old.group("rest"))
    got = _split_item(text)
    # The old name kept the spaces before the end it stopped at only to strip them after.
    if got is not None and expected is not None:
        assert (got[0].strip(), got[1], got[2]) == (expected[0].strip(), expected[1], expected[2])
    assert (got is None) == (expected is None)


@pytest.mark.parametrize(
    ("text", "name", "reason"),
    [
        ("Not a rename (why).", "rename", "why"),
        ("Not rollback: it restores.", "rollback", "it restores."),
        ("Not [[convergence]] (settles (slowly)).", "[[convergence]]", "settles (slowly)"),
        ("Not the undo.", "undo", None),
        ("Not an (early) exit", "(early) exit", None),
        ("Not a", "a", None),
    ],
)
def test_negation_items_read(text: str, name: str, reason: str | None) -> None:
    found = _split_item(text)
    assert found is not None
    assert (found[0].strip(), found[1] or found[2]) == (name, reason)


def _steps_of_split(text: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many candidate ends the item's reading looks at."""
    steps = [0]
    real = negation_module._ENDS

    class Counted:
        def finditer(self, string: str, pos: int) -> Iterator[re.Match[str]]:
            for match in real.finditer(string, pos):
                steps[0] += 1
                yield match

    monkeypatch.setattr(negation_module, "_ENDS", Counted())
    _split_item(text)
    return steps[0]


@pytest.mark.parametrize("n", [500, 2000])
def test_a_long_item_built_to_backtrack_is_read_in_linear_steps(
    n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "Not a rename " + "(why) x " * n + "y"
    assert _split_item(text) == ("rename " + "(why) x " * n + "y", None, None)
    assert _steps_of_split(text, monkeypatch) <= 2 * n + 2


# --------------------------------------------------------------------------------- tables

_OLD_TABLE_HEADER = re.compile(
    r"^(.*\|.*)\n {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$", re.MULTILINE
)

_TABLE_LINES = st.lists(
    st.sampled_from(
        [
            "a|b",
            "| a | b |",
            "|---|---|",
            "---",
            "--|--",
            " |:-:|",
            "    |--|",
            "   |-|",
            "\t|-",
            "|-|x",
            "| - | - ",
            "-|-  ",
            "x",
            "",
            " ",
            "|",
            ":--",
            "--:|",
            "\r",
            "|--\r",
            "é|ü",
        ]
    ),
    max_size=10,
).map("\n".join)


@settings(max_examples=2000, deadline=None)
@given(text=_TABLE_LINES)
def test_table_headers_are_the_lines_the_regex_found(text: str) -> None:
    expected = [text.count("\n", 0, m.start()) for m in _OLD_TABLE_HEADER.finditer(text)]
    assert table_header_lines(text) == expected


def test_a_long_table_row_built_to_backtrack_is_the_hostile_text_itself() -> None:
    # 50,000 cells: the old pattern backtracked over every "|" of the header for each character
    # after it (hours at this size); re counts no steps, so the size itself is the guard.
    n = 50_000
    header, delimiter = "| a " * n + "|", "|---" * n + "|x"
    text = f"{header}\n{delimiter}\n\n{header}\n{'|---' * n}|  \n"
    assert table_header_lines(text) == [3]


# ------------------------------------------------- code spans, spans holding links, link fixes


def _reference_masked(line: str) -> str:
    """plain._masked before issue 23: a search for each opener's closer, the line rebuilt."""
    runs = [(m.start(), m.end()) for m in re.finditer(r"`+", line)]
    masked, index = line, 0
    while index < len(runs):
        start, end = runs[index]
        closer = next(
            (k for k in range(index + 1, len(runs)) if runs[k][1] - runs[k][0] == end - start),
            None,
        )
        if closer is None:
            raise plain.Unsure("unclosed")
        stop = runs[closer][1]
        masked = masked[:start] + "\x00" * (stop - start) + masked[stop:]
        index = closer + 1
    return masked


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["`", "``", "```", "a", " ", "[[x]]", "b`c"]), max_size=16))
def test_code_spans_are_masked_as_the_search_did(pieces: list[str]) -> None:
    line = "".join(pieces)
    if line.lstrip(" ").startswith("```"):
        return  # a fence, refused before either looks at spans
    try:
        expected: str | None = _reference_masked(line)
    except plain.Unsure:
        expected = None
    try:
        got: str | None = plain._masked(line)
    except plain.Unsure:
        got = None
    assert got == (None if expected is None else expected.replace("\x00", plain._MASK))


@settings(max_examples=500, deadline=None)
@given(
    spans=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 12)), max_size=12),
    asked=st.tuples(st.integers(0, 50), st.integers(0, 6)),
)
def test_spans_holding_answers_as_the_scan_did(
    spans: list[tuple[int, int]], asked: tuple[int, int]
) -> None:
    ranges = [(start, start + length) for start, length in spans]
    first, last = asked[0], asked[0] + asked[1]
    expected = any(a <= first and last <= b for a, b in ranges)
    assert spans_holding(ranges)(first, last) == expected


@pytest.mark.parametrize("n", [50, 200])
def test_fixes_for_many_links_split_the_note_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int
) -> None:
    (tmp_path / "target.md").write_text("---\naliases: [other name]\n---\n# Target\n")
    body = "".join(f"See [[other name|t{i}]].\n" for i in range(n))
    (tmp_path / "many.md").write_text("# Many\n\n" + body)
    calls = [0]
    real = NoteRecord.lines

    def counted(note: NoteRecord) -> list[str]:
        calls[0] += 1
        return real(note)

    monkeypatch.setattr(NoteRecord, "lines", counted)
    result = lint_paths([tmp_path], jobs=1)
    fixed = [f for f in result.findings if f.rule == "link-by-alias" and f.fix is not None]
    assert len(fixed) == n
    assert calls[0] <= 10  # a few rules split each note; the fixes split it once, not n times


@pytest.mark.parametrize("n", [50, 200])
def test_a_long_negation_section_of_links_finds_each_items_link_once(n: int) -> None:
    # Each item's link is the first on its line: looked for through every link of the
    # section, item by item, 8,000 items took 2.3 s.
    from conceptgraph.model import Span
    from conceptgraph.note.negation import negations
    from conceptgraph.note.parse import parse_note

    reads = [0]

    class CountedSpan(Span):
        @property
        def line(self) -> int:  # type: ignore[override]
            reads[0] += 1
            return int(tuple.__getitem__(self, 0))

    items = "".join(f"- Not [[n{k}]] (why {k}).\n" for k in range(n))
    note = parse_note("x.md", f"# X\n\n## What this is NOT\n\n{items}".encode())
    links = [link._replace(span=CountedSpan(*link.span)) for link in note.links]
    note = dataclasses.replace(note, links=links)
    section = {i for i, s in enumerate(note.sections) if s.title == "What this is NOT"}
    found = negations(note, section)
    assert [item.name for item in found] == [f"n{k}" for k in range(n)]
    assert reads[0] <= 2 * n


# ------------------------------------------------------------- a note of millions of links


_LINK_LINE = "See " + ", ".join(f"[[migration|m{k}]]" for k in range(10)) + ".\n"


def _links_note(n: int) -> bytes:
    """benchmarks/adversarial.py's ``links`` shape: lines of ten links from line 8, ``n`` bytes."""
    head = "---\ntype: mechanism\n---\n# Links\n\n## Definition\n\n"
    return (head + _LINK_LINE * (n // len(_LINK_LINE))).encode()


@pytest.mark.parametrize("n", [100_000, 400_000])
def test_a_note_of_many_links_splits_each_distinct_link_once(
    n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = [0]
    real = wikilinks.split_linktext

    def counted(inner: str) -> tuple[str, str | None, str | None]:
        calls[0] += 1
        return real(inner)

    monkeypatch.setattr(wikilinks, "split_linktext", counted)
    wikilinks._read_link.cache_clear()
    note = parse_note("links.md", _links_note(n))
    assert len(note.links) == 10 * (n // len(_LINK_LINE))
    assert {(link.target, link.display) for link in note.links} == {
        ("migration", f"m{k}") for k in range(10)
    }
    # The fifth link of the third line of links, where a reader's editor puts it.
    fifth = note.links[24]
    assert fifth.span == Span(10, 77, 10, 93)
    assert fifth.raw == "[[migration|m4]]" == note.text.splitlines()[9][76:92]
    assert calls[0] == 10


@pytest.mark.parametrize("n", [200_000, 800_000])
def test_a_note_of_many_links_holds_a_few_hundred_bytes_a_link(n: int) -> None:
    # Each link's Link and Span, the text, its lines and the body: about 280 bytes a link.
    # Before issue 23's fix, four strings of its own a link and a copy of the list took 470.
    data = _links_note(n)
    tracemalloc.start()
    try:
        note = parse_note("links.md", data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 350 * len(note.links)


@pytest.mark.parametrize("n", [100_000, 400_000])
def test_the_graph_of_many_links_resolves_each_target_once_and_holds_one_dict_an_edge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int
) -> None:
    (tmp_path / "migration.md").write_text("# Migration\n", encoding="utf-8")
    (tmp_path / "links.md").write_bytes(_links_note(n))
    vault = open_vault(tmp_path)
    links = len(vault.notes["links.md"].links)
    calls = [0]
    real = Vault.resolve

    def counted(self: Vault, link: Link, source: str) -> Resolution:
        calls[0] += 1
        return real(self, link, source)

    monkeypatch.setattr(Vault, "resolve", counted)
    tracemalloc.start()
    try:
        graph = build_graph(vault)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert graph.number_of_edges() == links == 10 * (n // len(_LINK_LINE))
    assert calls[0] == 1  # the one target, once for the note
    # Each edge's dict and its key: about 250 bytes. Copied into networkx edge by edge (as
    # add_edges_from does), the graph was held twice while it was built: 440 bytes an edge.
    assert peak <= 330 * links


def test_links_to_one_note_with_display_texts_of_their_own_share_its_name() -> None:
    # benchmarks/adversarial.py's links shape: every link's display text differs, so each
    # link is read afresh, yet all name one note; its name is held once, not once a link.
    head = "---\ntype: mechanism\n---\n# Links\n\n## Definition\n\n"
    body = "".join(
        " ".join(f"[[migration|m{k * 10 + j}]]" for j in range(10)) + "\n" for k in range(20_000)
    )
    tracemalloc.start()
    try:
        note = parse_note("links.md", (head + body).encode())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(note.links) == 200_000
    assert len({id(link.target) for link in note.links}) == 1
    # About 435 bytes a link (Link, Span, display text, the link as written, the text); with a
    # copy of the target's name each, 490. (The cache of links read holds 16,384 at most.)
    assert peak <= 460 * len(note.links)


def test_the_links_of_a_line_are_those_the_reference_reads() -> None:
    line = "A [[a|b]] and ![[c#d|e]], [[f#^g]] `[[h]]` [[ k ]] [[l|m|n]]."
    text = f"# T\n\n{line}\n"
    lines = text.split("\n")
    fast = plain.parse_plain(text, lines, 1)  # the line scanner itself, which takes this line
    reference = parse_note("t.md", text.encode(), "markdown-it")
    assert tuple(fast.links) == reference.links
    written = ["[[a|b]]", "![[c#d|e]]", "[[f#^g]]", "[[ k ]]", "[[l|m|n]]"]
    assert [link.span.column for link in fast.links] == [line.index(w) + 1 for w in written]
    assert [link.raw for link in fast.links] == written


@pytest.mark.parametrize("line", ["a [b] [[c]]", "[[c]] d|e", "[[c]] ^x y", "[[]]", "[[ ]] x"])
def test_a_bracket_or_pipe_outside_a_link_leaves_the_line_to_the_other_engines(line: str) -> None:
    text = f"# T\n\n{line}\n"
    with pytest.raises(plain.Unsure):
        plain.parse_plain(text, text.split("\n"), 1)


_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
_ATTRS = st.dictionaries(st.sampled_from(["kind", "line", "name", "id", "é", "a\nb"]), _VALUES)


@settings(max_examples=300, deadline=None)
@given(
    nodes=st.lists(st.tuples(st.text(max_size=4), _ATTRS), max_size=5),
    edges=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), _ATTRS), max_size=8),
    name=_VALUES,
)
def test_node_link_json_is_what_json_dumps_wrote(
    nodes: list[tuple[str, dict[str, object]]],
    edges: list[tuple[int, int, dict[str, object]]],
    name: object,
) -> None:
    graph = nx.MultiDiGraph(name=name)
    graph.add_nodes_from(nodes)
    ids = [node for node, _ in nodes] or ["x"]
    for u, v, attrs in edges:
        graph.add_edge(ids[u % len(ids)], ids[v % len(ids)], **attrs)
    data = nx.node_link_data(graph, edges="links")
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True, allow_nan=False)
    assert node_link_json(graph) == (text + "\n").encode()


# Edges shaped as the graph makes them (kind, path, line, column), which node_link_json
# fills into a template, and near misses of that shape, which it must write the long way.
_EDGE_VALUES = st.integers() | st.booleans() | st.text(max_size=4) | st.none()
_TEXT, _NUMBER = st.text(max_size=4), st.integers(0, 10**12)
_EDGE_ATTRS = st.fixed_dictionaries(
    {
        "kind": _TEXT | _TEXT | _EDGE_VALUES,
        "path": _TEXT | _TEXT | _EDGE_VALUES,
        "line": _NUMBER | _NUMBER | _EDGE_VALUES,
        "column": _NUMBER | _NUMBER | _EDGE_VALUES,
    },
    optional={"reason": st.none() | _TEXT | _EDGE_VALUES},  # a negation's edge
)


@settings(max_examples=300, deadline=None)
@given(
    ids=st.lists(
        st.text(max_size=4) | st.text(max_size=4) | st.integers(),
        min_size=1,
        max_size=4,
        unique=True,
    ),
    edges=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), _EDGE_ATTRS), max_size=8),
)
@example(  # a negation's edge, with its reason and without one, as the graph makes them
    ids=["note:a.md", "concept:b"],
    edges=[
        (0, 1, {"kind": "negation", "path": "a.md", "line": 3, "column": 1, "reason": 'é "x"'}),
        (0, 1, {"kind": "negation", "path": "a.md", "line": 4, "column": 1, "reason": None}),
        (0, 0, {"kind": "link", "path": "a.md", "line": 5, "column": 9}),
    ],
)
def test_node_link_json_writes_graph_edges_as_json_dumps_does(
    ids: list[object], edges: list[tuple[int, int, dict[str, object]]]
) -> None:
    graph = nx.MultiDiGraph(name="vault")
    graph.add_nodes_from(ids)
    for u, v, attrs in edges:
        graph.add_edge(ids[u % len(ids)], ids[v % len(ids)], **attrs)
    data = nx.node_link_data(graph, edges="links")
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True, allow_nan=False)
    assert node_link_json(graph) == (text + "\n").encode()
    out = io.BytesIO()
    write_node_link_json(graph, out)
    assert out.getvalue() == node_link_json(graph)


def test_node_link_json_refuses_what_json_dumps_refused() -> None:
    graph = nx.MultiDiGraph()
    graph.add_edge("a", "b", weight=float("nan"))
    with pytest.raises(ValueError, match="JSON compliant"):
        node_link_json(graph)


def test_a_definition_longer_than_a_literal_holds_is_cut_and_said_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At the real bound (a million characters) the note of issue 23 was 30 MB of links: the
    # same code, a smaller bound.
    monkeypatch.setattr(triples, "LITERAL_MOST", 100)
    words = " ".join(f"w{i}" for i in range(100))  # 389 characters
    (tmp_path / "long.md").write_text(f"# Long\n\n## Definition\n\n{words}\n", encoding="utf-8")
    query = "SELECT ?d WHERE { ?s skos:definition ?d }"
    rows = list(query_vault(tmp_path, query, cache=False).result)
    assert [str(row["d"].value) for row in rows] == [f"{words[:100]} ... (289 more characters)"]
    data = export(open_vault(tmp_path), "ntriples")
    assert b' ... (289 more characters)" .' in data
