"""A ``.canvas`` file's bytes -> a record of the links its nodes make (JSON Canvas 1.0).

Obsidian's canvases are JSON: ``{"nodes": [...], "edges": [...]}``. A node of type ``file``
names a vault file by its path (``"file": "notes/a.md"``, optionally ``"subpath": "#H"``);
a ``text`` node holds Markdown, whose ``[[wikilinks]]`` Obsidian follows. Both become links
of kind ``canvas``, placed at the node's ``{`` in the file, so that rules (broken-link,
orphan-note) and the graph treat them as they treat a note's links. ``link`` nodes (URLs) and
groups name no vault file. The record has no text: no rule about prose applies to JSON.
A file that is not a canvas (not JSON, not an object, nodes not a list) is a record of that
problem (``invalid-canvas``), never an exception.
"""

from __future__ import annotations

import bisect
import json
import re

from conceptgraph.model import LINE_BREAK, Link, LinkKind, NoteRecord, Problem, ProblemKind, Span
from conceptgraph.note.decode import decode
from conceptgraph.note.wikilinks import split_linktext
from conceptgraph.vault.discovery import is_canvas_path

__all__ = ["is_canvas_path", "node_offsets", "parse_canvas"]

# A JSON string or one structural character: what the node finder needs to see, and no more.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]', re.DOTALL)
_WIKILINK = re.compile(r"(!?)\[\[([^\[\]\n]+)\]\]")


def node_offsets(text: str) -> list[int]:
    """Where each element of the top-level ``"nodes"`` array opens, in a valid JSON text.

    One pass over the strings and brackets (``json`` keeps no positions); of repeated
    ``"nodes"`` keys the last, as ``json.loads`` keeps it.
    """
    found: list[int] = []
    current: list[int] | None = None
    stack: list[str] = []  # "{" or "[" for each open container
    key: str | None = None  # the last string read at depth 1, a key or a value
    in_nodes = False
    for token in _TOKEN.finditer(text):
        kind = token.group()
        if kind[0] == '"':
            if len(stack) == 1:
                key = kind
            continue
        if kind == ":":
            continue
        if kind in "{[":
            if len(stack) == 1 and kind == "[" and key == '"nodes"':
                current, in_nodes = [], True
            elif in_nodes and len(stack) == 2 and kind == "{" and current is not None:
                current.append(token.start())
            stack.append(kind)
        elif kind in "}]":
            stack.pop()
            if in_nodes and len(stack) == 1:
                in_nodes = False
                found = current or []
        elif kind == "," and len(stack) == 1:
            key = None
    return found


def _span(starts: list[int], offset: int) -> Span:
    line = bisect.bisect_right(starts, offset)
    return Span.point(line, offset - starts[line - 1] + 1)


def parse_canvas(path: str, data: bytes, digest: bytes) -> NoteRecord:
    """The record of a canvas file: its nodes' links, or the problem that keeps it unread."""
    text, problems = decode(data)
    if text is None:
        return NoteRecord(
            path=path, text="", problems=tuple(problems), decoded=False, digest=digest
        )

    def invalid(span: Span, why: str) -> NoteRecord:
        problem = Problem(ProblemKind.CANVAS, span, f"not a JSON Canvas: {why}")
        return NoteRecord(path=path, text="", problems=(problem,), digest=digest)

    try:
        canvas = json.loads(text)
    except json.JSONDecodeError as exc:
        return invalid(Span.point(exc.lineno, exc.colno), exc.msg)
    except RecursionError:
        return invalid(Span.point(1), "nested too deeply")
    if not isinstance(canvas, dict):
        return invalid(Span.point(1), "the file is not a JSON object")
    nodes = canvas.get("nodes", [])
    if not isinstance(nodes, list):
        return invalid(Span.point(1), '"nodes" is not a list')
    starts = [0] + [m.end() for m in LINE_BREAK.finditer(text)]
    offsets = node_offsets(text)
    links: list[Link] = []
    for index, node in enumerate(nodes):
        if not isinstance(node, dict) or index >= len(offsets):
            continue
        span = _span(starts, offsets[index])
        links.extend(_node_links(node, span))
    return NoteRecord(
        path=path, text="", links=tuple(links), problems=tuple(problems), digest=digest
    )


def _node_links(node: dict[str, object], span: Span) -> list[Link]:
    kind = node.get("type")
    if kind == "file":
        target = node.get("file")
        if not isinstance(target, str) or not target.strip():
            return []
        subpath = node.get("subpath")
        sub = subpath.lstrip("#") if isinstance(subpath, str) and subpath.lstrip("#") else None
        return [Link(target.strip(), sub, None, False, LinkKind.CANVAS, span, None, target)]
    if kind == "text":
        text = node.get("text")
        if not isinstance(text, str) or "[[" not in text:
            return []
        links = []
        for match in _WIKILINK.finditer(text):
            target, sub, display = split_linktext(match.group(2))
            embed = bool(match.group(1))
            raw = match.group()
            links.append(Link(target, sub, display, embed, LinkKind.CANVAS, span, None, raw))
        return links
    return []
