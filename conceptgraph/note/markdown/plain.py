r"""The plain-note engine: a note of headings, paragraphs, bullets and fences, read line by line.

Most concept notes hold little else: ATX headings, paragraphs and ``- `` bullets with
``[[wikilinks]]``, code spans, fenced code and block ids. For such a note no Markdown parser is
needed to know its links, headings, sections, list items and block ids, and reading its lines
with a few regular expressions is several times faster than walking pulldown-cmark's events.
This engine must give exactly what the reference (markdown-it-py) gives, so it takes only notes
it can prove plain, and raises :class:`Unsure` for anything else, which the next engine reads:

- a character that can start a construct it does not read: HTML and autolinks (``<``),
  entities (``&``), escapes (``\``), brackets not part of ``[[...]]``, tables (``|`` outside
  a wikilink or code span), math (``$``), ``~`` outside a fence, ``^`` but in a trailing block
  id, tabs and other control characters, Unicode spaces other than the space;
- a line that starts with anything a block could start with but a paragraph, an ATX heading,
  a ``- `` bullet or a fence at the left margin: quotes, ordered or ``*``/``+`` bullets,
  thematic breaks, Setext underlines, indented text other than a nested bullet;
- a bullet indented other than two spaces a level, deeper than one level below the bullet
  before it, or after something that closed its list; a line of text right below a bullet
  (a lazy continuation); a fence in a bullet;
- a code span not closed on its own line, a block id on a line the paragraph goes on after,
  a ``]](`` (a wikilink glued to what could read as a Markdown link), an empty wikilink.

tests/test_linescan.py holds it to the reference on every fixture note, generated vaults and
random Markdown, as tests/test_pulldown.py does the pulldown-cmark engine.
"""

from __future__ import annotations

import re

from conceptgraph.model import BlockId, Heading, ListItem, Section, Span
from conceptgraph.note.markdown.parts import (
    REFUSED_SPACES,
    MarkdownParts,
    atx_heading_text,
    close_sections,
)
from conceptgraph.note.wikilinks import wikilink


class Unsure(Exception):
    """Raised for a note that is not plain: another engine reads it."""


# What code spans are masked with, keeping every column where it was: allowed in text, not in
# a wikilink (a link across a code span's edge is left to the other engines).
_MASK = "\ue000"
# What no line may hold outside code: characters that start constructs this engine does not
# read. Brackets, | and ^ may stand in wikilinks (and ^ in a trailing block id) alone.
_FORBIDDEN = re.compile(r"[`<>&\\$~\x00-\x1f\x7f]")
_LINKS = re.compile(r"(!?)\[\[([^\[\]]*)\]\]")
_UNSURE_LINK = re.compile(r"\[\[ *\]\]|\[\[[^\[\]]*" + _MASK)
_HEADING = re.compile(r"(#{1,6}) +(?=[^ #])")
_BULLET = re.compile(r"((?:  )*)- (?=\S)")
_FENCE = re.compile(r"(`{3,}|~{3,})(.*)")
_CODE_RUN = re.compile(r"`+")
_BLOCK_ID = re.compile(r" \^([A-Za-z0-9-]+) *$")
# What text may start with: not a block marker (a Setext underline, an ordered list's number,
# a thematic break, a bullet, a fence), or emphasis and tags that cannot be one.
_START = re.compile(r"(?![-+=#>|:]|\d{1,9}[.)]|[*_](?:[\s*_]|$)|```)|\*\*?[^\s*]|__?[^\s_]|#[^\s#]")
# The first characters of a line (or a bullet's text) that _START must look at.
_MARKERS = frozenset("-+=#>|:*_`0123456789")
# Deeper lists are left to the engines that know the reference's nesting limit.
_MAX_DEPTH = 8


