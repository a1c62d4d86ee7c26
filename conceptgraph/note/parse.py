"""One file's bytes -> ``NoteRecord``: decoding, frontmatter, then the Markdown body.

The steps do not depend on which Markdown engine reads the body: see
:mod:`conceptgraph.note.markdown.engine`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from conceptgraph.model import (
    Link,
    LinkKind,
    NoteRecord,
    Problem,
    ProblemKind,
    Span,
    split_lines,
)
from conceptgraph.note import frontmatter
from conceptgraph.note.markdown.engine import parser_in_use
from conceptgraph.note.wikilinks import split_linktext

if TYPE_CHECKING:
    pass

from conceptgraph.note.decode import decode
from conceptgraph.note.markdown.engine import parse_body

_FRONTMATTER_LINK = re.compile(r"\[\[([^\[\]\n]+)\]\]")


def parse_note(path: str, data: bytes, parser: str | None = None) -> NoteRecord:
    """Read one file's bytes into a record; problems are recorded, never raised.

    ``parser`` names the Markdown engine (default: :func:`parser_in_use`): ``markdown-it``
    (markdown-it-py, the reference) or ``pyromark`` (pulldown-cmark, faster, which hands every
    note it cannot vouch for to the reference, so both give the same records).
    """
    parser = parser or parser_in_use()
    digest = content_digest(data)
    text, problems = decode(data)
    if text is None:
        return NoteRecord(
            path=path, text="", problems=tuple(problems), decoded=False, digest=digest
        )
    lines = split_lines(text)
    parts = frontmatter.split(lines)
    meta = None
    links: list[Link] = []
    if parts.yaml_text is not None:
        meta, yaml_problems = frontmatter.load(parts.yaml_text, parts.body_line - 1)
        problems.extend(yaml_problems)
        if meta is not None and "[[" in parts.yaml_text:
            links.extend(_frontmatter_links(parts.yaml_text))
    elif not parts.closed:
        message = "frontmatter opened with '---' on line 1 is never closed"
        problems.append(Problem(ProblemKind.YAML_UNCLOSED, Span(1, 1, 1, 4), message))
    body = parse_body(parts.body, lines, parts.body_line, parser)
    # The body's copy of the text and the lines go before the links are put in a tuple: at
    # that moment a note of a million links holds the most.
    del parts, lines
    problems.extend(body.problems)
    return NoteRecord(
        path=path,
        text=text,
        frontmatter=meta,
        headings=tuple(body.headings),
        sections=tuple(body.sections),
        links=(*links, *body.links) if links else tuple(body.links),
        list_items=tuple(body.list_items),
        block_ids=tuple(body.block_ids),
        problems=tuple(problems),
        directives=tuple(body.directives),
        digest=digest,
    )


def content_digest(data: bytes) -> bytes:
    """The hash records carry of the bytes they were read from."""
    return hashlib.blake2b(data, digest_size=16).digest()


def _frontmatter_links(yaml_text: str) -> Iterator[Link]:
    """Property values that are wholly ``"[[target]]"``, which Obsidian indexes as links."""
    for key, value, span in frontmatter.string_values(yaml_text):
        match = _FRONTMATTER_LINK.fullmatch(value.strip())
        if match is None:
            continue
        target, subpath, display = split_linktext(match.group(1))
        yield Link(
            target=target,
            subpath=subpath,
            display=display,
            embed=False,
            kind=LinkKind.FRONTMATTER,
            span=span,
            section=None,
            raw=match.group(0),
            frontmatter_key=key,
        )
