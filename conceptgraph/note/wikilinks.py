"""A markdown-it-py plugin for Obsidian wikilinks ``[[target#sub|text]]`` and embeds ``![[...]]``.

The rule runs in the inline chain, so whatever markdown-it treats as code (code spans, fenced
and indented code), raw HTML (comments included) or math never reaches it: a ``[[link]]`` there
stays text, as in Obsidian. Each token carries its offset in the inline source, so the caller can
give every link an exact line and column.

It also wraps markdown-it's own ``link``, ``image`` and ``html_inline`` rules to record where each
``[text](href)`` (Obsidian indexes Markdown links to notes as links too) and each inline HTML
comment (which may hold a conceptgraph directive) starts.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from conceptgraph.model import Link, LinkKind, Span

if TYPE_CHECKING:  # the fast engine uses this module without markdown-it-py loaded
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline

# No brackets and no line break inside: Obsidian ends a wikilink at the first "]]" on its line,
# and refusing "[" keeps a line of thousands of unclosed "[[" linear instead of quadratic.
WIKILINK = re.compile(r"(!?)\[\[([^\[\]\n]*)\]\]")

InlineRule = Callable[["StateInline", bool], bool]


def wikilinks_plugin(md: MarkdownIt) -> None:
    """Teach ``md`` wikilinks and embeds; give Markdown links, images and inline HTML offsets."""
    md.inline.ruler.before("link", "wikilink", _wikilink)
    for name in ("link", "image", "html_inline"):
        rule = _find_rule(md, name)
        if rule is not None:
            md.inline.ruler.at(name, _with_offset(rule))


def wikilink(inner: str, embed: bool, span: Span, section: int | None, raw: str) -> Link:
    """The record of a ``[[inner]]`` (``![[inner]]`` if ``embed``) of a note's body."""
    target, subpath, display, raw = _read_link(inner, raw)
    # tuple.__new__ straight: a NamedTuple's own __new__ is a Python function, a third of what
    # each link of a note of a million links cost to read.
    fields = (target, subpath, display, embed, LinkKind.WIKI, span, section, raw, None)
    return tuple.__new__(Link, fields)


# A note of a million links names the same few targets over and over: each link read afresh
# kept four strings of its own (half a note's memory) and split them again.
@lru_cache(maxsize=1 << 14)
def _read_link(inner: str, raw: str) -> tuple[str, str | None, str | None, str]:
    target, subpath, display = split_linktext(inner)
    # Links to one note with display texts of their own miss the cache, yet name the same
    # target: one string for it, not one a link (64 bytes each of a note's million links).
    return sys.intern(target), subpath, display, raw


def split_linktext(inner: str) -> tuple[str, str | None, str | None]:
    """Split ``target#subpath|display`` the way Obsidian's ``parseLinktext`` does.

    The first ``|`` ends the link part, unless it is the first character (``[[|x]]`` has no
    display text); in it, the first ``#`` starts the subpath. Both parts are trimmed, and a
    backslash before the ``|`` is the escape Obsidian writes inside tables.
    """
    inner = inner.strip()
    display: str | None = None
    if inner.find("|") > 0:
        inner, display = inner.split("|", 1)
        inner = inner.strip().removesuffix("\\")
        display = display.strip()
    subpath: str | None = None
    if "#" in inner:
        inner, subpath = inner.split("#", 1)
    return inner.strip(), subpath, display


def _wikilink(state: StateInline, silent: bool) -> bool:
    src = state.src
    pos = state.pos
    if not (src.startswith("[[", pos) or src.startswith("![[", pos)):
        return False
    match = WIKILINK.match(src, pos)
    if match is None or not match.group(2).strip():
        return False
    if not silent:
        token = state.push("wikilink", "", 0)
        token.content = match.group(2)
        token.markup = match.group(0)
        token.meta = {"embed": bool(match.group(1)), "pos": pos}
    state.pos = match.end()
    return True


def _find_rule(md: MarkdownIt, name: str) -> InlineRule | None:
    for entry in md.inline.ruler.__rules__:
        if entry.name == name:
            fn: InlineRule = entry.fn
            return fn
    return None


def _with_offset(rule: InlineRule) -> InlineRule:
    def wrapped(state: StateInline, silent: bool) -> bool:
        start = state.pos
        first = len(state.tokens)
        if not rule(state, silent):
            return False
        if not silent:
            # Pending text is flushed as a token first, so look for the link's own token.
            for token in state.tokens[first:]:
                if token.type in ("link_open", "image", "html_inline"):
                    token.meta = {"pos": start, "end": state.pos}
                    break
        return True

    return wrapped
