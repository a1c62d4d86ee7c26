"""Differential tests: the fast engine (pulldown-cmark) gives what the reference gives.

markdown-it-py with our wikilink plugin is the reference (``--parser markdown-it``). The fast
engine either returns exactly the reference's links, embeds, headings, sections, list items,
block ids, directives and positions, or says ``Unsure`` and the note goes to the reference.
Checked on every fixture note, the concept vault, the hostile vault, a generated vault (where
the fast engine must take every note, or the speed-up would be a claim), random Markdown, and
each corner where the engines were found to differ.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conceptgraph import frontmatter, pulldown
from conceptgraph.api import lint_paths
from conceptgraph.model import LINE_BREAK
from conceptgraph.parse import parse_markdown, parse_note
from conceptgraph.parsers import PARSERS, parser_in_use, use_parser
from tests import hostile
from tests.test_fuzz import FUZZ, markdown

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from generate_vault import generate_vault  # noqa: E402


def both(text: str) -> tuple[pulldown.MarkdownParts | None, pulldown.MarkdownParts]:
    """The fast engine's parts (None when it is unsure) and the reference's, for a whole note."""
    lines = LINE_BREAK.split(text)
    parts = frontmatter.split(lines)
    reference = parse_markdown(parts.body, lines, parts.body_line)
    try:
        fast = pulldown.parse_markdown_fast(parts.body, lines, parts.body_line)
    except pulldown.Unsure:
        return None, reference
    return fast, reference


def assert_same(text: str) -> bool:
    """Whether the fast engine took the note; fails when it took it and differs."""
    fast, reference = both(text)
    if fast is None:
        return False
    for part in ("links", "headings", "sections", "list_items", "block_ids", "directives"):
        assert getattr(fast, part) == getattr(reference, part), (part, text)
    assert fast.problems == reference.problems
    return True


def notes_under(*roots: Path) -> list[Path]:
    found = []
    for root in roots:
        for folder, _, names in os.walk(root):
            found += [Path(folder) / n for n in sorted(names) if n.endswith(".md")]
    return [p for p in found if p.is_file() and not p.is_symlink()]


def readable(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\x00" in data:
        return None
    return data.decode("utf-8", "replace").removeprefix("\ufeff")


def test_every_fixture_and_concept_note() -> None:
    paths = notes_under(REPO / "tests" / "fixtures", REPO / "tests" / "data", REPO / "notes")
    taken = [assert_same(text) for p in paths if (text := readable(p)) is not None]
    assert len(taken) > 200
    # Not a vacuous pass: the fast engine takes nearly every note, and all of notes/.
    assert sum(taken) >= 0.95 * len(taken)
    assert all(assert_same(p.read_text(encoding="utf-8")) for p in notes_under(REPO / "notes"))


def test_the_users_note_with_its_damage() -> None:
    sample = REPO.parent / "shared" / "vault-sample" / "migration.md"
    damaged = REPO / "tests" / "fixtures" / "text" / "mojibake"
    for path in [sample, *damaged.rglob("migration.md")]:
        if path.exists():
            assert assert_same(path.read_bytes().decode("utf-8"))


def test_a_generated_vault_is_taken_whole_by_the_fast_engine(tmp_path: Path) -> None:
    generate_vault(tmp_path / "v", notes=300, seed=3)
    paths = notes_under(tmp_path / "v")
    assert len(paths) == 300
    assert all(assert_same(p.read_text(encoding="utf-8")) for p in paths)


def test_the_hostile_vault(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    hostile.build(root)
    hostile.remove_tree(root / "deep")
    for path in notes_under(root):
        try:
            text = readable(path)
        except OSError:
            continue
        if text is not None:
            assert_same("\n".join(LINE_BREAK.split(text)))
    hostile.remove_tree(root)


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
}


@pytest.mark.parametrize("text", CORNERS.values(), ids=CORNERS.keys())
def test_corners_go_to_the_reference(text: str) -> None:
    fast, reference = both(text)
    assert fast is None
    record = parse_note("n.md", text.encode("utf-8"), "pyromark")
    assert record.links == tuple(reference.links)
    assert record.list_items == tuple(reference.list_items)
    assert record == parse_note("n.md", text.encode("utf-8"), "markdown-it")


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
