"""Which Markdown engine this process parses notes with.

Kept apart from the engines themselves, so that choosing one (``--parser``) or naming it (in
the cache key) imports neither.
"""

from __future__ import annotations

PARSERS = ("pyromark", "markdown-it")
_parser = {"name": "pyromark"}


def use_parser(name: str) -> None:
    """Choose the Markdown engine of this process (``conceptgraph --parser``)."""
    if name not in PARSERS:
        raise ValueError(f"unknown parser {name!r} (expected one of {', '.join(PARSERS)})")
    _parser["name"] = name


def parser_in_use() -> str:
    """The Markdown engine notes are parsed with: see :func:`conceptgraph.parse.parse_note`."""
    return _parser["name"]
