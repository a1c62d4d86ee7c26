"""Differential tests: the fast engine (pulldown-cmark) gives what the reference gives.

markdown-it-py with our wikilink plugin is the reference (``--parser markdown-it``). The fast
engine either returns exactly the reference's links, embeds, headings, sections, list items,
block ids, directives and positions, or says ``Unsure`` and the note goes to the reference.
Checked on every fixture note, the concept vault, the hostile vault, a generated vault (where
the fast engine must take every note, or the speed-up would be a claim), random Markdown, and
each corner where the engines were found to differ.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conceptgraph.api import lint_paths
from conceptgraph.model import LINE_BREAK
from conceptgraph.note.markdown import fast as pulldown
from conceptgraph.note.markdown.engine import PARSERS, parser_in_use, use_parser
from conceptgraph.note.markdown.parts import MarkdownParts
from conceptgraph.note.parse import parse_note
from tests import differential
from tests.differential import (
    concept_texts,
    fixture_texts,
    hostile_texts,
    notes_under,
    users_texts,
)
from tests.test_fuzz import FUZZ, markdown

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from generate_vault import generate_vault  # noqa: E402


def both(text: str) -> tuple[MarkdownParts | None, MarkdownParts]:
    """The fast engine's parts (None when it is unsure) and the reference's, for a whole note."""
    return differential.both(text, pulldown.parse_markdown_fast, pulldown.Unsure)


def assert_same(text: str) -> bool:
    """Whether the fast engine took the note; fails when it took it and differs."""
    return differential.assert_same(text, pulldown.parse_markdown_fast, pulldown.Unsure)


def test_every_fixture_and_concept_note() -> None:
    taken = [assert_same(text) for text in fixture_texts()]
    assert len(taken) > 200
    # Not a vacuous pass: the fast engine takes nearly every note, and all of notes/.
    assert sum(taken) >= 0.95 * len(taken)
    assert all(assert_same(text) for text in concept_texts() + users_texts())


def test_a_generated_vault_is_taken_whole_by_the_fast_engine(tmp_path: Path) -> None:
    generate_vault(tmp_path / "v", notes=300, seed=3)
    paths = notes_under(tmp_path / "v")
    assert len(paths) == 300
    assert all(assert_same(p.read_text(encoding="utf-8")) for p in paths)


def test_the_hostile_vault(tmp_path: Path) -> None:
    for text in hostile_texts(tmp_path / "vault"):
        assert_same(text)


extra = st.sampled_from(
    [
        "- a\n",
        "  - b\n",
        "\t- c\n",
        "    - d\n",
        "1. x\n",
        "1) y\n",
        "> - q\n",
        "| x | [[y\\|z]] |\n",
        "|---|\n",
        "---\n",
        "a | b\n",
        ":-:|",
        "# H #\n",
        "## H ^id\n",
        "###### h\n",
        "[t](a.md)",
        "[t [[w]]](b.md)",
        "![i](c.png)",
        "<http://x/[[y]]>",
        "\\[[e]]",
        "[[a\\]]",
        "**b [[c]]**",
        "*e*",
        "_f_",
        "&amp;",
        "&#91;[x]]",
        "<div>\n",
        "</div>\n",
        "para ^b1\n",
        "[[a#b|c]]",
        "![[d.png]]",
        "- [[a]]\n  para\n",
    ]
)
notes = st.one_of(markdown, st.lists(st.one_of(markdown, extra), max_size=30).map("".join))


@FUZZ
@given(notes)
def test_random_markdown(text: str) -> None:
    assert_same("\n".join(LINE_BREAK.split(text.replace("\x00", ""))))


# Corners where the two engines were found to part ways, each handed to the reference. What
# Obsidian does is noted; conceptgraph follows markdown-it-py, the reference, in each.
CORNERS = {
    # markdown-it-py reads a table (header "<!--|-->", delimiter "---"); pulldown-cmark an HTML
    # comment. Obsidian shows the comment: neither engine finds a link in the last line then.
    "table-or-html": "<!--\\|-->\n---\n[](|)\n",
    # A ">" indented four columns is indented code to CommonMark (and pulldown-cmark); markdown-it
    # -py continues the quote and finds an empty list item.
    "indented-quote": "> \n  > \n    > - \n",
    # An escaped bracket: markdown-it-py's wikilink rule never sees "[[" here.
    "escaped-bracket": "\\[[e]]\n",
    # Math: $...$ hides links in Obsidian and in the reference's dollarmath plugin.
    "math": "$[[m]]$ and [[n]]\n",
    "setext-heading": "Title [[a]]\n===\n",
    "reference-definition": "[r]: x.md\n- \n",
    "heading-as-list-item": "- # Heading [[a]]\n",
    "no-break-space": "-\u00a0item [[a]]\n",
    # markdown-it-py takes a destination broken over two lines by a backslash; CommonMark (and
    # pulldown-cmark, and Obsidian) does not.
    "destination-over-two-lines": "[](\\\n<)\n",
    "escape-in-destination": "[](\\ )\n",
    # Found by benchmarks/fuzz_parsers.py (issue 29), each shrunk to its few bytes:
    # a reference definition as a list item's first block ("1. [r]: x");
    "reference-definition-in-item": "1. [r]:n\no\n",
    # "<!--x--->" is a comment to CommonMark 0.31 (pulldown-cmark), not to 0.30 (markdown-it);
    "comment-of-commonmark-0.31": "a<!--[[f]]--->\n",
    # "- |-" is a delimiter row to pulldown-cmark, a list item to markdown-it;
    "delimiter-row-or-list-item": "a||\n- |-\n",
    # a line indented four columns under a quote: lazy continuation, or code;
    "indented-under-a-quote": ">>2\n    - [[i]]\n",
    # a tab under an indented list item, or under an empty one;
    "tab-under-an-indented-item": "  2. ]\n\t<!--[[0]]\n",
    "tab-under-an-empty-item": "1.\n\t<!--\n",
    "indented-under-an-indented-item": "  2. ]\n    <!--conceptgraph-disable -->\n",
    "indented-under-an-item-of-html": "- <!--\n\tn\n",
    # a line indented four columns anywhere below a quote, lazily continued;
    "indented-below-a-quote": ">>]\n4\n    - [[n]]\n",
    "tab-after-nested-quote-marks": ">>> \t[[d]]\n",
    # and a line indented four columns after a table: a row to pulldown-cmark, code to the other.
    "indented-after-a-table": "a||\n-|-\n    [[n]]\n",
}


@pytest.mark.parametrize("text", CORNERS.values(), ids=CORNERS.keys())
def test_corners_go_to_the_reference(text: str) -> None:
    fast, reference = both(text)
    assert fast is None
    record = parse_note("n.md", text.encode("utf-8"), "pyromark")
    assert record.links == tuple(reference.links)
    assert record.list_items == tuple(reference.list_items)
    assert record == parse_note("n.md", text.encode("utf-8"), "markdown-it")


@pytest.mark.parametrize("parser", ["pyromark", "markdown-it"])
def test_an_id_on_the_line_under_a_paragraph_ends_it(parser: str) -> None:
    # Obsidian reads "text\n^id" as the paragraph's id, as it reads "text ^id" (found where the
    # engines parted ways: the reference looked for the id only after a space).
    record = parse_note("n.md", b"Some text\n^the-id\n", parser)
    assert [(b.id, b.span.line, b.span.column) for b in record.block_ids] == [("the-id", 2, 1)]


def test_table_escaped_pipe_is_read_as_the_reference_reads_it() -> None:
    text = "| a | b |\n|---|---|\n| [[e\\|x]] | y |\n"
    fast, reference = both(text)
    assert fast is not None and fast.links == reference.links
    (link,) = fast.links
    assert (link.target, link.display, link.raw) == ("e", "x", "[[e|x]]")
    assert (link.span.column, link.span.end_column) == (3, 11)


def _fixture_vaults() -> list[Path]:
    return sorted(p for p in (REPO / "tests" / "fixtures").glob("*/*") if p.is_dir())


def test_same_findings_with_either_parser() -> None:
    before = parser_in_use()
    try:
        for vault in [REPO / "notes", *_fixture_vaults()]:
            found = {}
            for name in PARSERS:
                use_parser(name)
                found[name] = lint_paths([vault], jobs=1).findings
            assert found["pyromark"] == found["markdown-it"], vault
            assert [f.message for f in found["pyromark"]] == [
                f.message for f in found["markdown-it"]
            ]
    finally:
        use_parser(before)


def test_cli_parser_option(tmp_path: Path) -> None:
    generate_vault(tmp_path / "v", notes=450, seed=1)  # past the size that starts workers
    outputs = []
    for args in (["--parser", "markdown-it"], ["--parser", "pyromark"], []):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "conceptgraph",
                "lint",
                str(tmp_path / "v"),
                "-f",
                "json",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode in (0, 1), result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    bad = subprocess.run(
        [sys.executable, "-m", "conceptgraph", "lint", "notes", "--parser", "commonmark"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert bad.returncode == 2 and "commonmark" in bad.stderr
