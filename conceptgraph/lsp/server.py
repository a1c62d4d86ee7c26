"""``conceptgraph server``: the protocol (pygls) wired to the workspace and its answers.

Each note opened belongs to the vault ``find_vault_root`` gives it (the one ``conceptgraph
lint FILE`` would use), loaded on first use; or to the one vault named on the command line.
Edits are checked after a pause in typing (``DEBOUNCE``): the edited note first, its
diagnostics pushed at once, then the notes the edit may have changed elsewhere, in slices
that give way to the next edit, and the vault rules; every note whose diagnostics changed is
pushed again, open or not.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from conceptgraph import __version__
from conceptgraph.api import find_vault_root
from conceptgraph.errors import ConceptgraphError
from conceptgraph.lsp import actions, completion, navigation, rename
from conceptgraph.lsp.diagnostics import diagnostic, diagnostics
from conceptgraph.lsp.positions import Lines
from conceptgraph.lsp.workspace import Update, Workspace
from conceptgraph.model import Finding, Severity, Span
from conceptgraph.vault.discovery import is_note_path

# Seconds without a keystroke before an edit is checked.
DEBOUNCE = 0.15
# Notes checked between two looks at whether the user typed again.
_SLICE = 50


class ConceptgraphServer(LanguageServer):
    """The server's state: the vaults, and what is left to check."""

    def __init__(self, vault: Path | None = None, debounce: float = DEBOUNCE) -> None:
        super().__init__("conceptgraph", __version__)
        self.fixed_root = vault.resolve() if vault is not None else None
        self.debounce = debounce
        self.vaults: dict[Path, Workspace] = {}
        self.published: dict[tuple[Path, str], list[tuple[Finding, Severity, str, int, int]]] = {}
        # A pending check, by URI: its timer, and what it will check.
        self._timers: dict[str, tuple[asyncio.TimerHandle, Workspace, str, str | None]] = {}
        self._pending: dict[Path, tuple[set[str], bool]] = {}
        self._draining: asyncio.Task[None] | None = None

    # -- vaults and documents

    def vault_of(self, uri: str) -> tuple[Workspace, str] | None:
        """The workspace a document belongs to and its vault path; None for no note of one."""
        fs = to_fs_path(uri)
        if fs is None or not is_note_path(fs):
            return None
        file = Path(fs)
        root = self.fixed_root or find_vault_root(file)
        ws = self.vaults.get(root)
        if ws is None:
            try:
                ws = self.vaults[root] = Workspace(root)
            except ConceptgraphError as exc:
                self.window_show_message(
                    types.ShowMessageParams(type=types.MessageType.Error, message=str(exc))
                )
                return None
            self._settle_later(ws)
        path = ws.path_of(file)
        if path is None and file.exists():
            # A note made since the vault was loaded (by "create the missing note", say).
            self.refile(ws)
            path = ws.path_of(file)
        return (ws, path) if path is not None else None

    def _settle_later(self, ws: Workspace) -> None:
        """Push a vault's diagnostics and read it whole, once the request at hand is answered.

        The note the editor opened first: its diagnostics need none of it.
        """

        def settle() -> None:
            self.publish_all(ws)
            ws.warm()

        try:
            asyncio.get_running_loop().call_soon(settle)
        except RuntimeError:
            settle()

    def lines(self, ws: Workspace, path: str) -> Lines:
        """The note's text as the editor has it, to place positions in."""
        return Lines(ws.text(path), self.workspace.position_codec)

    def uri(self, ws: Workspace, path: str) -> str:
        """The URI of a note of a vault."""
        return from_fs_path(str(ws.vault.disk_path(path))) or ""

    def publish(self, ws: Workspace, path: str, force: bool = False) -> None:
        """Push a note's diagnostics, if they differ from those pushed last."""
        found = ws.findings(path)
        uri = self.uri(ws, path)
        # Findings compare by place and rule alone; a diagnostic shows the rest too.
        shown = [(f, f.severity, f.message, f.end_line, f.end_column) for f in found]
        if not force and self.published.get((ws.root, path)) == shown:
            return
        self.published[ws.root, path] = shown
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=diagnostics(found, self.lines(ws, path))
            )
        )

    def publish_all(self, ws: Workspace) -> None:
        """Push the diagnostics of every note of a vault that has some, or had."""
        had = {path for root, path in self.published if root == ws.root}
        # Diagnostics place their ranges in the text: those notes read at once, in parallel.
        ws.prefetch(ws.with_findings())
        for path in sorted(ws.with_findings() | had):
            if path in ws.vault.notes:
                self.publish(ws, path)

    # -- edits

    def edited(self, uri: str, text: str | None) -> None:
        """Take the editor's text of a note (None: closed), to check after a pause."""
        found = self.vault_of(uri)
        if found is None:
            return
        ws, path = found
        pending = self._timers.pop(uri, None)
        if pending is not None:
            pending[0].cancel()
        if text is not None and text == ws.text(path) and path in ws.overlays:
            return
        timer = asyncio.get_running_loop().call_later(self.debounce, self.check_now, ws, path, text)
        self._timers[uri] = (timer, ws, path, text)

    def flush(self, uri: str) -> None:
        """Check a document's last edit now, not after the pause: a request wants its text."""
        pending = self._timers.pop(uri, None)
        if pending is not None:
            pending[0].cancel()
            self.check_now(*pending[1:])

    def check_now(self, ws: Workspace, path: str, text: str | None) -> None:
        """Check an edited note, push its diagnostics, and queue what else it changed."""
        self._timers.pop(self.uri(ws, path), None)
        if path not in ws.vault.notes:
            return  # deleted since: the reload that follows has its findings
        update = ws.update(path, text)
        # Pushed even when unchanged: the editor learns that its last edit was checked.
        self.publish(ws, path, force=True)
        self.queue(ws, update)

    def queue(self, ws: Workspace, update: Update) -> None:
        """Leave the rest of an edit's checks to the drain, which gives way to typing."""
        notes, vault_rules = self._pending.get(ws.root, (set(), False))
        notes |= update.dependants
        self._pending[ws.root] = (notes, vault_rules or update.vault_rules)
        if self._draining is None or self._draining.done():
            self._draining = asyncio.get_running_loop().create_task(self.drain())

    async def drain(self) -> None:
        """Check what edits left pending, a slice at a time, pushing what changed."""
        while self._pending:
            root, (notes, vault_rules) = next(iter(self._pending.items()))
            ws = self.vaults[root]
            if notes:
                batch = sorted(notes)[:_SLICE]
                notes.difference_update(batch)
                ws.check(batch)
                for path in batch:
                    self.publish(ws, path)
                await asyncio.sleep(0)
                continue
            del self._pending[root]
            if vault_rules:
                touched = ws.with_findings()
                ws.check_vault_rules()
                for path in sorted(touched | ws.with_findings()):
                    if path in ws.vault.notes:
                        self.publish(ws, path)
            await asyncio.sleep(0)

    def files_changed(self) -> None:
        """Files were made, removed or renamed: take them in, and push what changed."""
        for ws in self.vaults.values():
            self.refile(ws)

    def refile(self, ws: Workspace) -> None:
        """Take in the notes made and removed in one vault: the new ones' diagnostics now."""
        shown = {path: self.uri(ws, path) for root, path in self.published if root == ws.root}
        changed = ws.refile()
        if changed is None:
            ws.reload()
        for path, uri in shown.items():
            if path not in ws.vault.notes:
                # Its file is gone: so are its diagnostics.
                del self.published[ws.root, path]
                self.text_document_publish_diagnostics(
                    types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
                )
        if changed is None:
            self.publish_all(ws)
            return
        for path in changed.added:
            self.publish(ws, path)
        self.queue(ws, Update("", changed.dependants, True))

    # -- answers

    def note_at(self, uri: str) -> tuple[Workspace, str, Lines] | None:
        """The workspace, vault path and lines of a document, its last edit checked."""
        self.flush(uri)
        found = self.vault_of(uri)
        if found is None:
            return None
        ws, path = found
        return ws, path, self.lines(ws, path)

    def location(self, ws: Workspace, place: navigation.Place) -> types.Location:
        """A place in a vault as a protocol location."""
        return types.Location(
            uri=self.uri(ws, place.path), range=self.lines(ws, place.path).range(place.span)
        )


