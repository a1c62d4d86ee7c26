"""A query block's results as a Markdown table: ``<!-- conceptgraph:query -->`` in ``render``.

The query is the block's ``sparql`` code block, run the way ``conceptgraph query`` runs one
(``api.query_vault``: refused before anything runs if it could reach the network or write,
answered from the vault's kept copy of its triples when that is current). Its results go
below the code block as a table: a note or attachment of the vault as a ``[[link]]`` to it,
any other IRI as a prefixed name in code, a literal as its text with everything Markdown would
read as markup escaped, so that no value of a note can break the table, the block or the page.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pyoxigraph as ox

from conceptgraph.api import query_vault
from conceptgraph.config import load_config
from conceptgraph.errors import QueryError
from conceptgraph.rdf.sparql import QueryResult, compact_iri, is_ordered
from conceptgraph.rdf.triples import default_base, resource_iris
from conceptgraph.vault.discovery import discover, is_note_path

# Every ASCII punctuation mark CommonMark, GFM tables or Obsidian give a meaning to (links,
# emphasis, code, HTML, the table's own bars, highlights, comments, math, block ids); a
# backslash before any ASCII punctuation shows it as itself.
_MARKUP = re.compile(r"([\\`*_\[\]<>|~&$%=^!#{}])")
_LINE_END = re.compile(r"\r\n|\r|\n")
_SOURCE_AT = re.compile(r"(\d+):(\d+): (.*)", re.DOTALL)
# What a file name may not hold to be written as a [[link]]: it would end or split the link.
_NOT_IN_LINK = re.compile(r"[\[\]|#^\r\n]")


def escape_cell(text: str) -> str:
    """Text as one table cell shows it: markup escaped, line ends as ``<br>``, tabs as spaces."""
    escaped = _MARKUP.sub(r"\\\1", text.replace("\t", " "))
    return _LINE_END.sub("<br>", escaped)


def _code(text: str) -> str:
    # A code span cannot escape a backtick or a bar: what holds one is shown as text instead.
    if "`" in text or "|" in text or _LINE_END.search(text):
        return escape_cell(text)
    return f"`{text}`"


def link_names(root: Path, base: str) -> dict[str, str]:
    """What a ``[[link]]`` to each file of the vault says, by the file's IRI.

    The file name (a note's without ``.md``) where no other file has it, else the vault path:
    Obsidian's own choice of the shortest text that finds the file.
    """
    files = discover(root, load_config(root)).files
    iris = resource_iris(base, files)

    def name(path: str) -> str:
        return path[:-3] if is_note_path(path) else path

    folds = Counter(name(path).rsplit("/", 1)[-1].casefold() for path in files)
    names: dict[str, str] = {}
    for path, iri in iris.items():
        whole = name(path)
        short = whole.rsplit("/", 1)[-1]
        names[iri] = short if folds[short.casefold()] == 1 else whole
    return names


def cell(term: object, links: Mapping[str, str], prefixes: Mapping[str, str]) -> str:
    """One value of a solution as a table cell."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        name = links.get(term.value)
        if name is not None and not _NOT_IN_LINK.search(name):
            return f"[[{name}]]"
        return _code(compact_iri(term.value, prefixes))
    if isinstance(term, ox.Literal):
        return escape_cell(term.value)
    if isinstance(term, ox.BlankNode):
        return _code(f"_:{term.value}")
    return escape_cell(str(term))


def table(found: QueryResult, links: Mapping[str, str], ordered: bool) -> list[str]:
    """The lines of a result's table; rows sorted by their text unless the query orders them.

    Without ``ORDER BY`` the engine's order is its own, and may differ between the kept copy
    and a store made afresh: a block would look stale with nothing changed.
    """
    result = found.result
    if isinstance(result, ox.QueryBoolean):
        return ["| ASK |", "| --- |", f"| {'true' if bool(result) else 'false'} |"]
    if not isinstance(result, ox.QuerySolutions):
        raise QueryError("a query block shows SELECT or ASK results, not a graph")
    names = [variable.value for variable in result.variables]
    rows = [[cell(solution[name], links, found.prefixes) for name in names] for solution in result]
    if not ordered:
        rows.sort()
    if not names:
        return ["| (no variables) |", "| --- |"]
    return [
        "| " + " | ".join(escape_cell(name) for name in names) + " |",
        "|" + " --- |" * len(names),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def query_block(root: Path, query: str, first_line: int, path: Path) -> list[str]:
    """The table of a block's query (its first line ``first_line`` of ``path``, 1-based).

    A refused query or a syntax error is a ``QueryError`` naming the line of ``path``.
    """
    base = default_base(root)
    # Blank lines before the query: the engine's own line numbers are then the file's.
    text = "\n" * (first_line - 1) + query
    try:
        found = query_vault(root, text, source=str(path))
    except QueryError as exc:
        raise _in_file(exc, path, first_line) from None
    return table(found, link_names(root, base), is_ordered(text))


def _in_file(exc: QueryError, path: Path, line: int) -> QueryError:
    """The error with the file and line as its place, not as part of its message."""
    rest = exc.message.removeprefix(f"{path}").removeprefix(":")
    match = _SOURCE_AT.fullmatch(rest)
    if match is None:
        return QueryError(rest.strip(), str(path), line)
    return QueryError(f"{match.group(3)} (column {match.group(2)})", str(path), int(match.group(1)))
