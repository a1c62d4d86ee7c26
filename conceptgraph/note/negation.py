"""Reading the items of a "What this is NOT" section: which concept each one rules out.

Items read ``Not a rename (why).``, ``Not rollback (why).`` or ``Not [[convergence]] (why).``:
"Not", an optional article, the concept's name in plain words or as a link, then the reason.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from conceptgraph.model import Link, ListItem, NoteRecord
from conceptgraph.names import strip_comments

# "Not", perhaps an article. What follows is read by _split_item, not by one regex: a pattern
# whose lazy name is tried at every length against a greedy "(why)" backtracks quadratically
# (68 s for one long item of "(why) x" repeated).
_PREFIX = re.compile(r"\s*not\s+(?:(?:a|an|the)\s+)?", re.IGNORECASE)
# Where the concept's name can end: a reason in parentheses, after a mark, or a full stop.
_ENDS = re.compile("[(.:;,—–-]")


def _split_item(text: str) -> tuple[str, str | None, str | None] | None:
    """An item's name, reason in parentheses and reason after a mark; None unless "Not ...".

    ``text`` is stripped. The name is as few characters as will do (at least one), followed by
    ``(why)`` closed by the last ``)`` (a full stop may follow), by one of ``.:;,—–-`` and a
    space then the reason, by a lone full stop, or by nothing; tried in that order.
    Each candidate end is looked at once, so the item is read in linear time.
    """
    prefix = _PREFIX.match(text)
    if prefix is None or prefix.end() >= len(text):
        return None
    start = prefix.end()
    last = len(text) - 1
    # The one ")" a "(why)" can close with: the last, with at most a full stop after it.
    closing = text[:-1].rstrip() if text.endswith(".") else text
    close = len(closing) - 1 if closing.endswith(")") else -1
    for mark in _ENDS.finditer(text, start + 1):
        at = mark.start()
        if text[at] == "(":
            if close > at:
                return _name(text, start, at), text[at + 1 : close], None
        elif at < last and text[at + 1].isspace():
            return _name(text, start, at), None, text[at + 1 :].lstrip()
        elif at == last and text[at] == ".":
            return _name(text, start, at), None, None
    return text[start:], None, None


def _name(text: str, start: int, end: int) -> str:
    """The name from ``start`` up to the spaces before ``end``, at least one character long."""
    return text[start : max(start + 1, len(text[:end].rstrip()))]


class Negation(NamedTuple):
    """One item of a negation section: the concept named, and the link when it is written as one."""

    item: ListItem
    name: str | None
    reason: str | None
    link: Link | None


def read_negation(item: ListItem, link: Link | None) -> Negation:
    """The concept a "Not ..." item names; ``name`` is None when the item is not of that form.

    ``link`` is the first link on the item's line, if any.
    """
    text = strip_comments(item.text).strip()
    found = _split_item(text)
    if found is None:
        return Negation(item, None, None, link)
    name = found[0].strip()
    reason = found[1] or found[2]
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
    # The first link of each line, found at once: a section of thousands of items, each with
    # its link, made looking through every link for each item quadratic.
    first: dict[int, Link] = {}
    for link in note.links:
        if link.section in section_indexes:
            first.setdefault(link.span.line, link)
    return [read_negation(item, first.get(item.span.line)) for item in items]
