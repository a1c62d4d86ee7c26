"""Diagram and query blocks in Markdown files, kept current: ``conceptgraph render FILE...``.

A block is two HTML comments; everything between them belongs to conceptgraph::

    <!-- conceptgraph:diagram focus=migration depth=1 -->
    ```mermaid
    ...
    ```
    <!-- /conceptgraph -->

Rendering replaces the lines between the markers with the Mermaid export the opening marker
asks for (``focus``, ``depth``, ``kinds``, and ``vault``, a folder relative to the file, within
the file's repository) and
leaves every other byte of the file as it was. Markers inside code blocks are text, not
blocks. The vault is ``vault=`` when given, else ``--vault``, else the vault the file is in
(the nearest folder above it with ``.obsidian/``, ``conceptgraph.toml`` or ``.git``).

A query block holds a ``sparql`` code block, which is the user's and stays as written; the
lines after it, up to the closing marker, are the query's results as a table
(``conceptgraph.export.querytable``)::

    <!-- conceptgraph:query vault=notes -->
    ```sparql
    SELECT ?note ?label WHERE { ?note skos:prefLabel ?label }
    ```
    <!-- /conceptgraph -->
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from markdown_it import MarkdownIt

from conceptgraph.api import find_vault_root, open_vault
from conceptgraph.atomic import sweep_folder
from conceptgraph.boundary import is_within
from conceptgraph.errors import ConceptgraphError, UsageError
from conceptgraph.export import ExportOptions, export
from conceptgraph.guard import CHANGED, Guard
from conceptgraph.model import split_lines
from conceptgraph.vault.load import Vault

_OPEN = re.compile(
    r"(?P<prefix>[ \t]*(?:>[ \t]?)*)<!--[ \t]*conceptgraph:(?P<kind>diagram|query)"
    r"(?P<args>(?:[ \t][^\n]*?)?)[ \t]*-->[ \t]*"
)
_CLOSE = re.compile(r"[ \t]*(?:>[ \t]?)*<!--[ \t]*/conceptgraph[ \t]*-->[ \t]*")
OPTIONS = ("focus", "depth", "kinds", "vault")
_KIND_OPTIONS = {"diagram": OPTIONS, "query": ("vault",)}
_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Block:
    """One block: its marker lines (0-based) and what its opening marker asks for."""

    start: int  # the opening marker's line
    end: int  # the closing marker's line
    prefix: str  # what stands before the marker (indent, ``>`` of a blockquote)
    options: dict[str, str]
    kind: str = "diagram"
    # A query block's ``sparql`` code block: its first line and the line after it, its text.
    query: tuple[int, int, str] | None = None


@dataclass(frozen=True, slots=True)
class FileRender:
    """A file's diagram blocks: how many, which (by opening line, 1-based) were out of date."""

    path: Path
    blocks: int
    stale: tuple[int, ...] = ()
    written: bool = False
    skipped: str | None = None  # why a stale file was not written


@dataclass(frozen=True, slots=True)
class RenderResult:
    """Every file of one run."""

    files: list[FileRender] = field(default_factory=list)

    @property
    def stale(self) -> list[FileRender]:
        """The files with a block that was (or, with --check, is) out of date."""
        return [f for f in self.files if f.stale]


def find_blocks(text: str, path: Path) -> list[Block]:
    """The blocks of a Markdown text; a ``UsageError`` for unbalanced markers."""
    lines = split_lines(text)
    blocks: list[Block] = []
    opened: tuple[int, re.Match[str]] | None = None
    query: tuple[int, int, str] | None = None
    for token in MarkdownIt("commonmark").parse(text):
        if token.map is None:
            continue
        if token.type == "fence" and opened is not None and query is None:
            if opened[1].group("kind") == "query" and token.info.strip().lower() == "sparql":
                query = (token.map[0], token.map[1], token.content)
            continue
        if token.type != "html_block":
            continue
        number = token.map[0]
        line = lines[number]
        if match := _OPEN.fullmatch(line):
            if opened is not None:
                kind = opened[1].group("kind")
                raise UsageError(
                    f"{kind} block opened at line {opened[0] + 1} is not closed before this one",
                    str(path),
                    number + 1,
                )
            opened, query = (number, match), None
        elif _CLOSE.fullmatch(line):
            if opened is None:
                raise UsageError(
                    "<!-- /conceptgraph --> closes no diagram block", str(path), number + 1
                )
            start, found = opened
            kind = found.group("kind")
            options = _options(found.group("args"), kind, path, start + 1)
            if kind == "query" and query is None:
                raise UsageError(
                    "query block holds no ```sparql code block: write the query in one",
                    str(path),
                    start + 1,
                )
            blocks.append(Block(start, number, found.group("prefix"), options, kind, query))
            opened = None
    if opened is not None:
        kind = opened[1].group("kind")
        raise UsageError(
            f"{kind} block has no closing <!-- /conceptgraph -->", str(path), opened[0] + 1
        )
    return blocks


def _options(args: str, kind: str, path: Path, line: int) -> dict[str, str]:
    try:
        words = shlex.split(args)
    except ValueError as exc:
        raise UsageError(f"{kind} options: {exc}", str(path), line) from exc
    options: dict[str, str] = {}
    allowed = _KIND_OPTIONS[kind]
    for word in words:
        key, equals, value = word.partition("=")
        if not equals or key not in allowed:
            known = ", ".join(f"{name}=" for name in allowed)
            raise UsageError(f"unknown {kind} option {word!r} (known: {known})", str(path), line)
        options[key] = value
    return options


