"""Which Markdown engine reads a note body: the one place that chooses.

``--parser`` names the engine of a process (:func:`use_parser`); the cache key names it too
(:func:`parser_in_use`), so choosing or naming one imports no engine. :func:`parse_body` runs
the choice: ``markdown-it`` is the reference (:mod:`.reference`); ``pyromark`` is a chain,
fastest first, of engines that give exactly the reference's parts or give up: the line scanner
for plain notes (:mod:`.plain`), pulldown-cmark for the rest (:mod:`.fast`), then the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conceptgraph.note.markdown.parts import MarkdownParts

PARSERS = ("pyromark", "markdown-it")
_parser = {"name": "pyromark"}


def use_parser(name: str) -> None:
    """Choose the Markdown engine of this process (``conceptgraph --parser``)."""
    if name not in PARSERS:
        raise ValueError(f"unknown parser {name!r} (expected one of {', '.join(PARSERS)})")
    _parser["name"] = name


def parser_in_use() -> str:
    """The Markdown engine notes are parsed with: see :func:`parse_body`."""
    return _parser["name"]


def parse_body(body: str, lines: list[str], first_line: int, parser: str) -> MarkdownParts:
    """Parse a note body with the engine ``parser`` names.

    ``lines`` are all the file's lines (normalised line ends) and ``first_line`` the file line
    the body starts on, so every position is counted over the whole file. ``pyromark`` is a
    chain, fastest first: a plain note (headings, paragraphs, bullets) is read line by line,
    others by pulldown-cmark, and what neither can vouch for by the reference.
    """
    if parser == "pyromark":
        for parse_fast, unsure in _fast_engines():
            try:
                return parse_fast(body, lines, first_line)
            except unsure:
                pass
    from conceptgraph.note.markdown.reference import parse_markdown

    return parse_markdown(body, lines, first_line)


FastEngine = tuple[Callable[[str, list[str], int], "MarkdownParts"], type[Exception]]


@cache
def _fast_engines() -> list[FastEngine]:
    """The fast engines and the exception each gives up with, imported once.

    Imported when first used, so that naming the engine (above) loads none. Without pyromark,
    the line scanner alone goes before the reference.
    """
    from conceptgraph.note.markdown import plain

    engines: list[FastEngine] = [(plain.parse_plain, plain.Unsure)]
    try:
        from conceptgraph.note.markdown import fast
    except ImportError:
        return engines
    engines.append((fast.parse_markdown_fast, fast.Unsure))
    return engines
