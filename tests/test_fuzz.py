"""Property-based tests of the parser, the wikilink plugin and the rules: any input, no crash.

For any text and any bytes, ``parse_note`` returns (it never raises, it never hangs), and every
position it reports lies inside the file: a line within the line count, a column within that
line's length + 1. Links found in random Markdown without code, HTML or math agree exactly with
a plain regular-expression scanner. And the rules, run over notes made of such text, report
findings, never an internal error.

The default run is kept short (``max_examples`` below). A long run by hand:

    CONCEPTGRAPH_FUZZ_EXAMPLES=200000 python -m pytest tests/test_fuzz.py -q -p no:cacheprovider
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conceptgraph.config import Config
from conceptgraph.lint.engine import lint
from conceptgraph.model import LINE_BREAK, LinkKind, NoteRecord, ProblemKind, Span
from conceptgraph.note.markdown.reference import _markdown_it
from conceptgraph.note.parse import parse_note
from conceptgraph.note.wikilinks import split_linktext
from conceptgraph.vault.load import Vault

EXAMPLES = int(os.environ.get("CONCEPTGRAPH_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Pieces of Markdown that reach every path of the parser: blocks, links of every kind, tables,
# code, math, HTML, comments, directives, block ids, frontmatter fences and every line end.
_PIECES = [
    "[[",
    "]]",
    "![[",
    "[",
    "]",
    "(",
    ")",
    "](",
    "|",
    "\\|",
    "#",
    "#^",
    "^",
    " ^id",
    "\n",
    "\r\n",
    "\r",
    "\n\n",
    "  ",
    "    ",
    "\t",
    "- ",
    "* ",
    "1. ",
    "> ",
    "## ",
    "# ",
    "---",
    "\n---\n",
    "===",
    "| a | b |\n|---|---|\n",
    "`",
    "```",
    "~~~",
    "$",
    "$$",
    "<!--",
    "-->",
    "<!-- conceptgraph-disable broken-link -->",
    "<b>",
    "%%",
    "<http://x>",
    "[t](n.md)",
    "[t](<a b.md>)",
    "[r]: n.md\n",
    "![i](p.png)",
    "a",
    "note",
    "x y",
    "é",
    "日本",
    "🎉",
    "e\u0301",
    "\u202e",
    "\u00a0",
    "\u2028",
    "\x85",
    "\x0c",
    "\ufeff",
    ":",
    "aliases: [a",
    'k: "[[n]]"',
    "&a [*a]",
    "d: 2024-15-01",
    "t: 2024-01-01 25:61:00",
    "n: !!int x",
    "b: !!bool maybe",
    "<<: *a",
]

_inner = st.text(alphabet="ab é#^|\\.\n[]!()<> ", max_size=10)
# Whole constructs, which random pieces rarely assemble: links of every kind (over several lines
# too), table rows with escaped pipes, code spans, math, comments, nested blocks, frontmatter.
_constructs = st.one_of(
    st.builds(lambda e, t: ("!" if e else "") + f"[[{t}]]", st.booleans(), _inner),
    st.builds(lambda e, t, d: ("!" if e else "") + f"[{t}]({d})", st.booleans(), _inner, _inner),
    st.builds(lambda t, d: f"[{t}]: {d}\n", _inner, _inner),
    st.builds(lambda a, b: f"| {a} | {b} |\n|---|---|\n| {b} | {a} |\n", _inner, _inner),
    st.builds(lambda t: f"`{t}`", _inner),
    st.builds(lambda t: f"```\n{t}\n```\n", _inner),
    st.builds(lambda t: f"${t}$", _inner),
    st.builds(lambda t: f"<!--{t}-->", _inner),
    st.builds(lambda t: f"%%{t}%%", _inner),
    st.builds(lambda n, t: "> " * n + t, st.integers(0, 30), _inner),
    st.builds(
        lambda n, m, t: "\n".join("  " * i + m + t for i in range(n)),
        st.integers(0, 60),
        st.sampled_from(["- ", "* ", "1. ", "> "]),
        _inner,
    ),
    st.builds(
        lambda t: f"---\n{t}\n---\n",
        st.text(alphabet='ab: -[]"&*!{}<|>\n0123456789.', max_size=40),
    ),
)
markdown = st.lists(
    st.one_of(st.sampled_from(_PIECES), st.text(max_size=4), _constructs), max_size=40
).map("".join)
any_text = st.one_of(markdown, st.text(max_size=300))
any_bytes = st.one_of(
    st.binary(max_size=300),
    markdown.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.tuples(markdown, st.binary(max_size=8), markdown).map(
        lambda p: (
            p[0].encode("utf-8", "surrogatepass") + p[1] + p[2].encode("utf-8", "surrogatepass")
        )
    ),
)


def _lines_of(record: NoteRecord, data: bytes) -> list[str]:
    if record.decoded:
        return record.lines()
    # Not decoded: positions of the bytes problem count over the bytes read with replacement.
    return LINE_BREAK.split(data.decode("utf-8", "replace"))


def _inside(span: Span, lines: list[str], what: object) -> None:
    for line, column in ((span.line, span.column), (span.end_line, span.end_column)):
        assert 1 <= line <= len(lines), (what, span, len(lines))
        assert 1 <= column <= len(lines[line - 1]) + 1, (what, span, lines[line - 1])
    assert (span.line, span.column) <= (span.end_line, span.end_column), (what, span)


def _check_positions(data: bytes) -> NoteRecord:
    record = parse_note("fuzz.md", data)
    lines = _lines_of(record, data)
    for link in record.links:
        _inside(link.span, lines, link)
        if link.kind is not LinkKind.FRONTMATTER and link.span.line == link.span.end_line:
            written = lines[link.span.line - 1][link.span.column - 1 : link.span.end_column - 1]
            # Exact: the span holds the link as written (a table cell's "\|" counts as "|").
            assert written.replace("\\|", "|") == link.raw.replace("\\|", "|"), (link, written)
    for heading in record.headings:
        _inside(heading.span, lines, heading)
    for section in record.sections:
        _inside(section.span, lines, section)
        assert section.span.line <= section.end_line <= len(lines), section
    for item in record.list_items:
        _inside(item.span, lines, item)
    for block in record.block_ids:
        _inside(block.span, lines, block)
        assert lines[block.span.line - 1][block.span.column - 1 :].startswith("^" + block.id)
    for problem in record.problems:
        _inside(problem.span, lines, problem)
    for directive in record.directives:
        assert 1 <= directive.line <= len(lines), directive
    if record.frontmatter is not None:
        _inside(record.frontmatter.span, lines, record.frontmatter)
        for key, span in record.frontmatter.keys.items():
            _inside(span, lines, key)
    return record


@FUZZ
@given(any_text)
def test_any_text_parses_with_every_position_inside_the_file(text: str) -> None:
    _check_positions(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(any_bytes)
def test_any_bytes_parse_with_every_position_inside_the_file(data: bytes) -> None:
    record = _check_positions(data)
    kinds = {problem.kind for problem in record.problems}
    if not record.decoded:
        assert kinds & {ProblemKind.BINARY, ProblemKind.ENCODING}, record.problems


# ------------------------------------------------------------------- links against a reference

_REFERENCE = re.compile(r"!?\[\[([^\[\]\n]*)\]\]")
# Markdown where every [[...]] is a link: no code (backticks, fences, four-space indents), no HTML
# or autolinks (<), no math ($), no escapes (\), no tables or setext/frontmatter dashes (-), no
# Markdown links or reference definitions ( "(" and ":" ).
_PLAIN = [p for p in _PIECES if not re.search(r"[`~$<\\\-(:&\t\ufeff]|    ", p)]
_plain_inner = st.text(alphabet="ab é#^|. ", max_size=8)
plain_markdown = (
    st.lists(
        st.one_of(
            st.sampled_from(_PLAIN),
            st.text(alphabet="ab é[]!|#^*+>=%. \n\r12", max_size=6),
            st.builds(lambda e, t: ("!" if e else "") + f"[[{t}]]", st.booleans(), _plain_inner),
            st.builds(lambda n, t: "> " * n + t, st.integers(0, 3), _plain_inner),
        ),
        max_size=60,
    )
    .map("".join)
    .filter(lambda t: "    " not in t)
)


def _reference_links(text: str) -> set[tuple[int, int, str]]:
    found = set()
    for number, line in enumerate(LINE_BREAK.split(text), start=1):
        for match in _REFERENCE.finditer(line):
            if match.group(1).strip():
                found.add((number, match.start() + 1, match.group(0)))
    return found


@FUZZ
@given(plain_markdown)
def test_links_agree_with_a_reference_scanner(text: str) -> None:
    record = _check_positions(text.encode("utf-8"))
    got = {(link.span.line, link.span.column, link.raw) for link in record.links}
    assert got == _reference_links(text)
    for link in record.links:
        inner = link.raw.removeprefix("!")[2:-2]
        assert (link.target, link.subpath, link.display) == split_linktext(inner)
        assert link.embed == link.raw.startswith("!")


@FUZZ
@given(any_text)
def test_wikilink_tokens_point_at_what_they_hold(text: str) -> None:
    for token in _markdown_it().parse(text):
        if token.type != "inline":
            continue
        for child in token.children or ():
            if child.type != "wikilink":
                continue
            position = int(child.meta["pos"])
            assert token.content.startswith(child.markup, position)
            assert child.markup == ("!" if child.meta["embed"] else "") + f"[[{child.content}]]"
            assert not set(child.content) & set("[]\n") and child.content.strip()


# ----------------------------------------------------------------------- rules over any notes


@FUZZ
@given(st.lists(any_bytes, min_size=1, max_size=3), st.sampled_from(["a", "A", "é", "x#y"]))
def test_rules_report_any_notes_without_an_internal_error(contents: list[bytes], name: str) -> None:
    notes = {}
    for index, data in enumerate(contents):
        path = f"{name}.md" if index == 0 else f"sub/{name}{index}.md"
        notes[path] = parse_note(path, data)
    files = (*notes, "sub/p.png")
    vault = Vault(root=Path("/nonexistent"), config=Config(), notes=notes, files=files)
    for finding in lint(vault):
        assert "internal error" not in finding.message, finding
        record = notes.get(finding.path)
        assert record is not None, finding
        lines = _lines_of(record, contents[list(notes).index(finding.path)])
        span = Span(finding.line, finding.column, finding.end_line, finding.end_column)
        _inside(span, lines, finding)
        if finding.fix is None or finding.rule not in _LINK_FIXES:
            continue
        # A link rule's fix rewrites exactly one link as written, and nothing around it.
        spans = {link.span: link.raw for link in record.links}
        for edit in finding.fix.edits:
            assert edit.span in spans, (finding, edit)
            _inside(edit.span, lines, edit)


_LINK_FIXES = {"ambiguous-link", "link-by-alias", "link-to-non-canonical"}


@FUZZ
@given(any_bytes)
def test_any_record_comes_back_from_a_worker_equal(data: bytes) -> None:
    # What a parsing worker sends: NoteRecord.packed(), unpacked here.
    record = parse_note("note.md", data)
    assert NoteRecord.unpacked(record.packed()) == record
