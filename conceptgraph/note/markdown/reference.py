"""The reference Markdown engine: markdown-it-py with our wikilink plugin, read into parts.

Every other engine (:mod:`.plain`, :mod:`.fast`) must give exactly what this one gives, and
hands it every note it cannot vouch for. The walker turns markdown-it's token stream into
positioned records in one pass; positions are counted over the whole file.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import unquote

from conceptgraph.model import (
    BlockId,
    Heading,
    Link,
    LinkKind,
    ListItem,
    Problem,
    ProblemKind,
    Section,
    Span,
)
from conceptgraph.note.markdown.parts import (
    BLOCK_ID,
    SCHEME,
    MarkdownParts,
    close_sections,
    read_directives,
)
from conceptgraph.note.wikilinks import WIKILINK, wikilink, wikilinks_plugin

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_block import StateBlock
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token

# markdown-it's own default (the commonmark preset stops at 20, so a list ten levels deep lost
# the rest of the note). A list level takes two, a quote one; the Python recursion it costs
# stays far below the interpreter's limit.
MAX_NESTING = 100
_INLINE_NESTING = 20

BlockTokenize = Callable[["StateBlock", int, int], None]


def _configured(max_nesting: int) -> MarkdownIt:
    # Imported here: notes the fast engine takes never need markdown-it-py loaded.
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark", {"html": True, "maxNesting": max_nesting}).enable("table")
    # Emphasis and entities cannot hide or make a link, so skip their work on the hot path.
    md.disable(["emphasis", "entity"])
    md.use(dollarmath_plugin)
    md.use(wikilinks_plugin)
    return md


@cache
def _markdown_it() -> MarkdownIt:
    md = _configured(MAX_NESTING)
    md.core.ruler.at("inline", _inline_where_links_can_be)
    # Nested blocks (quotes, list items) call the block tokenizer through this attribute; mypy
    # sees a method there and refuses to let a plain function stand in for it.
    md.block.tokenize = _bounded(md.block.tokenize)  # type: ignore[method-assign,assignment]
    return md


@cache
def _inline_parsers() -> tuple[MarkdownIt, MarkdownIt]:
    """Inline parsers: every rule, and without Markdown links (for text that can hold none).

    Inline nesting stays at the commonmark preset's 20: deeper, markdown-it's search for the
    end of each ``[`` costs several times more on lines of thousands of brackets.
    """
    full = _configured(_INLINE_NESTING)
    return full, _configured(_INLINE_NESTING).disable(["link", "image"])


def _inline_where_links_can_be(state: StateCore) -> None:
    # Every link, embed and image starts with "[" (and a directive with "<!--"): inline text
    # without one holds nothing this parser reads, so it is not tokenized (a sixth of the time).
    # A Markdown link or image needs "](" unless the note defines references; without one,
    # markdown-it's search for the "]" that closes each "[" is skipped too.
    full, plain = _inline_parsers()
    references = bool(state.env.get("references"))
    for token in state.tokens:
        if token.type == "inline":
            token.children = []
            content = token.content
            if "[" in content or "<!--" in content:
                md = full if references or "](" in content else plain
                md.inline.parse(content, md, state.env, token.children)


def _bounded(tokenize: BlockTokenize) -> BlockTokenize:
    """The block tokenizer, made to skip only the lines of a block nested too deeply.

    At its nesting limit markdown-it drops every line up to the end of the enclosing block,
    for a list item the rest of the note, without a word. Here the too-deep block gives up just
    its own lines (the ones indented under it) and records them in ``env["too_deep"]``, so the
    note after it is parsed as usual and the skipped lines can still be read for links.
    """

    def wrapped(state: StateBlock, start: int, end: int) -> None:
        if state.level < MAX_NESTING:
            tokenize(state, start, end)
            return
        line, first, last = start, -1, -1
        while line < end:
            if not state.isEmpty(line):
                if state.sCount[line] < state.blkIndent:
                    break
                first = line if first < 0 else first
                last = line
            line += 1
        if first >= 0:
            state.env.setdefault("too_deep", []).append((first, last + 1))
        state.line = line

    return wrapped


def parse_markdown(body: str, lines: list[str], first_line: int) -> MarkdownParts:
    """Parse a note body with markdown-it-py.

    ``lines`` are all the file's lines (normalised line ends) and ``first_line`` the file line
    the body starts on, so every position is counted over the whole file.
    """
    env: dict[str, list[tuple[int, int]]] = {}
    tokens = _markdown_it().parse(body, env)
    parts = _Walker(lines, first_line - 1).walk(tokens)
    if "too_deep" in env:
        _read_too_deep(parts, env["too_deep"], lines, first_line - 1)
    return parts


def _read_too_deep(
    parts: MarkdownParts, ranges: list[tuple[int, int]], lines: list[str], offset: int
) -> None:
    """Find the wikilinks of lines nested too deeply to parse, and say that they were skipped.

    Those lines hold no headings, list items or block ids that count; their ``[[links]]`` are
    found by pattern alone (code spans there are not told apart), so no link is lost.
    """
    heading_lines = [section.span.line for section in parts.sections]
    found: list[Link] = []
    for start, end in ranges:
        first, last = start + offset + 1, end + offset
        message = (
            f"lists or quotes nested too deep to parse ({MAX_NESTING} levels, a list level "
            f"counting two): lines {first}-{last} are read for [[links]] only"
        )
        parts.problems.append(Problem(ProblemKind.NESTING, Span.point(first), message))
        for number in range(first, last + 1):
            source = lines[number - 1]
            if "[[" not in source:
                continue
            section = bisect.bisect_right(heading_lines, number) - 1
            for match in WIKILINK.finditer(source):
                if not match.group(2).strip():
                    continue
                span = Span(number, match.start() + 1, number, match.end() + 1)
                within = section if section >= 0 else None
                found.append(
                    wikilink(match.group(2), bool(match.group(1)), span, within, match.group(0))
                )
    if found:
        parts.links = sorted(parts.links + found, key=lambda link: link.span)


class _Walker:
    """Turns markdown-it's token stream into positioned records in one pass."""

    def __init__(self, lines: list[str], offset: int) -> None:
        self.lines = lines
        self.offset = offset
        self.parts = MarkdownParts()
        self.section: int | None = None
        self.open_sections: list[int] = []
        self.list_depth = 0
        self.quote_depth = 0
        self.pending_item: Token | None = None
        self.pending_heading: Token | None = None
        self.cursor = (0, 0)
        # Where each line of the inline token last located starts in its content, and where
        # each of those lines starts in its source line: worked out once per token and line,
        # so a line holding thousands of links is searched once, not once per link.
        self.token: Token | None = None
        self.starts: list[int] = [0]
        self.bases: dict[int, int] = {}

    def walk(self, tokens: list[Token]) -> MarkdownParts:
        for token in tokens:
            kind = token.type
            if kind == "inline":
                self._inline(token)
            elif kind == "html_block" and token.map is not None:
                read_directives(self.parts, token.content, self._line(token.map[0]))
            elif kind == "heading_open":
                # Obsidian only takes headings at the top level as headings: one inside a
                # quote, callout or list cannot be linked to and opens no section.
                if not self.list_depth and not self.quote_depth:
                    self.pending_heading = token
            elif kind == "blockquote_open":
                self.quote_depth += 1
            elif kind == "blockquote_close":
                self.quote_depth -= 1
            elif kind in ("bullet_list_open", "ordered_list_open"):
                self.list_depth += 1
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.list_depth -= 1
            elif kind == "list_item_open":
                self._flush_item()
                self.pending_item = token
            elif kind == "list_item_close":
                self._flush_item()
        close_sections(self.parts.sections, self.open_sections, 0, len(self.lines))
        return self.parts

    def _line(self, map_line: int) -> int:
        return map_line + self.offset + 1

    def _inline(self, token: Token) -> None:
        if token.map is not None and token.map[1] - token.map[0] > 1:
            self._skip_trimmed_lines(token.map, token.content)
        if self.pending_heading is not None:
            self._heading(self.pending_heading, token)
            self.pending_heading = None
        elif self.pending_item is not None:
            text = token.content.split("\n", 1)[0]
            self.parts.list_items.append(
                ListItem(
                    text=text,
                    span=self._locate_first_line(token, text),
                    section=self.section,
                    depth=self.list_depth,
                )
            )
            self.pending_item = None
        for child in token.children or ():
            if child.type == "html_inline":
                if "conceptgraph-" in child.content:
                    offset = int(child.meta.get("pos", token.content.find(child.content)))
                    line = self._locate(token, offset, child.content).line
                    read_directives(self.parts, child.content, line)
                continue
            link = self._link(token, child)
            if link is not None:
                self.parts.links.append(link)
        self._block_id(token)

    def _skip_trimmed_lines(self, line_range: list[int], content: str) -> None:
        """Move a paragraph's line range past leading lines its text was trimmed of.

        markdown-it trims a paragraph's text of whitespace of every kind. A first line holding
        only a no-break or other Unicode space is not blank to the block parser, so it starts
        the paragraph, and then vanishes with the trim: the text starts a line later than the
        range says, and every position in it would be off by a line.
        """
        index = line_range[0] + self.offset
        first = None
        while index < len(self.lines) - 1 and line_range[1] - line_range[0] > 1:
            source = self.lines[index]
            if source.isascii() and "\x0b" not in source and "\x0c" not in source:
                return
            if source.strip(_PREFIX_OR_SPACE):
                return
            first = content.partition("\n")[0] if first is None else first
            if _line_base(source, first, 0) >= 0:
                return  # the text does start here: "-" or "1." before a no-break space
            line_range[0] += 1
            index += 1

    def _flush_item(self) -> None:
        # A list item with no text ("- " alone) has no inline token; it is still an item.
        item = self.pending_item
        if item is not None and item.map is not None:
            line = self._line(item.map[0])
            column = len(self.lines[line - 1]) - len(self.lines[line - 1].lstrip()) + 1
            span = Span(line, column, line, column)
            self.parts.list_items.append(ListItem("", span, self.section, self.list_depth))
        self.pending_item = None

    def _heading(self, opening: Token, inline: Token) -> None:
        level = int(opening.tag[1:])
        assert opening.map is not None
        # The inline token's range starts on the heading's first line of text (see
        # _first_line_kept); the opening token's may start on a line of only a no-break space.
        line = self._line((inline.map or opening.map)[0])
        source = self.lines[line - 1]
        column = len(source) - len(source.lstrip()) + 1
        span = Span(line, column, line, len(source) + 1)
        self.parts.headings.append(Heading(level, inline.content, span))
        close_sections(self.parts.sections, self.open_sections, level, line - 1)
        parent = self.open_sections[-1] if self.open_sections else None
        self.parts.sections.append(Section(inline.content, level, span, line, parent))
        self.section = len(self.parts.sections) - 1
        self.open_sections.append(self.section)

    def _link(self, inline: Token, child: Token) -> Link | None:
        if child.type == "wikilink":
            raw = child.markup
            span = self._locate(inline, int(child.meta["pos"]), raw)
            return wikilink(child.content, bool(child.meta["embed"]), span, self.section, raw)
        if child.type not in ("link_open", "image") or "pos" not in child.meta:
            return None
        href = str(child.attrs.get("href") or child.attrs.get("src") or "")
        if not href or href.startswith("#") or SCHEME.match(href):
            return None
        start, end = int(child.meta["pos"]), int(child.meta["end"])
        raw = inline.content[start:end]
        target, _, fragment = unquote(href).partition("#")
        return Link(
            target=target,
            subpath=fragment or None,
            display=None,
            embed=child.type == "image",
            kind=LinkKind.MARKDOWN,
            span=self._locate(inline, start, raw),
            section=self.section,
            raw=raw,
        )

    def _block_id(self, inline: Token) -> None:
        content = inline.content
        if "^" not in content:
            return
        last_line_start = content.rfind("\n") + 1
        # The last line alone: "text\n^id" ends its paragraph with an id, as Obsidian reads it.
        match = BLOCK_ID.search(content[last_line_start:])
        if match is None:
            return
        offset = last_line_start + match.start(1) - 1
        span = self._locate(inline, offset, content[offset : last_line_start + match.end(1)])
        self.parts.block_ids.append(BlockId(match.group(1), span))

    def _locate_first_line(self, inline: Token, text: str) -> Span:
        """The span of an inline token's first line, found again in its source line."""
        line = self._line(inline.map[0] if inline.map else 0)
        source = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        column0 = _source_column(source, _line_base(source, text, 0), 0, text, 0)
        return Span(line, column0 + 1, line, column0 + len(text) + 1)

    def _locate(self, inline: Token, offset: int, raw: str) -> Span:
        r"""The file span of ``raw``, found at ``offset`` in the inline token's content.

        markdown-it gives inline tokens line ranges only; the content is the source lines with
        block prefixes (indent, ``>``, list markers) removed, so each content line is found again
        in its source line. Table cells lose the backslash of ``\|``, so search for that too. A
        Markdown link may run over several lines: its end is found on its last line.
        """
        if inline is not self.token:
            self.token = inline
            self.starts = [0]
            if "\n" in inline.content:
                self.starts += [match.end() for match in _NEWLINE.finditer(inline.content)]
            self.bases = {}
        starts = self.starts
        line_index = bisect.bisect_right(starts, offset) - 1 if len(starts) > 1 else 0
        file_line, source = self._source(inline, line_index)
        # Cells of one table row are separate inline tokens on one source line: search on from
        # the last thing found there, so a repeated link gets its own column.
        start = self.cursor[1] if self.cursor[0] == file_line else 0
        base = self.bases.get(line_index)
        if base is None:
            base = self._base(inline, line_index, source, start)
        first = raw.partition("\n")[0]
        column_in_content = offset - starts[line_index]
        column0 = min(_source_column(source, base, column_in_content, first, start), len(source))
        if "\n" in raw:
            last = raw[raw.rfind("\n") + 1 :]
            end_index = line_index + raw.count("\n")
            end_line, end_source = self._source(inline, end_index)
            end_base = self._base(inline, end_index, end_source, 0)
            end_column0 = _source_column(end_source, end_base, 0, last, 0) + len(last)
        else:
            end_line, end_source = file_line, source
            end_column0 = column0 + len(raw)
            if not source.startswith(raw, column0) and "|" in raw:
                end_column0 += raw.count("|")
        end_column0 = min(end_column0, len(end_source))
        self.cursor = (end_line, end_column0)
        return Span(file_line, column0 + 1, end_line, end_column0 + 1)

    def _source(self, inline: Token, line_index: int) -> tuple[int, str]:
        """The file line of an inline token's content line, and that line's source text."""
        lines = self.lines
        file_line = min(
            (inline.map[0] if inline.map else 0) + line_index + self.offset + 1, len(lines)
        )
        return file_line, lines[file_line - 1]

    def _base(self, inline: Token, line_index: int, source: str, start: int) -> int:
        base = self.bases.get(line_index)
        if base is None:
            line_start = self.starts[line_index]
            following = line_index + 1
            content = inline.content
            line_end = self.starts[following] - 1 if following < len(self.starts) else len(content)
            base = _line_base(source, content[line_start:line_end], start)
            self.bases[line_index] = base
        return base


_NEWLINE = re.compile("\n")
# What a line trimmed away from a paragraph can hold: block prefixes (quote marks, list
# markers, indentation) and the whitespace markdown-it trims (MD_TRIM_CHARS of markdown_it).
_PREFIX_OR_SPACE = (
    ">-*+.)0123456789 \t\x0b\x0c\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _line_base(source: str, content_line: str, start: int) -> int:
    """Where a line of inline content starts in its source line, or -1 if it cannot be told."""
    stripped = content_line.rstrip()
    if stripped and source.rstrip().endswith(stripped):
        return len(source.rstrip()) - len(stripped)
    if content_line:
        return source.find(content_line, start)
    return -1


def _source_column(source: str, base: int, column_in_content: int, raw: str, start: int) -> int:
    if base >= 0 and source.startswith(raw, base + column_in_content):
        return base + column_in_content
    for candidate in (raw, raw.replace("|", "\\|")):
        found = source.find(candidate, max(base, start, 0))
        if found < 0:
            found = source.find(candidate)
        if found >= 0:
            return found
    return max(base, 0) + column_in_content