def parse_plain(body: str, lines: list[str], first_line: int) -> MarkdownParts:
    """Parse a plain note body as :func:`.reference.parse_markdown` does, or raise."""
    if not body.isascii() and (REFUSED_SPACES.search(body) or _MASK in body):
        raise Unsure("a Unicode space, or the character code spans are masked with")
    if "]](" in body:
        raise Unsure("a wikilink glued to parentheses")
    parts = MarkdownParts()
    sections = parts.sections
    open_sections: list[int] = []
    section: int | None = None
    depth = 0  # the depth of the last bullet while its list is open, else 0
    previous = ""  # the last non-blank line: heading, text, text-id (ending in a block id), ...
    blank = True
    fence: tuple[str, int] | None = None  # the open fence's character and length
    for number in range(first_line, len(lines) + 1):
        line = lines[number - 1]
        if fence is not None:
            if _closes(line, fence):
                fence, previous, blank = None, "fence", False
            continue
        if not line:
            blank = True
            continue
        first = line[0]
        if first == " " and not line.strip(" "):
            blank = True
            continue
        if first == "`" or first == "~":
            opening = _FENCE.match(line)
            if opening is not None:
                marker, info = opening.groups()
                if marker[0] == "`" and "`" in info:
                    raise Unsure("a backtick fence's info string with a backtick")
                if "|" in info:
                    # markdown-it tries a table before a fence: "```|" over "--" is a table.
                    raise Unsure("a fence's info string with a |")
                fence, depth, previous, blank = (marker[0], len(marker)), 0, "fence", False
                continue
        scan = _masked(line) if "`" in line else line
        ident = _BLOCK_ID.search(scan) if "^" in scan else None
        if ident is not None:
            scan = scan[: ident.start()]
        if _FORBIDDEN.search(scan) is not None:
            raise Unsure("a character that may start another construct")
        bullet = _BULLET.match(line) if first == "-" or first == " " else None
        if bullet is not None:
            level = len(bullet.group(1)) // 2 + 1
            if level > 1 and (depth == 0 or level > depth + 1):
                raise Unsure("a bullet whose nesting is not two spaces a level")
            if level > _MAX_DEPTH:
                raise Unsure("lists nested deeper than this engine takes")
            column = bullet.end() + 1
            if line[column - 1] in _MARKERS and _START.match(line, column - 1) is None:
                raise Unsure("a bullet whose text starts with a block marker")
            depth = level
            text = line[column - 1 :].rstrip(" ")
            span = Span(number, column, number, column + len(text))
            parts.list_items.append(ListItem(text, span, section, depth))
            kind = "bullet"
        elif first == " ":
            raise Unsure("indented text")
        elif first == "#" and (heading := _HEADING.match(line)):
            level = len(heading.group(1))
            text = atx_heading_text(line, heading.end())
            span = Span(number, 1, number, len(line) + 1)
            parts.headings.append(Heading(level, text, span))
            close_sections(sections, open_sections, level, number - 1)
            parent = open_sections[-1] if open_sections else None
            sections.append(Section(text, level, span, number, parent))
            section = len(sections) - 1
            open_sections.append(section)
            depth = 0
            kind = "heading"
        else:
            if first in _MARKERS and _START.match(line) is None:
                raise Unsure("a line that starts with a block marker")
            if not blank and (previous == "bullet" or previous == "text-id"):
                # Text right below a bullet continues its paragraph (lazily), and a block id
                # counts only at the end of its paragraph.
                raise Unsure("text that continues a bullet, or a paragraph past its block id")
            depth = 0
            kind = "text" if ident is None else "text-id"
        if "[" in scan or "]" in scan or "|" in scan or "^" in scan:
            _links(parts, scan, number, section)
        if ident is not None:
            start, end = ident.start(1), ident.end(1)
            parts.block_ids.append(BlockId(ident.group(1), Span(number, start, number, end + 1)))
        previous, blank = kind, False
    close_sections(sections, open_sections, 0, len(lines))
    return parts


def _closes(line: str, fence: tuple[str, int]) -> bool:
    """Whether a line closes the fence: the same character, as many or more, indented <= 3."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3:
        return False
    run = len(stripped) - len(stripped.lstrip(fence[0]))
    return run >= fence[1] and not stripped[run:].strip(" ")


def _masked(line: str) -> str:
    """The line with each code span masked, columns kept; raise for a run left unclosed."""
    if line.lstrip(" ").startswith("```"):
        raise Unsure("a fence in a bullet")
    runs = [(m.start(), m.end()) for m in _CODE_RUN.finditer(line)]
    if not runs:
        return line
    # The run that closes each: the next of the same length (CommonMark), found for all in
    # one pass from the end, not by a search from each opener (quadratic in runs).
    closers: list[int | None] = [None] * len(runs)
    last_of_length: dict[int, int] = {}
    for index in range(len(runs) - 1, -1, -1):
        length = runs[index][1] - runs[index][0]
        closers[index] = last_of_length.get(length)
        last_of_length[length] = index
    pieces: list[str] = []
    done = 0
    index = 0
    while index < len(runs):
        closer = closers[index]
        if closer is None:
            # Closed on a later line of its paragraph, or never: either way not this engine's.
            raise Unsure("a code span not closed on its line")
        start, stop = runs[index][0], runs[closer][1]
        pieces += (line[done:start], _MASK * (stop - start))
        done = stop
        index = closer + 1
    pieces.append(line[done:])
    return "".join(pieces)


def _links(parts: MarkdownParts, scan: str, number: int, section: int | None) -> None:
    """The wikilinks of a line, found where its code is masked (``scan``).

    Raises unless every bracket, ``|`` and ``^`` of ``scan`` stands in a wikilink.
    """
    # Checked for the line, not for each link: a note of a million links spent most of its
    # reading on these tests. Lines hold no whitespace but " " here (the others are refused),
    # so an empty wikilink is "[[ *]]"; a "[[" before a mask is in a link across a code span's
    # edge or in none, and the note is the other engines' either way.
    if _UNSURE_LINK.search(scan) is not None:
        raise Unsure("an empty wikilink, or one across a code span's edge")
    # One split gives the links and the text around them, which must hold no bracket, | or ^:
    # no match object a link, and the columns follow from the lengths.
    pieces = _LINKS.split(scan)
    rest = "".join(pieces[::3])
    if "[" in rest or "]" in rest or "|" in rest or "^" in rest:
        raise Unsure("a bracket, | or ^ outside a wikilink")
    append = parts.links.append
    column = len(pieces[0]) + 1
    for index in range(1, len(pieces), 3):
        embed, inner = pieces[index], pieces[index + 1]
        end = column + len(embed) + len(inner) + 4
        # As wikilink makes its Link: Span's own __new__ is a Python function.
        span = tuple.__new__(Span, (number, column, number, end))
        append(wikilink(inner, embed == "!", span, section, f"{embed}[[{inner}]]"))
        column = end + len(pieces[index + 2])
