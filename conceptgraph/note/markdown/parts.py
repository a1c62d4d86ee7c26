"""What every Markdown engine gives (``MarkdownParts``), and the pieces of reading they share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from conceptgraph.model import (
    BlockId,
    Directive,
    Heading,
    Link,
    ListItem,
    Problem,
    Section,
)

if TYPE_CHECKING:
    pass


BLOCK_ID = re.compile(r"(?:^|[ \t])\^([A-Za-z0-9-]+)[ \t]*$")


# Unicode spaces other than space and tab: markdown-it and Python trim them differently, so the
# fast engines leave a note that holds one to the reference.
REFUSED_SPACES = re.compile("[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


# The rule list is bounded so that a comment holding thousands of unclosed directives is
# scanned in linear time: each attempt looks at most that far for its "-->".
_DIRECTIVE = re.compile(
    r"<!--\s*conceptgraph-(disable-next-line|disable-line|disable-file|disable|enable)"
    r"\b([^>]{0,1000}?)\s*-->"
)


@dataclass
class MarkdownParts:
    """What the Markdown engine finds in a note body, positioned in the whole file."""

    headings: list[Heading] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    list_items: list[ListItem] = field(default_factory=list)
    block_ids: list[BlockId] = field(default_factory=list)
    directives: list[Directive] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_directives(parts: MarkdownParts, html: str, line: int) -> None:
    """Record the ``conceptgraph-`` directives of HTML that starts on file line ``line``."""
    if "conceptgraph-" not in html:
        return
    counted = 0
    for match in _DIRECTIVE.finditer(html):
        rules = tuple(r for r in re.split(r"[\s,]+", match.group(2)) if r)
        line += html.count("\n", counted, match.start())
        counted = match.start()
        parts.directives.append(Directive(match.group(1), rules, line))


def close_sections(sections: list[Section], open_sections: list[int], level: int, end: int) -> None:
    """Close the open sections of ``level`` and deeper at file line ``end``."""
    while open_sections and sections[open_sections[-1]].level >= level:
        index = open_sections.pop()
        old = sections[index]
        sections[index] = Section(old.title, old.level, old.span, end, old.parent)
    # Sections nest: any section still open also runs at least to this line.
    for index in open_sections:
        old = sections[index]
        sections[index] = Section(old.title, old.level, old.span, end, old.parent)


def atx_heading_text(source: str, content_start: int) -> str:
    """An ATX heading's text as markdown-it takes it: the closing ``#`` run dropped, trimmed."""
    end = len(source.rstrip(" \t"))
    closing = end
    while closing > content_start and source[closing - 1] == "#":
        closing -= 1
    if closing < end and (closing == content_start or source[closing - 1] in " \t"):
        end = closing
    return source[content_start:end].strip()
