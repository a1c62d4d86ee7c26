"""The fast Markdown engine: pulldown-cmark (through pyromark) read into ``MarkdownParts``.

markdown-it-py with our wikilink plugin (:func:`.reference.parse_markdown`) is the
reference; this engine must give exactly what it gives. pulldown-cmark parses the same
CommonMark, gives every event its byte range in the source (so positions need no searching)
and parses about thirty times faster (issue 8's figures for 10,000 notes). Where the two could
differ, this engine does not guess: it raises :class:`Unsure` and the note is parsed by the
reference instead. That covers what the differential tests (tests/test_pulldown.py) found or
what we could not prove equal:

- math (``$``), link reference definitions, Setext headings, lists or quotes nested deeper than
  the reference parses, Unicode spaces other than space and tab (markdown-it and Python trim
  them differently), a ``>`` indented four columns or more (markdown-it-py continues a quote
  there, against CommonMark);
- a table where only one engine sees one (a GFM table against an HTML block);
- a ``[[...]]`` that the wikilink pattern finds in text where pulldown-cmark saw no wikilink (an
  escaped bracket, say), or a wikilink event whose source is not the pattern's;
- a heading, quote or table as a list item's first block, a Markdown link over several lines or
  with backslashes, entities or ``<`` in it, an HTML comment split over several lines inside a
  paragraph.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import unquote

import pyromark

from conceptgraph.model import (
    BlockId,
    Heading,
    Link,
    LinkKind,
    ListItem,
    Section,
    Span,
)
from conceptgraph.note.markdown.parts import (
    BLOCK_ID,
    REFUSED_SPACES,
    SCHEME,
    MarkdownParts,
    atx_heading_text,
    close_sections,
    read_directives,
)
from conceptgraph.note.wikilinks import wikilink

WIKILINK_BYTES = re.compile(rb"(!?)\[\[([^\[\]\n]*)\]\]")
# What the fast engine does not take on (see the module docstring): math, whitespace that trims
# differently, and (at line starts) reference definitions, lines indented or quoted this deep,
# quote marks indented four columns or more.
_REFUSED_CHARACTERS = ("$", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")
_REFUSED_LINES = re.compile(
    # A reference definition, also as a list item's or a quote's first block.
    r"\n(?:[ \t>*+\-0-9.)]*\[[^\]\n]*\]:"
    r"|[ \t>*+\-0-9.)]{64}| {0,3}\t[ \t]*>| {4,}>"
    # A tab after nested quote marks: the columns it stands for are counted two ways.
    r"| {0,3}>[ \t]*>[ \t>]*\t"
    # A line indented four columns under a quote's line, or a tab under an indented item: lazy
    # continuation against indented code, which the engines tell apart differently.
    r"| {0,3}>[^\n]*\n(?: {4}| {0,3}\t)"
    r"| {1,3}(?:[*+\-]|[0-9]{1,9}[.)])[ \t][^\n]*\n(?: {4}| {0,3}\t)"
    # A list item that starts with HTML, over an indented line.
    r"| {0,3}(?:[*+\-]|[0-9]{1,9}[.)])[ \t]+<[^\n]*\n(?: {4}| {0,3}\t)"
    # An empty list item over a line indented four columns.
    r"| {0,3}(?:[*+\-]|[0-9]{1,9}[.)])[ \t]*\n(?: {4}| {0,3}\t))"
)
# A quote anywhere: a line indented four columns below it may continue it lazily.
_QUOTE = re.compile(r"\n {0,3}>")
# Lines indented four columns: after a table, a row to pulldown-cmark, code to markdown-it.
_INDENTED = re.compile(r"\n(?: {4}| {0,3}\t)")
# markdown-it-py's inline HTML comment (CommonMark 0.30); pulldown-cmark takes 0.31's, where
# "<!--x--->" is a comment too.
_COMMENT = re.compile(r"<!---?>|<!--(?:[^-]|-[^-]|--[^>])*-->")
# A GFM table's delimiter row, and the header line before it that holds a pipe: markdown-it and
# pulldown-cmark disagree on some of these (a table against an HTML block, say), so each one must
# be a table to pulldown-cmark too.
# The delimiter row is matched alone, its quantifiers possessive (none can give back what a
# later one would take), and the header found as the line before: one pattern over both lines
# backtracked over every "|" of a long header row for every character after it (88 s a row).
_TABLE_DELIMITER = re.compile(
    r"^ {0,3}\|?[ \t]*+:?-++:?[ \t]*+(?:\|[ \t]*+:?-++:?[ \t]*+)*+\|?[ \t]*+$", re.MULTILINE
)
# A line that starts as a bullet list item does ("- |-" is a delimiter row too).
_BULLET = re.compile(r" {0,3}[-*+](?:[ \t]|$)")
_ATX = re.compile(r"[ \t]{0,3}(#{1,6})(?:[ \t]+|$)")
# Inline containers: their text belongs to the run around them.
_SPANS = frozenset(("Emphasis", "Strong", "Strikethrough", "Superscript", "Subscript"))
_INLINE = frozenset(
    ("Text", "Code", "InlineHtml", "InlineMath", "SoftBreak", "HardBreak", "FootnoteReference")
)


_BACKSLASH = ord("\\")


class Unsure(Exception):
    """Raised for a note the fast engine does not take on: the reference parses it."""


@cache
def _parser() -> Any:
    options = pyromark.Options
    return pyromark.Markdown(options=options.ENABLE_TABLES | options.ENABLE_WIKILINKS)


def parse_markdown_fast(body: str, lines: list[str], first_line: int) -> MarkdownParts:
    """Parse a note body as :func:`.reference.parse_markdown` does, or raise Unsure."""
    framed = "\n" + body  # the line-start patterns then match the first line too
    if (
        any(character in body for character in _REFUSED_CHARACTERS)
        or (not body.isascii() and REFUSED_SPACES.search(body))
        or _REFUSED_LINES.search(framed)
        or (_QUOTE.search(framed) and _INDENTED.search(body))
    ):
        raise Unsure("construct left to the reference engine")
    return _Reader(body, lines, first_line).read()


class _Reader:
    """One pass over pulldown-cmark's events, keeping the state the records need."""

    def __init__(self, body: str, lines: list[str], first_line: int) -> None:
        self.body = body
        self.data = body.encode("utf-8")
        self.ascii = len(self.data) == len(body)
        self.lines = lines
        self.offset = first_line - 1
        starts = [0]
        find = self.data.find
        at = find(b"\n")
        while at >= 0:
            starts.append(at + 1)
            at = find(b"\n", at + 1)
        self.starts = starts
        self.parts = MarkdownParts()
        self.section: int | None = None
        self.open_sections: list[int] = []
        self.list_depth = 0
        self.quote_depth = 0
        self.table_depth = 0
        self.pending_item: int | None = None  # byte offset of a list item not yet given text
        # The inline run being read: where it starts, ends, and where its last line starts.
        self.run_start = -1
        self.run_end = -1
        self.run_last_line = -1
        self.covered: list[tuple[int, int]] = []  # code, HTML and autolinks in this run
        self.wikilinks: list[tuple[int, int]] = []
        self.links: list[tuple[int, int]] = []  # Markdown links and images in this run
        self.skip_depth = 0  # inside a wikilink or autolink: its text is not read
        self.in_code = False
        self.tables: list[int] = []  # lines where pulldown-cmark's tables start

    # Positions -----------------------------------------------------------------------------

    def _position(self, offset: int) -> tuple[int, int]:
        """File line and 1-based column (in code points) of a byte offset in the body."""
        index = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[index]
        if self.ascii:
            column = offset - start
        else:
            column = len(self.data[start:offset].decode("utf-8", "replace"))
        return index + self.offset + 1, column + 1

    def _span(self, start: int, end: int) -> Span:
        line, column = self._position(start)
        end_line, end_column = self._position(end)
        return Span(line, column, end_line, end_column)

    def _text(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", "replace")

    # Events --------------------------------------------------------------------------------

    def read(self) -> MarkdownParts:
        data = self.data
        for event, where in _parser().events_with_range(self.body):
            if event.__class__ is dict:
                ((kind, value),) = event.items()
                if kind == "Text":
                    # Most events are text: handled here, without a call, as _inline would.
                    if self.skip_depth or self.in_code:
                        continue
                    start, end = where["start"], where["end"]
                    if start and data[start - 1] == _BACKSLASH:
                        start -= 1  # an escaped character's text starts after its backslash
                    if self.run_start < 0:
                        self.run_start = self.run_last_line = start
                    elif self.run_last_line < 0:
                        self.run_last_line = start
                    if end > self.run_end:
                        self.run_end = end
                    continue
                if value == "Item" or value == "Paragraph":
                    # The commonest blocks, handled here only, without a call.
                    if self.run_start >= 0:
                        self._close_run()
                    if value == "Item":
                        if self.pending_item is not None:
                            self._flush_item()
                        if kind == "Start":
                            self.pending_item = where["start"]
                    continue
            else:
                kind, value = event, None
            start, end = where["start"], where["end"]
            if kind in _INLINE:
                self._inline(kind, value, start, end)
            elif kind == "Start":
                self._start(value, start, end)
            elif kind == "End":
                self._end(value, start, end)
            elif kind == "Html":
                continue  # read whole at the start of its block
            elif self.run_start >= 0:
                self._close_run()
        self._close_run()
        self._flush_item()
        if "|" in self.body:
            self._check_tables()
        close_sections(self.parts.sections, self.open_sections, 0, len(self.lines))
        self.parts.links.sort(key=lambda link: link.span)
        return self.parts

    def _start(self, value: Any, start: int, end: int) -> None:
        name = value if isinstance(value, str) else next(iter(value))
        if name in ("Link", "Image"):
            self._link(name, value[name], start, end)
            return
        if name in _SPANS:
            self._inline(name, None, start, end)
            return
        if self.run_start >= 0:
            self._close_run()
        if name == "List":
            self.list_depth += 1
        elif name == "BlockQuote":
            if self.pending_item is not None:
                raise Unsure("a quote as a list item's first block")
            self.quote_depth += 1
        elif name == "Heading":
            self._open_heading(start, end)
        elif name == "Table":
            if self.pending_item is not None:
                raise Unsure("a table as a list item's first block")
            self.table_depth += 1
            self.tables.append(self._position(start)[0])
        elif name == "HtmlBlock":
            line, _ = self._position(start)
            read_directives(self.parts, self._text(start, end), line)
        elif name == "CodeBlock":
            self.in_code = True
        elif name in ("TableCell", "TableHead", "TableRow"):
            pass
        else:
            raise Unsure(f"block {name}")

    def _end(self, value: Any, start: int, end: int) -> None:
        name = value if isinstance(value, str) else next(iter(value))
        if name in ("Link", "Image"):
            if self.skip_depth:
                self.skip_depth -= 1
            return
        if name in _SPANS:
            return
        if self.run_start >= 0:
            self._close_run()
        if name == "List":
            self.list_depth -= 1
        elif name == "BlockQuote":
            self.quote_depth -= 1
        elif name == "Table":
            self.table_depth -= 1
        elif name == "CodeBlock":
            self.in_code = False

    def _open_heading(self, start: int, end: int) -> None:
        source = self._text(start, end)
        match = _ATX.match(source)
        if match is None:
            raise Unsure("Setext heading")
        if self.list_depth or self.quote_depth:
            if self.pending_item is not None:
                raise Unsure("a heading as a list item's first block")
            return  # Obsidian takes only top-level headings as headings
        line, _ = self._position(start)
        text = atx_heading_text(source.rstrip("\n"), match.end())
        source_line = self.lines[line - 1]
        column = len(source_line) - len(source_line.lstrip()) + 1
        span = Span(line, column, line, len(source_line) + 1)
        level = len(match.group(1))
        self.parts.headings.append(Heading(level, text, span))
        sections = self.parts.sections
        close_sections(sections, self.open_sections, level, line - 1)
        parent = self.open_sections[-1] if self.open_sections else None
        sections.append(Section(text, level, span, line, parent))
        self.section = len(sections) - 1
        self.open_sections.append(self.section)
        # The heading's own text is the run that follows; a block id may end it.

    # Inline runs ---------------------------------------------------------------------------

    def _inline(self, kind: str, value: Any, start: int, end: int) -> None:
        if self.skip_depth or self.in_code:
            return
        if kind in ("SoftBreak", "HardBreak"):
            if self.run_start < 0:
                self.run_start = start
            self.run_last_line = -1  # the next event starts the run's new last line
            return
        if kind == "InlineMath":
            raise Unsure("math")
        self._extend_run(start, end)
        if kind in ("Code", "InlineHtml"):
            comment = kind == "InlineHtml" and self.data.startswith(b"<!--", start)
            if comment and not _COMMENT.fullmatch(self._text(start, end)):
                raise Unsure("an HTML comment that only CommonMark 0.31 takes as one")
            self.covered.append((start, end))
            if kind == "InlineHtml" and b"conceptgraph-" in self.data[start:end]:
                html = self._text(start, end)
                if "<!--" in html and "-->" not in html:
                    raise Unsure("an HTML comment over several lines")
                line, _ = self._position(start)
                read_directives(self.parts, html, line)

    def _extend_run(self, start: int, end: int) -> None:
        """Add inline source to the run (read() does the same for text, inlined for speed)."""
        if self.run_start < 0:
            self.run_start = self.run_last_line = start
        elif self.run_last_line < 0:
            self.run_last_line = start
        if end > self.run_end:
            self.run_end = end

    def _link(self, name: str, attributes: Any, start: int, end: int) -> None:
        if self.skip_depth:
            self.skip_depth += 1
            return
        self._extend_run(start, end)
        link_type = attributes["link_type"]
        if isinstance(link_type, dict):  # {"WikiLink": {...}}
            self.skip_depth = 1
            self.wikilinks.append((start, end))
            self._wikilink(start, end)
            return
        if link_type in ("Autolink", "Email"):
            self.skip_depth = 1
            self.covered.append((start, end))
            return
        self.links.append((start, end))
        href = str(attributes["dest_url"])
        if not href or href.startswith("#") or SCHEME.match(href):
            return
        raw = self.data[start:end]
        if b"\n" in raw or b"\\" in raw or b"&" in raw or b"<" in raw:
            raise Unsure("a Markdown link over several lines, or with escapes or entities")
        target, _, fragment = unquote(href).partition("#")
        self.parts.links.append(
            Link(
                target=target,
                subpath=fragment or None,
                display=None,
                embed=name == "Image",
                kind=LinkKind.MARKDOWN,
                span=self._span(start, end),
                section=self.section,
                raw=self._text(start, end),
            )
        )

    def _wikilink(self, start: int, end: int) -> None:
        match = WIKILINK_BYTES.fullmatch(self.data, start, end)
        if match is None or not match.group(2).strip():
            raise Unsure("a wikilink that is not the pattern's")
        raw = self._text(start, end)
        inner = self._text(match.start(2), match.end(2))
        if self.table_depth and "\\|" in inner:
            # markdown-it's table drops the backslash of an escaped pipe from the cell's text.
            raw, inner = raw.replace("\\|", "|"), inner.replace("\\|", "|")
        span = self._span(start, end)
        self.parts.links.append(wikilink(inner, bool(match.group(1)), span, self.section, raw))

    def _close_run(self) -> None:
        """End the inline run: check its wikilinks, give a pending list item its text."""
        start, end = self.run_start, self.run_end
        if start < 0:
            return
        self.run_start = self.run_end = -1
        last_line = self.run_last_line
        self.run_last_line = -1
        if end < start:
            end = start
        source = self.data[start:end]
        if b"[[" in source:
            self._check_wikilinks(start, end)
        if b"](" in source:
            self._check_links(start, end)
        self.covered.clear()
        self.wikilinks.clear()
        self.links.clear()
        if self.pending_item is not None:
            self._item_text(start, end)
        if last_line >= 0 and b"^" in self.data[last_line:end]:
            self._block_id(last_line, end)

    def _check_tables(self) -> None:
        headers = [index + self.offset + 1 for index in table_header_lines(self.body)]
        if headers != self.tables:
            raise Unsure("a table one engine sees and the other does not")
        if headers and _INDENTED.search(self.body):
            raise Unsure("a table and a line indented four columns")
        for row in _TABLE_DELIMITER.finditer(self.body):
            if _BULLET.match(row.group()):
                raise Unsure("a delimiter row that is also a list item")

    def _check_links(self, start: int, end: int) -> None:
        holds = spans_holding(self.links + self.covered + self.wikilinks)
        at = self.data.find(b"](", start, end)
        while at >= 0:
            if not holds(at, at + 2):
                raise Unsure("a '](' pulldown-cmark did not take as part of a link")
            at = self.data.find(b"](", at + 2, end)

    def _check_wikilinks(self, start: int, end: int) -> None:
        seen = set(self.wikilinks)
        holds = None
        for match in WIKILINK_BYTES.finditer(self.data, start, end):
            found = (match.start(), match.end())
            if found in seen or not match.group(2).strip():
                continue
            holds = holds or spans_holding(self.covered)
            if not holds(*found):
                raise Unsure("a [[link]] pulldown-cmark did not take as one")

    def _item_text(self, start: int, end: int) -> None:
        line, column = self._position(start)
        source = self.lines[line - 1]
        end_line, end_column = self._position(end)
        # markdown-it trims a paragraph's text as a whole: a one-line item ends where its
        # text does, the first of several lines keeps what trails it.
        text = source[column - 1 : end_column - 1] if end_line == line else source[column - 1 :]
        span = Span(line, column, line, column + len(text))
        self.parts.list_items.append(ListItem(text, span, self.section, self.list_depth))
        self.pending_item = None

    def _flush_item(self) -> None:
        item = self.pending_item
        if item is None:
            return
        # An item's range may start on the line before it (after a parent's text): its line is
        # the one its marker stands on.
        while item < len(self.data) and self.data[item] in b" \t\n":
            item += 1
        line, _ = self._position(item)
        source = self.lines[line - 1]
        column = len(source) - len(source.lstrip()) + 1
        span = Span(line, column, line, column)
        self.parts.list_items.append(ListItem("", span, self.section, self.list_depth))
        self.pending_item = None

    def _block_id(self, last_line: int, end: int) -> None:
        content = self._text(last_line, end)
        match = BLOCK_ID.search(content)
        if match is None:
            return
        begin = last_line + len(content[: match.start(1) - 1].encode("utf-8"))
        finish = last_line + len(content[: match.end(1)].encode("utf-8"))
        self.parts.block_ids.append(BlockId(match.group(1), self._span(begin, finish)))


def table_header_lines(text: str) -> list[int]:
    """The indexes of the lines of ``text`` that hold a ``|`` over a GFM delimiter row.

    Read from the top, a header and its delimiter row are taken together, so a delimiter row
    under a header is not the header of the row below it.
    """
    headers: list[int] = []
    index, counted = 0, 0
    for row in _TABLE_DELIMITER.finditer(text):
        start = row.start()
        if start == 0:
            continue
        index += text.count("\n", counted, start)
        counted = start
        header_start = text.rfind("\n", 0, start - 1) + 1
        taken = bool(headers) and headers[-1] == index - 2
        if not taken and text.find("|", header_start, start - 1) >= 0:
            headers.append(index - 1)
    return headers


def spans_holding(spans: list[tuple[int, int]]) -> Callable[[int, int], bool]:
    """Whether one of ``spans`` (start, end) holds all of ``[first, last)``, asked many times.

    A paragraph of thousands of links asks once for each ``](`` in it: a scan of every span
    each time made such a note quadratic. Sorted by start, the furthest end among the spans
    that start at or before ``first`` says it in a binary search.
    """
    ordered = sorted(spans)
    starts = [first for first, _ in ordered]
    reach = list(itertools.accumulate((last for _, last in ordered), max))

    def holds(first: int, last: int) -> bool:
        index = bisect.bisect_right(starts, first) - 1
        return index >= 0 and reach[index] >= last

    return holds
