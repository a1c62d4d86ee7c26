"""parse_note on inline text: positions, links and their parts, sections, list items, block ids.

Positions are 1-based lines and columns over the whole file, frontmatter included; columns count
code points. A span ends after its last character (end exclusive).
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conceptgraph.model import Link, LinkKind, NoteRecord, Span, split_lines
from conceptgraph.note.parse import parse_note


def parse(text: str | bytes) -> NoteRecord:
    return parse_note("note.md", text.encode() if isinstance(text, str) else text)


def only_link(text: str) -> Link:
    links = parse(text).links
    assert len(links) == 1, links
    return links[0]


def spans(text: str) -> list[tuple[int, int]]:
    return [(link.span.line, link.span.column) for link in parse(text).links]


def targets(text: str) -> list[str]:
    return [link.target for link in parse(text).links]


# ---------------------------------------------------------------------------------- positions


def test_body_line_counts_the_frontmatter() -> None:
    link = only_link("---\na: 1\nb: 2\nc: 3\n---\n[[x]] here\n")
    assert link.span == Span(6, 1, 6, 6)


def test_frontmatter_with_list_values_shifts_lines() -> None:
    text = "---\naliases:\n  - one\n  - two\ntype: t\n---\n# T\n\nSee [[x]].\n"
    record = parse(text)
    assert record.title is not None and record.title.span.line == 7
    assert record.links[0].span == Span(9, 5, 9, 10)


def test_link_in_a_list_item() -> None:
    assert only_link("intro\n\n- item [[a]]\n").span == Span(3, 8, 3, 13)


def test_link_in_a_nested_list() -> None:
    text = "- top\n  - nested [[b]]\n    1. deeper [[c]]\n"
    assert spans(text) == [(2, 12), (3, 15)]


def test_link_in_a_blockquote() -> None:
    assert spans("> quote [[a]]\n> > nested [[b]]\n") == [(1, 9), (2, 12)]


def test_link_in_a_list_item_continuation_line() -> None:
    assert spans("- first line\n  second [[a]]\n") == [(2, 10)]


def test_link_in_a_heading() -> None:
    record = parse("# Title\n\n## See [[target]] ##\n")
    (link,) = record.links
    assert (link.target, link.span) == ("target", Span(3, 8, 3, 18))
    assert link.section == 1
    assert record.sections[1].title == "See [[target]]"


def test_two_links_on_one_line() -> None:
    assert spans("[[a]] and [[b]]\n") == [(1, 1), (1, 11)]


def test_the_same_link_twice_on_one_line() -> None:
    assert spans("[[a]] and [[a]]\n") == [(1, 1), (1, 11)]


def test_columns_count_code_points_after_multibyte_characters() -> None:
    # "日本語 " is 4 code points (10 bytes); "🎉" is one code point (two UTF-16 units).
    assert spans("日本語 [[a]] 🎉 [[b]]\n") == [(1, 5), (1, 13)]
    assert spans("café [[a]]\n") == [(1, 6)]


def test_table_cell_with_escaped_pipe() -> None:
    text = "| link | note |\n| --- | --- |\n| [[target\\|shown]] | x |\n"
    link = only_link(text)
    assert (link.target, link.display, link.subpath) == ("target", "shown", None)
    # The span covers the link as written, backslash included: "[[target\|shown]]".
    assert link.span == Span(3, 3, 3, 20)


def test_table_cell_with_subpath_and_escaped_pipe() -> None:
    link = only_link("| a |\n| - |\n| x [[n#Head\\|text]] |\n")
    assert (link.target, link.subpath, link.display) == ("n", "Head", "text")
    assert (link.span.line, link.span.column) == (3, 5)


def test_same_link_in_two_table_cells_of_one_row() -> None:
    text = "| a | b |\n| --- | --- |\n| [[x]] | [[x]] |\n"
    assert spans(text) == [(3, 3), (3, 11)]


def test_embed_span_starts_at_the_bang() -> None:
    link = only_link("see ![[pic.png]]\n")
    assert link.embed and link.target == "pic.png"
    assert link.span == Span(1, 5, 1, 17)
    assert link.raw == "![[pic.png]]"


def test_crlf_and_cr_give_the_same_positions_as_lf() -> None:
    text = (
        '---\naliases: [a]\nrel: "[[x]]"\n---\n# T\n\n## S\n\n- item [[a]] ^i1\n'
        "  - sub [[b|c]]\n\n> q [[d]]\n\n| h |\n| - |\n| [[e\\|f]] |\n\npara ^p1\n"
    )

    def shape(record: NoteRecord) -> tuple[object, ...]:
        assert record.frontmatter is not None
        return (
            dict(record.frontmatter.keys),
            [(link.target, link.span) for link in record.links],
            record.headings,
            record.sections,
            record.list_items,
            record.block_ids,
            record.problems,
        )

    lf = shape(parse(text))
    assert shape(parse(text.replace("\n", "\r\n"))) == lf
    assert shape(parse(text.replace("\n", "\r"))) == lf


def test_utf8_bom_is_not_part_of_the_text() -> None:
    record = parse(b"\xef\xbb\xbf---\ntype: t\n---\n# T [[a]]\n")
    assert record.problems == ()
    assert record.frontmatter is not None and record.frontmatter.data == {"type": "t"}
    assert record.links[0].span == Span(4, 5, 4, 10)


# ------------------------------------------------------------------------------- link parts


@pytest.mark.parametrize(
    ("written", "target", "subpath", "display"),
    [
        ("[[a]]", "a", None, None),
        ("[[a|c]]", "a", None, "c"),
        ("[[a#b|c]]", "a", "b", "c"),
        ("[[a#b#c]]", "a", "b#c", None),
        ("[[a#^id]]", "a", "^id", None),
        ("[[a|b#c]]", "a", None, "b#c"),
        ("[[#Heading]]", "", "Heading", None),
        ("[[#^id|x]]", "", "^id", "x"),
        ("[[folder/name]]", "folder/name", None, None),
        ("[[a.md]]", "a.md", None, None),
        ("[[doc.pdf#page=3]]", "doc.pdf", "page=3", None),
        ("[[img.png|300]]", "img.png", None, "300"),
        ("[[a|b|c]]", "a", None, "b|c"),
    ],
)
def test_link_parts(written: str, target: str, subpath: str | None, display: str | None) -> None:
    link = only_link(f"x {written} y\n")
    assert (link.target, link.subpath, link.display) == (target, subpath, display)
    assert link.kind is LinkKind.WIKI
    assert link.raw == written


def test_heading_and_block_properties() -> None:
    heading = only_link("[[a#b#c]]\n")
    assert (heading.heading, heading.block) == ("b#c", None)
    block = only_link("[[a#^id]]\n")
    assert (block.heading, block.block) == (None, "id")


def test_target_and_display_are_trimmed() -> None:
    # Obsidian's parseAliasLink trims both sides of the first "|".
    link = only_link("[[ a | b ]]\n")
    assert (link.target, link.display) == ("a", "b")


def test_empty_wikilink_is_not_a_link() -> None:
    assert parse("[[]] and [[ ]]\n").links == ()


def test_leading_pipe_is_not_an_alias() -> None:
    # Obsidian splits at the first "|" only when it is not the first character: [[|x]] names
    # a note "|x" (which cannot exist), it is not a link to this note shown as "x".
    link = only_link("[[|x]]\n")
    assert (link.target, link.display) == ("|x", None)


def test_embeds_of_notes_headings_and_blocks() -> None:
    links = parse("![[note]] ![[note#Part]] ![[note#^b1]] ![[a.png|200]]\n").links
    assert all(link.embed for link in links)
    assert [(link.target, link.subpath) for link in links] == [
        ("note", None),
        ("note", "Part"),
        ("note", "^b1"),
        ("a.png", None),
    ]


# ------------------------------------------------------------------- what is not a link


@pytest.mark.parametrize(
    "text",
    [
        "`[[a]]`\n",
        "``x [[a]] y``\n",
        "```\n[[a]]\n```\n",
        "~~~md\n[[a]]\n~~~\n",
        "para\n\n    [[a]]\n",
        "<!-- [[a]] -->\n",
        "text <!-- [[a]] --> text\n",
        "<!--\n[[a]]\n-->\n",
        "$[[a]]$\n",
        "$x + [[a]]$ text\n",
        "$$\n[[a]]\n$$\n",
        "\\[[a]]\n",
        "[[a\nb]]\n",
    ],
)
def test_not_a_link(text: str) -> None:
    assert parse(text).links == ()


def test_link_beside_code_is_still_a_link() -> None:
    assert targets("`code` [[a]] `[[b]]` $m$ [[c]]\n") == ["a", "c"]


def test_obsidian_comment_links_are_links() -> None:
    assert targets("%%[[a]]%%\n") == ["a"]


def test_unclosed_frontmatter_is_body_text() -> None:
    record = parse("---\naliases: [a]\n# Title\n[[x]]\n")
    assert record.frontmatter is None
    assert only_link("---\naliases: [a]\n# Title\n[[x]]\n").span.line == 4
    assert record.title is not None and record.title.span.line == 3


# ----------------------------------------------------------------------------- markdown links


def test_markdown_links_are_decoded() -> None:
    record = parse("[t](a%20b.md) [u](<c d.md>) [v](n.md#Some%20Head)\n")
    assert [(link.target, link.subpath, link.kind) for link in record.links] == [
        ("a b.md", None, LinkKind.MARKDOWN),
        ("c d.md", None, LinkKind.MARKDOWN),
        ("n.md", "Some Head", LinkKind.MARKDOWN),
    ]
    assert [link.span.column for link in record.links] == [1, 15, 29]
    assert record.links[0].span == Span(1, 1, 1, 14)


def test_markdown_image_is_an_embed() -> None:
    link = only_link("see ![alt](pic%201.png)\n")
    assert (link.target, link.embed, link.kind) == ("pic 1.png", True, LinkKind.MARKDOWN)
    assert link.span.column == 5


@pytest.mark.parametrize(
    "text",
    [
        "[e](https://example.com/x.md)\n",
        "<https://example.com/x.md>\n",
        "[m](mailto:someone@example.com)\n",
        "[o](obsidian://open?vault=v&file=x)\n",
        "[f](file:///tmp/x.md)\n",
        "https://example.com/bare.md\n",
    ],
)
def test_external_urls_are_skipped(text: str) -> None:
    assert parse(text).links == ()


# ---------------------------------------------------------------------------------- sections


def test_sections_titles_levels_parents_and_ends() -> None:
    text = "# A\n\n## B\n\ntext\n\n### C\n\n## D\n\n# E\nlast"
    record = parse(text)
    assert [(s.title, s.level, s.parent, s.span.line, s.end_line) for s in record.sections] == [
        ("A", 1, None, 1, 10),
        ("B", 2, 0, 3, 8),
        ("C", 3, 1, 7, 8),
        ("D", 2, 0, 9, 10),
        ("E", 1, None, 11, 12),
    ]


def test_last_section_runs_to_the_last_line() -> None:
    record = parse("# A\n\ntext\n")
    assert record.sections[0].end_line == len(record.lines())


def test_section_parent_skips_levels() -> None:
    record = parse("# A\n\n### C\n\n## B\n")
    assert [(s.title, s.parent) for s in record.sections] == [("A", None), ("C", 0), ("B", 0)]


def test_links_know_their_section() -> None:
    record = parse("[[top]]\n\n# A\n\n[[in-a]]\n\n## B\n\n- [[in-b]]\n")
    assert [(link.target, link.section) for link in record.links] == [
        ("top", None),
        ("in-a", 0),
        ("in-b", 1),
    ]


def test_headings_in_quotes_and_lists_are_not_headings() -> None:
    record = parse("> # Quoted\n\n- # Listed\n\n> [!note]\n> ## In a callout\n\n# Real\n")
    assert [h.text for h in record.headings] == ["Real"]
    assert [s.title for s in record.sections] == ["Real"]


def test_setext_headings_are_headings() -> None:
    record = parse("Title\n=====\n\nSub\n---\n")
    assert [(h.level, h.text, h.span.line) for h in record.headings] == [
        (1, "Title", 1),
        (2, "Sub", 4),
    ]


def test_heading_in_a_code_block_is_not_a_heading() -> None:
    assert parse("```\n# not a heading\n```\n").headings == ()


def test_title_is_the_first_level_one_heading() -> None:
    record = parse("## Intro\n\n# Real title\n\n# Second\n")
    assert record.title is not None and record.title.text == "Real title"


# -------------------------------------------------------------------------------- list items


def test_list_items_text_section_and_depth() -> None:
    text = "# T\n\n- one [[a]]\n-\n- three\n  - sub\n    - subsub\n\n## S\n\n1. first\n2. second\n"
    record = parse(text)
    assert [(i.text, i.section, i.depth, i.span.line) for i in record.list_items] == [
        ("one [[a]]", 0, 1, 3),
        ("", 0, 1, 4),
        ("three", 0, 1, 5),
        ("sub", 0, 2, 6),
        ("subsub", 0, 3, 7),
        ("first", 1, 1, 11),
        ("second", 1, 1, 12),
    ]
    assert record.list_items[0].span.column == 3


def test_list_item_text_is_its_first_line() -> None:
    record = parse("- Not a rename (why)\n  more words\n")
    assert [i.text for i in record.list_items] == ["Not a rename (why)"]


def test_list_item_in_a_blockquote() -> None:
    record = parse("> - quoted item\n")
    assert [(i.text, i.depth, i.span.column) for i in record.list_items] == [("quoted item", 1, 5)]


# --------------------------------------------------------------------------------- block ids


def test_block_ids() -> None:
    text = (
        "A paragraph ^para-1\n"  # 1
        "\n"
        "line one\n"
        "line two ^two\n"  # 4
        "\n"
        "- item ^item-id\n"  # 6
        "- other\n"
        "\n"
        "| a | b |\n"
        "| --- | --- |\n"
        "| 1 | 2 |\n"
        "\n"
        "^table-id\n"  # 13
        "\n"
        "> quoted ^Quote1\n"  # 15
    )
    record = parse(text)
    assert [(b.id, b.span) for b in record.block_ids] == [
        ("para-1", Span(1, 13, 1, 20)),
        ("two", Span(4, 10, 4, 14)),
        ("item-id", Span(6, 8, 6, 16)),
        ("table-id", Span(13, 1, 13, 10)),
        ("Quote1", Span(15, 10, 15, 17)),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "no^space\n",
        "bad ^under_score\n",
        "mid ^id text\n",
        "```\ncode ^cid\n```\n",
        "`code ^cid`\n",
        "    indented ^cid\n",
        "<!-- ^cid -->\n",
    ],
)
def test_not_block_ids(text: str) -> None:
    assert parse(text).block_ids == ()


def test_block_id_after_frontmatter() -> None:
    record = parse("---\na: 1\n---\ntext ^b\n")
    assert [(b.id, b.span.line, b.span.column) for b in record.block_ids] == [("b", 4, 6)]


# ------------------------------------------------------------------------------- frontmatter


def test_frontmatter_key_spans() -> None:
    record = parse('---\naliases:\n  - a\ncanonical: true\n"type": x\n---\n# T\n')
    assert record.frontmatter is not None
    assert record.frontmatter.keys == {
        "aliases": Span(2, 1, 2, 8),
        "canonical": Span(4, 1, 4, 10),
        "type": Span(5, 1, 5, 7),
    }
    assert record.frontmatter.span.line == 1 and record.frontmatter.span.end_line == 6


def test_empty_frontmatter() -> None:
    record = parse("---\n---\n# T\n")
    assert record.frontmatter is not None and record.frontmatter.data == {}
    assert record.problems == ()
    assert record.title is not None and record.title.span.line == 3


def test_thematic_break_later_is_not_frontmatter() -> None:
    record = parse("# T\n\n---\n\ntext [[a]]\n---\n")
    assert record.frontmatter is None and record.problems == ()
    assert record.links[0].span.line == 5


def test_frontmatter_link_positions() -> None:
    text = '---\nrelated: "[[target]]"\nup:\n  - "[[a]]"\n  - "[[b]]"\n---\n'
    links = parse(text).links
    assert [(link.target, link.kind) for link in links] == [
        ("target", LinkKind.FRONTMATTER),
        ("a", LinkKind.FRONTMATTER),
        ("b", LinkKind.FRONTMATTER),
    ]
    assert links[0].span.line == 2 and links[0].span.column == 10
    # Each list item is its own line: a finding about [[b]] must point at line 5.
    assert [(link.span.line, link.span.column) for link in links[1:]] == [(4, 5), (5, 5)]


def test_unquoted_frontmatter_brackets_are_not_links() -> None:
    # Unquoted, [[x]] is a YAML list inside a list, not the string "[[x]]".
    record = parse("---\nup: [[x]]\n---\n")
    assert record.links == ()


# ------------------------------------------------------------------------- large inputs


@pytest.mark.parametrize(
    "line",
    [
        "[[" * 50_000,
        "![[" * 20_000,
        "[[a|" * 20_000,
        "[[a]" * 20_000,
        "| [[a\\|" * 10_000,
        "[" * 50_000 + "]" * 50_000,
    ],
    ids=["open-brackets", "open-embeds", "open-pipes", "half-closed", "table-pipes", "nested"],
)
def test_pathological_lines_finish(line: str) -> None:
    # No timing is asserted: the test runner's timeout catches a hang.
    record = parse(line + "\n")
    assert record.text.startswith(line[:10])


def test_many_links_finish_and_are_all_found() -> None:
    text = "".join(f"- [[n{i}]]\n" for i in range(5_000))
    record = parse(text)
    assert len(record.links) == 5_000
    assert record.links[-1].span == Span(5_000, 3, 5_000, 3 + len("[[n4999]]"))


# --------------------------------------------------------- lines trimmed away from a paragraph


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        # A line of only a no-break (or other Unicode) space is not blank to the block parser:
        # it starts the paragraph, whose text markdown-it then trims. Found by fuzzing.
        ("\xa0\n[[x]]", 2, 1),
        ("\u3000\n\u2003\nsee [[x]]", 3, 5),
        ("\x0c\nsee [[x]]", 2, 5),
        ("> \xa0\n> see [[x]]", 2, 7),
        ("- \xa0\n  see [[x]]", 2, 7),
        ("\xa0\n[[x]]\n===\n", 2, 1),
        # "-" and "1." before a no-break space are text, not block prefixes: nothing is trimmed.
        ("-\xa0\n[[x]]", 2, 1),
        ("1.\xa0[[x]]\nnext", 1, 4),
    ],
)
def test_lines_trimmed_from_a_paragraph_do_not_shift_positions(
    text: str, line: int, column: int
) -> None:
    assert only_link(text).span.line == line
    assert only_link(text).span.column == column


def test_a_setext_heading_after_a_no_break_space_line_is_on_its_text_line() -> None:
    (heading,) = parse("\xa0\nTitle\n===\n").headings
    assert (heading.text, heading.span.line) == ("Title", 2)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab \r\n\u2028", max_size=40), st.integers(0, 12))
def test_first_lines_are_the_lines_up_to_there(text: str, count: int) -> None:
    # Every line end Obsidian counts (\r\n, \r, \n), and one it does not (U+2028).
    record = parse_note("n.md", text.encode("utf-8"))
    assert record.first_lines(count) == record.lines()[:count]


def _lines_by_hand(text: str) -> list[str]:
    lines, current, index = [], "", 0
    while index < len(text):
        char = text[index]
        if char in "\r\n":
            lines.append(current)
            current = ""
            index += 2 if text.startswith("\r\n", index) else 1
            continue
        current += char
        index += 1
    return [*lines, current]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab \r\n\u2028\u0085\x0b\x0c", max_size=40))
def test_lines_end_at_crlf_cr_and_lf_only(text: str) -> None:
    # Positions count lines as Obsidian does: U+2028, NEL, VT and FF do not end one, which
    # str.splitlines would split at.
    assert split_lines(text) == _lines_by_hand(text)
    assert parse_note("n.md", text.encode("utf-8")).lines() == _lines_by_hand(text)
