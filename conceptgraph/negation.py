"""Reading the items of a "What this is NOT" section: which concept each one rules out.

Items read ``Not a rename (why).``, ``Not rollback (why).`` or ``Not [[convergence]] (why).``:
"Not", an optional article, the concept's name in plain words or as a link, then the reason.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from conceptgraph.model import Link, ListItem, NoteRecord
from conceptgraph.names import strip_comments

_ITEM = re.compile(
    r"""^\s*not\s+(?:(?:a|an|the)\s+)?      # "Not", perhaps an article
        (?P<name>.+?)\s*                     # the concept, as few words as will do
        (?:\((?P<why>.*)\)\s*\.?            # "(why)." ...
          |[.:;,—–-]\s+(?P<rest>.*)          # ... or ": why" ...
          |\.)?\s*$                          # ... or nothing but a full stop
    """,
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)


class Negation(NamedTuple):
    """One item of a negation section: the concept named, and the link when it is written as one."""

    item: ListItem
    name: str | None
    reason: str | None
    link: Link | None


def read_negation(item: ListItem, links: list[Link]) -> Negation:
    """The concept a "Not ..." item names; ``name`` is None when the item is not of that form."""
    text = strip_comments(item.text).strip()
    link = next((lk for lk in links if lk.span.line == item.span.line), None)
    match = _ITEM.match(text)
    if match is None:
        return Negation(item, None, None, link)
    name = match.group("name").strip()
    reason = match.group("why") or match.group("rest")
    if link is not None:
        name = link.target
    elif name.startswith("[[") and name.endswith("]]"):
        name = name[2:-2].split("|", 1)[0]
    return Negation(item, name or None, reason.strip() if reason else None, link)


def negations(note: NoteRecord, section_indexes: set[int]) -> list[Negation]:
    """The top-level items of the given negation sections of a note."""
    items = [
        item for item in note.list_items if item.section in section_indexes and item.depth == 1
    ]
    links = [link for link in note.links if link.section in section_indexes]
    return [read_negation(item, links) for item in items]
