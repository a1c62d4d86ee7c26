"""Rename as workspace edits: the plans of :mod:`conceptgraph.edit`, in the protocol's form.

A rename at a link renames what it names: the heading or block id of its subpath, else its
note; at a heading, that heading; anywhere else in a note, the note. A file the editor moves
(``workspace/willRenameFiles``) gets the link edits alone: the editor moves it itself. The
plans are made from the vault as the editor has it, unsaved text included, and the edits
count in that text; nothing is written here.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from lsprotocol import types
from pygls.workspace import PositionCodec

from conceptgraph.edit import Plan, plan_move, plan_moves, plan_rename_block, plan_rename_heading
from conceptgraph.errors import UsageError
from conceptgraph.lsp.navigation import heading_at, link_at
from conceptgraph.lsp.positions import Lines
from conceptgraph.lsp.workspace import Workspace
from conceptgraph.model import Span, name_of
from conceptgraph.vault.discovery import NOTE_SUFFIX


def plan_rename(ws: Workspace, path: str, line: int, column: int, new: str) -> Plan:
    """The plan of a rename asked for at a position (1-based line, code-point column)."""
    vault = ws.vault
    note = vault.notes[path]
    link = link_at(note, line, column)
    if link is not None:
        target = vault.resolve(link, path).path
        if target is None:
            raise UsageError(f"link target {link.target!r} matches no note or file")
        parts = [p for p in (link.subpath or "").split("#") if p]
        if parts and parts[-1].startswith("^"):
            return plan_rename_block(vault, target, parts[-1], new)
        if parts:
            return plan_rename_heading(vault, target, parts[-1], new)
        return plan_move(vault, target, _renamed(target, new))
    heading = heading_at(note, line)
    if heading is not None:
        return plan_rename_heading(vault, path, heading.text, new)
    return plan_move(vault, path, _renamed(path, new))


def prepare(ws: Workspace, path: str, line: int, column: int) -> tuple[Span, str]:
    """What a rename at a position would rename: where it is written, and its name now."""
    note = ws.vault.notes[path]
    link = link_at(note, line, column)
    if link is not None:
        parts = [p for p in (link.subpath or "").split("#") if p]
        if parts:
            return link.span, parts[-1].removeprefix("^")
        target = ws.vault.resolve(link, path).path
        return link.span, name_of(target) if target is not None else link.target
    heading = heading_at(note, line)
    if heading is not None:
        return heading.span, heading.text
    return Span.point(line, column), name_of(path)


def _renamed(path: str, name: str) -> str:
    """The path of a note renamed to ``name``, in its folder (``.md`` added)."""
    name = name.strip()
    if not name.lower().endswith(NOTE_SUFFIX):
        name += NOTE_SUFFIX
    return posixpath.join(posixpath.dirname(path), name)


def workspace_edit(
    plan: Plan,
    uri_of: Callable[[str], str],
    codec: PositionCodec,
    versions: Callable[[str], int | None],
    *,
    moves: bool = True,
) -> types.WorkspaceEdit:
    """A plan as a workspace edit: each file's text edits, then its moves (unless ``moves``)."""
    changes: list[
        types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile
    ] = []
    for path in plan.files:
        lines = Lines(plan.texts[path], codec)
        uri = uri_of(path)
        edits: list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit] = [
            types.TextEdit(range=lines.range(edit.span), new_text=edit.new_text)
            for edit in sorted(plan.edits, key=lambda e: e.start)
            if edit.path == path
        ]
        changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri, version=versions(uri)
                ),
                edits=edits,
            )
        )
    if moves:
        # A folder moves as one rename; the files in it go with it.
        inside = tuple(f"{folder.old}/" for folder in plan.folders)
        singles = [m for m in plan.moves if not m.old.startswith(inside)] if inside else plan.moves
        for move in (*plan.folders, *singles):
            changes.append(types.RenameFile(old_uri=uri_of(move.old), new_uri=uri_of(move.new)))
    return types.WorkspaceEdit(document_changes=changes)


def plan_file_moves(ws: Workspace, moves: list[tuple[str, str]]) -> Plan:
    """The plan of files (vault paths) the editor is about to move."""
    return plan_moves(ws.vault, moves)
