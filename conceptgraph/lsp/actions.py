"""Code actions for a finding: its fix, "disable this rule for this line", "create the note".

A fix is the rule's own (:class:`conceptgraph.model.Fix`), safe or not; the editor shows the
safe one as preferred. The directive that silences a rule is the linter's
(``<!-- conceptgraph-disable-line rule -->`` at the end of the line, else
``<!-- conceptgraph-disable-next-line rule -->`` on a line above); it is offered only where
the note, parsed with it, still has the same headings, links, sections and frontmatter
(the lint cache's facts), so that the comment cannot turn a heading's text, a table or a list
into something else.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types
from pygls.workspace import PositionCodec

from conceptgraph.lint.incremental import facts
from conceptgraph.lsp.diagnostics import span_of
from conceptgraph.lsp.navigation import link_at
from conceptgraph.lsp.positions import Lines
from conceptgraph.model import LINE_BREAK, Directive, Finding, NoteRecord, Span, name_of
from conceptgraph.note.parse import parse_note
from conceptgraph.vault.discovery import NOTE_SUFFIX
from conceptgraph.vault.load import Vault

QUICKFIX = types.CodeActionKind.QuickFix


def _edit(uri: str, lines: Lines, span: Span, text: str) -> types.WorkspaceEdit:
    return types.WorkspaceEdit(
        changes={uri: [types.TextEdit(range=lines.range(span), new_text=text)]}
    )


def fix_action(
    finding: Finding, uri: str, lines: Lines, diagnostic: types.Diagnostic
) -> types.CodeAction | None:
    """The finding's own fix, if its rule has one."""
    fix = finding.fix
    if fix is None:
        return None
    edits = [types.TextEdit(range=lines.range(e.span), new_text=e.replacement) for e in fix.edits]
    title = fix.description if fix.safe else f"{fix.description} (unsafe: review it)"
    return types.CodeAction(
        title=title,
        kind=QUICKFIX,
        diagnostics=[diagnostic],
        is_preferred=fix.safe,
        edit=types.WorkspaceEdit(changes={uri: edits}),
    )


def _insert(text: str, line: int, column: int, new: str) -> str:
    starts = [0, *(m.end() for m in LINE_BREAK.finditer(text))]
    offset = starts[line - 1] + column - 1
    return text[:offset] + new + text[offset:]


def disable_edit(note: NoteRecord, finding: Finding) -> tuple[Span, str] | None:
    """Where to put a directive that silences this finding alone, and the text; None: nowhere."""
    lines = Lines(note.text, _CODEPOINTS)
    if not note.decoded or finding.line > len(lines.lines):
        return None
    end = len(lines.line_text(finding.line)) + 1
    ending = "\r\n" if "\r\n" in note.text else "\n"
    rule = finding.rule
    tries = [
        (
            finding.line,
            end,
            f" <!-- conceptgraph-disable-line {rule} -->",
            Directive("disable-line", (rule,), finding.line),
        ),
        (
            finding.line,
            1,
            f"<!-- conceptgraph-disable-next-line {rule} -->{ending}",
            Directive("disable-next-line", (rule,), finding.line),
        ),
    ]
    kept = facts(note)
    for line, column, text, directive in tries:
        edited = parse_note(note.path, _insert(note.text, line, column, text).encode("utf-8"))
        if directive in edited.directives and facts(edited) == kept:
            return Span.point(line, column), text
    return None


def disable_action(
    note: NoteRecord, finding: Finding, uri: str, lines: Lines, diagnostic: types.Diagnostic
) -> types.CodeAction | None:
    """The action "disable this rule for this line", where a directive can say so safely."""
    found = disable_edit(note, finding)
    if found is None:
        return None
    span, text = found
    return types.CodeAction(
        title=f"Disable {finding.rule} for this line",
        kind=QUICKFIX,
        diagnostics=[diagnostic],
        edit=_edit(uri, lines, span, text),
    )


def create_note_action(
    vault: Vault, note: NoteRecord, finding: Finding, diagnostic: types.Diagnostic
) -> types.CodeAction | None:
    """For a broken link: create the note it names, with its title, where the link says."""
    if finding.rule != "broken-link":
        return None
    link = link_at(note, finding.line, finding.column)
    if link is None or not link.target.strip():
        return None
    target = posixpath.normpath(link.target.strip().lstrip("/"))
    if target.startswith("../") or target == "..":
        return None
    if not target.lower().endswith(NOTE_SUFFIX):
        if "." in posixpath.basename(target):
            return None  # an attachment, not a note
        target += NOTE_SUFFIX
    disk = vault.root / Path(target)
    if disk.exists():
        return None
    uri = disk.as_uri()
    title = f"# {name_of(target)}\n"
    return types.CodeAction(
        title=f"Create the note {target}",
        kind=QUICKFIX,
        diagnostics=[diagnostic],
        edit=types.WorkspaceEdit(
            document_changes=[
                types.CreateFile(uri=uri, options=types.CreateFileOptions(ignore_if_exists=True)),
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=None
                    ),
                    edits=[
                        types.TextEdit(
                            range=types.Range(
                                start=types.Position(line=0, character=0),
                                end=types.Position(line=0, character=0),
                            ),
                            new_text=title,
                        )
                    ],
                ),
            ]
        ),
    )


def actions(
    vault: Vault,
    note: NoteRecord,
    findings: list[Finding],
    uri: str,
    lines: Lines,
    wanted: types.Range,
    to_diagnostic: Callable[[Finding], types.Diagnostic],
) -> list[types.CodeAction]:
    """Every action for the findings whose ranges meet ``wanted``."""
    found: list[types.CodeAction] = []
    for finding in findings:
        where = lines.range(span_of(finding))
        if _before(where.end, wanted.start) or _before(wanted.end, where.start):
            continue
        diagnostic = to_diagnostic(finding)
        for make in (
            fix_action(finding, uri, lines, diagnostic),
            create_note_action(vault, note, finding, diagnostic),
            disable_action(note, finding, uri, lines, diagnostic),
        ):
            if make is not None:
                found.append(make)
    return found


def _before(a: types.Position, b: types.Position) -> bool:
    return (a.line, a.character) < (b.line, b.character)


# Positions within the note alone, in code points as conceptgraph counts them.
_CODEPOINTS = PositionCodec(types.PositionEncodingKind.Utf32)