def _point(
    params: Any, server: ConceptgraphServer
) -> tuple[Workspace, str, Lines, int, int] | None:
    found = server.note_at(params.text_document.uri)
    if found is None:
        return None
    ws, path, lines = found
    line, column = lines.point(params.position)
    return ws, path, lines, line, column


def make_server(vault: Path | None = None, debounce: float = DEBOUNCE) -> ConceptgraphServer:
    """The server, its features registered."""
    server = ConceptgraphServer(vault, debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ConceptgraphServer, params: types.DidOpenTextDocumentParams) -> None:
        found = ls.vault_of(params.text_document.uri)
        if found is None:
            return
        ws, path = found
        if params.text_document.text != ws.text(path):
            ls.check_now(ws, path, params.text_document.text)
        else:
            ws.overlays[path] = params.text_document.text
            ls.publish(ws, path, force=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ConceptgraphServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.edited(uri, ls.workspace.get_text_document(uri).source)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ConceptgraphServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.edited(params.text_document.uri, None)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: ConceptgraphServer, params: types.DidChangeWatchedFilesParams) -> None:
        made = {types.FileChangeType.Created, types.FileChangeType.Deleted}
        if any(change.type in made for change in params.changes):
            ls.files_changed()
            return
        for change in params.changes:
            found = ls.vault_of(change.uri)
            if found is not None and found[1] not in found[0].overlays:
                ls.check_now(found[0], found[1], None)

    for event in (
        types.WORKSPACE_DID_CREATE_FILES,
        types.WORKSPACE_DID_DELETE_FILES,
        types.WORKSPACE_DID_RENAME_FILES,
    ):
        md = types.FileOperationRegistrationOptions(
            filters=[types.FileOperationFilter(pattern=types.FileOperationPattern(glob="**/*.md"))]
        )

        @server.feature(event, md)
        def file_operation(ls: ConceptgraphServer, params: object) -> None:
            ls.files_changed()

    @server.feature(types.INITIALIZED)
    async def initialized(ls: ConceptgraphServer, params: types.InitializedParams) -> None:
        dynamic = ls.client_capabilities.workspace
        watch = dynamic.did_change_watched_files if dynamic is not None else None
        if watch is not None and watch.dynamic_registration:
            options = types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern="**/*.md")]
            )
            registration = types.Registration(
                id="conceptgraph-watch",
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=options,
            )
            await ls.client_register_capability_async(
                types.RegistrationParams(registrations=[registration])
            )

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=["[", "#", "^"]),
    )
    def complete(
        ls: ConceptgraphServer, params: types.CompletionParams
    ) -> types.CompletionList | None:
        found = _point(params, ls)
        if found is None:
            return None
        ws, path, lines, line, column = found
        return completion.complete(ws.vault, path, lines, line, column)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: ConceptgraphServer, params: types.DefinitionParams) -> types.Location | None:
        found = _point(params, ls)
        if found is None:
            return None
        ws, path, _, line, column = found
        note = ws.vault.notes[path]
        link = navigation.link_at(note, line, column)
        place = navigation.target(ws.vault, note, link) if link is not None else None
        return ls.location(ws, place) if place is not None else None

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    def references(ls: ConceptgraphServer, params: types.ReferenceParams) -> list[types.Location]:
        found = _point(params, ls)
        if found is None:
            return []
        ws, path, _, line, column = found
        note = ws.vault.notes[path]
        link = navigation.link_at(note, line, column)
        heading = None
        if link is not None:
            resolved = ws.vault.resolve(link, path).path
            if resolved is None:
                return []
            target, parts = resolved, [p for p in (link.subpath or "").split("#") if p]
            heading = parts[-1] if parts and not parts[-1].startswith("^") else None
        else:
            target = path
            at = navigation.heading_at(note, line)
            heading = at.text if at is not None else None
        places = navigation.references(ws.vault, target, heading)
        return [ls.location(ws, place) for place in places]

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: ConceptgraphServer, params: types.HoverParams) -> types.Hover | None:
        found = _point(params, ls)
        if found is None:
            return None
        ws, path, _, line, column = found
        note = ws.vault.notes[path]
        parts = []
        link = navigation.link_at(note, line, column)
        target = ws.vault.resolve(link, path).path if link is not None else None
        if target is not None and target in ws.vault.notes:
            parts.append(navigation.hover(ws.vault, target))
        for finding in ws.findings(path):
            span = Span(
                finding.line,
                finding.column,
                finding.end_line or finding.line,
                finding.end_column or finding.column,
            )
            if span.line <= line <= span.end_line:
                summary = _summary(ws, finding.rule)
                parts.append(f"`{finding.rule}`: {summary}")
        if not parts:
            return None
        return types.Hover(
            contents=types.MarkupContent(
                kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)
            )
        )

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def symbols(
        ls: ConceptgraphServer, params: types.DocumentSymbolParams
    ) -> list[types.DocumentSymbol]:
        found = ls.note_at(params.text_document.uri)
        if found is None:
            return []
        ws, path, lines = found
        note = ws.vault.notes[path]
        out: list[types.DocumentSymbol] = []
        for section in note.sections:
            where = lines.range(Span(section.span.line, 1, section.end_line, 1))
            out.append(
                types.DocumentSymbol(
                    name=section.title or "(untitled)",
                    kind=types.SymbolKind.String,
                    detail="#" * section.level,
                    range=where,
                    selection_range=lines.range(section.span),
                )
            )
        return out

    @server.feature(types.WORKSPACE_SYMBOL)
    def workspace_symbols(
        ls: ConceptgraphServer, params: types.WorkspaceSymbolParams
    ) -> list[types.SymbolInformation]:
        out = []
        for ws in ls.vaults.values():
            for name, place, kind in navigation.workspace_symbols(ws.vault, params.query):
                symbol_kind = types.SymbolKind.File if kind == "note" else types.SymbolKind.String
                out.append(
                    types.SymbolInformation(
                        name=name,
                        kind=symbol_kind,
                        location=ls.location(ws, place),
                        container_name=place.path,
                    )
                )
        return out

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def code_actions(
        ls: ConceptgraphServer, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        found = ls.note_at(params.text_document.uri)
        if found is None:
            return []
        ws, path, lines = found
        uri = params.text_document.uri
        return actions.actions(
            ws.vault,
            ws.vault.notes[path],
            ws.findings(path),
            uri,
            lines,
            params.range,
            lambda f: diagnostic(f, lines),
        )

    _with_rename(server)
    return server


# LSP's RequestFailed: the request was valid but could not be done (a file in the way, say).
_REQUEST_FAILED = -32803


def _with_rename(server: ConceptgraphServer) -> None:
    """Rename and ``willRenameFiles``, over the rewriting library (``conceptgraph.edit``)."""

    def versions(ls: ConceptgraphServer) -> Callable[[str], int | None]:
        open_documents = ls.workspace.text_documents
        return lambda uri: open_documents[uri].version if uri in open_documents else None

    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(
        ls: ConceptgraphServer, params: types.PrepareRenameParams
    ) -> types.PrepareRenamePlaceholder | None:
        found = _point(params, ls)
        if found is None:
            return None
        ws, path, lines, line, column = found
        span, name = rename.prepare(ws, path, line, column)
        return types.PrepareRenamePlaceholder(range=lines.range(span), placeholder=name)

    @server.feature(types.TEXT_DOCUMENT_RENAME, types.RenameOptions(prepare_provider=True))
    def rename_at(ls: ConceptgraphServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
        found = _point(params, ls)
        if found is None:
            return None
        ws, path, _, line, column = found
        try:
            plan = rename.plan_rename(ws, path, line, column, params.new_name)
        except ConceptgraphError as exc:
            raise JsonRpcException(str(exc), code=_REQUEST_FAILED) from exc
        codec = ls.workspace.position_codec
        return rename.workspace_edit(plan, functools.partial(ls.uri, ws), codec, versions(ls))

    md = types.FileOperationRegistrationOptions(
        filters=[types.FileOperationFilter(pattern=types.FileOperationPattern(glob="**/*.md"))]
    )

    @server.feature(types.WORKSPACE_WILL_RENAME_FILES, md)
    def will_rename(
        ls: ConceptgraphServer, params: types.RenameFilesParams
    ) -> types.WorkspaceEdit | None:
        by_vault: dict[Path, list[tuple[str, str]]] = {}
        for file in params.files:
            found = ls.vault_of(file.old_uri)
            new = to_fs_path(file.new_uri)
            if found is None or new is None:
                continue
            ws, old = found
            try:
                relative = Path(new).resolve().relative_to(ws.root).as_posix()
            except ValueError:
                continue  # moved out of the vault: its links have nowhere to lead
            by_vault.setdefault(ws.root, []).append((old, relative))
        changes: list[Any] = []
        codec = ls.workspace.position_codec
        for root, moves in by_vault.items():
            ws = ls.vaults[root]
            try:
                plan = rename.plan_file_moves(ws, moves)
            except ConceptgraphError as exc:
                raise JsonRpcException(str(exc), code=_REQUEST_FAILED) from exc
            edit = rename.workspace_edit(
                plan, functools.partial(ls.uri, ws), codec, versions(ls), moves=False
            )
            changes.extend(edit.document_changes or ())
        return types.WorkspaceEdit(document_changes=changes) if changes else None


def _summary(ws: Workspace, rule: str) -> str:
    found = next((r for r in ws.rules if r.name == rule), None)
    return found.summary if found is not None else ""


def serve(vault: Path | None = None, debounce: float = DEBOUNCE) -> None:
    """Serve the protocol over stdin and stdout until the client says exit."""
    # Notes are read and checked in forked worker processes while a thread of the server waits
    # on stdin, and a forked child closes sys.stdin first (multiprocessing does): it would
    # wait for ever on the lock that thread holds. The protocol is read from a descriptor of
    # its own; sys.stdin is the null device, which a child closes at once.
    protocol = os.fdopen(os.dup(sys.stdin.fileno()), "rb")
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 (held for the process's life)
    make_server(vault, debounce).start_io(protocol, sys.stdout.buffer)