def export_options(block: Block, path: Path) -> ExportOptions:
    """What a block's opening marker asks of the Mermaid export."""
    depth = block.options.get("depth", "1")
    if not depth.isdigit():
        raise UsageError(f"depth must be a whole number, not {depth!r}", str(path), block.start + 1)
    kinds = block.options.get("kinds")
    return ExportOptions(
        focus=block.options.get("focus") or None,
        depth=int(depth),
        kinds=tuple(k.strip() for k in kinds.split(",") if k.strip()) if kinds else None,
    )


def repository_of(path: Path) -> Path:
    """The repository a document is in: the nearest folder above it with ``.git``.

    A document in no repository has its own folder. A ``vault=`` of a block must lie within:
    a document from elsewhere (a pull request, a download) cannot draw what lies outside the
    repository into it.
    """
    folder = path.resolve().parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


class _Vaults:
    """Each vault loaded once per run, however many blocks draw from it."""

    def __init__(self, default: Path | None) -> None:
        self.default = default
        self.loaded: dict[Path, Vault] = {}

    def of(self, block: Block, path: Path) -> Vault:
        root = self.root(block, path)
        if root not in self.loaded:
            try:
                self.loaded[root] = open_vault(root)
            except UsageError as exc:
                raise UsageError(exc.message, str(path), block.start + 1) from exc
        return self.loaded[root]

    def root(self, block: Block, path: Path) -> Path:
        """The folder of the vault a block draws from."""
        named = block.options.get("vault")
        if named:
            root = (path.parent / named).resolve()
            repository = repository_of(path)
            if not is_within(str(root), str(repository)):
                raise UsageError(
                    f"vault={named} leads out of the document's repository ({repository}):"
                    " a block draws only from a vault inside it; name another with --vault",
                    str(path),
                    block.start + 1,
                )
        elif self.default is not None:
            root = self.default.resolve()
        else:
            root = find_vault_root(path)
        if not root.is_dir():
            raise UsageError(f"not a vault folder: {root}", str(path), block.start + 1)
        return root


def render_text(text: str, path: Path, vaults: _Vaults) -> tuple[str, list[int], int]:
    """The text with every block filled in; the opening lines (1-based) of those that changed."""
    body = text.removeprefix(_BOM)
    blocks = find_blocks(body, path)
    if not blocks:
        return text, [], 0
    pieces = re.split(r"(\r\n|\r|\n)", body)
    lines, ends = pieces[0::2], [*pieces[1::2], ""]
    newline = ends[0] or "\n"
    stale: list[int] = []
    for block in reversed(blocks):
        first = block.start + 1  # the first line that conceptgraph writes
        try:
            if block.query is not None:
                first = block.query[1]
                fresh = ["", *_query_table(vaults.root(block, path), block, path), ""]
            else:
                diagram = export(vaults.of(block, path), "mermaid", export_options(block, path))
                fresh = ["```mermaid", *diagram.decode("utf-8").splitlines(), "```"]
        except ConceptgraphError as exc:
            if exc.path is not None:
                raise
            raise UsageError(exc.message, str(path), block.start + 1) from exc
        fresh = [
            (block.prefix + line).rstrip() if line else block.prefix.rstrip() for line in fresh
        ]
        if lines[first : block.end] != fresh:
            stale.append(block.start + 1)
            lines[first : block.end] = fresh
            ends[first : block.end] = [newline] * len(fresh)
    new_body = "".join(line + end for line, end in zip(lines, ends, strict=True))
    bom = _BOM if text.startswith(_BOM) else ""
    return bom + new_body, sorted(stale), len(blocks)


def _query_table(root: Path, block: Block, path: Path) -> list[str]:
    """The table of a query block's results."""
    from conceptgraph.export.querytable import query_block as table

    assert block.query is not None
    start, _, text = block.query
    return table(root, text, start + 2, path)


def render_files(
    paths: Sequence[Path], vault: Path | None = None, check: bool = False
) -> RenderResult:
    """Fill the diagram blocks of Markdown files; with ``check``, only say which are stale.

    Each file is written atomically, and only when a block changed. A file whose bytes changed
    on disk while it was being rendered is left alone and reported; one another program wrote
    at the moment it was replaced gets that program's bytes back (``conceptgraph.guard``).
    """
    vaults = _Vaults(vault)
    result = RenderResult()
    with Guard() as guard:
        for path in paths:
            result.files.append(_render_file(path, vaults, check, guard))
    for number, done in enumerate(result.files):
        reason = guard.refused.get(done.path)
        if reason is not None:
            result.files[number] = replace(done, written=False, skipped=reason)
    return result


def _render_file(path: Path, vaults: _Vaults, check: bool, guard: Guard) -> FileRender:
    # Files rendered need not be in a vault: the temp files a killed render left beside
    # them are looked for here, even by --check.
    sweep_folder(path.parent)
    raw = _read(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"not UTF-8 text (byte {exc.start})", str(path)) from exc
    new, stale, count = render_text(text, path, vaults)
    if not stale or check:
        return FileRender(path, count, tuple(stale))
    try:
        skipped = guard.replace(path, raw, new.encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot write: {exc.strerror or exc}", str(path)) from exc
    if skipped == CHANGED:
        skipped = "changed on disk while it was rendered; run again"
    return FileRender(path, count, tuple(stale), written=skipped is None, skipped=skipped)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror or exc}", str(path)) from exc
