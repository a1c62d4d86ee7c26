r"""What a rename changes, as plain records; one link rewritten in its own form; the writes.

A ``Plan`` is text edits and file moves. Each edit names the file by its vault path before
any move, and the range it replaces as offsets (code points) into the text the plan was made
from (``Plan.texts``) and as a ``Span`` of lines and columns, for an editor. The edits are
applied first, the moves after them, as an editor applies a workspace edit.

``rewrite_link`` changes the target or the subpath of one link and keeps every other
character as written: the ``!`` of an embed, the text shown, ``\|`` in a table, the spaces,
a Markdown link's angle brackets or percent-encoding, a property's quotes, a canvas card's
JSON. A link it cannot rewrite without changing more (a name that a wikilink cannot hold, a
property written with escapes) is left as it is and reported, never guessed at.

``apply_plan`` writes through ``lint.fix.write_change``: each file atomically, only if it still
holds the text that was planned, never over another program's save (``conceptgraph.guard``);
then moves each file (or folder) without ever replacing a file at the new name.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from conceptgraph.errors import EditError
from conceptgraph.guard import Guard, rename_no_replace
from conceptgraph.lint.fix import (
    _DIFF_LINE,
    _UNFIXABLE,
    FileFix,
    _line_offsets,
    _offset,
    write_change,
)
from conceptgraph.model import Link, LinkKind, NoteRecord, Span
from conceptgraph.names import fold
from conceptgraph.note.decode import decode
from conceptgraph.vault.canvas import _TOKEN, is_canvas_path, node_offsets
from conceptgraph.vault.load import Vault
from conceptgraph.vault.read import read_bytes

# Files written at once by apply_plan.
_WRITERS = 8
# A wikilink ends at "]]" and splits at "|" and "#": a name holding one cannot be linked.
UNLINKABLE = frozenset("[]|#^")


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace ``start:end`` (code points) of a file's planned text with ``new_text``."""

    path: str  # the vault path before the plan's moves
    start: int
    end: int
    new_text: str
    span: Span  # the same range: 1-based lines and columns in code points, end exclusive


@dataclass(frozen=True, slots=True)
class FileMove:
    """A file (or a folder) that moves: vault paths before and after."""

    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A link the plan leaves as it is, and why."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: link not rewritten: {self.reason}"


@dataclass(frozen=True, slots=True)
class Plan:
    """The edits and moves of one rename; nothing of it is written until ``apply_plan``."""

    root: Path
    edits: tuple[TextEdit, ...] = ()
    moves: tuple[FileMove, ...] = ()
    # The text of each edited file that the edits' offsets count in.
    texts: Mapping[str, str] = field(default_factory=dict)
    # Where each edited or moved file is on disk (a vault path can differ from it in form).
    disk: Mapping[str, Path] = field(default_factory=dict)
    # A whole folder that moves is one rename on disk; ``moves`` still lists each file.
    folders: tuple[FileMove, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    @property
    def files(self) -> list[str]:
        """The files whose text changes, in path order."""
        return sorted({edit.path for edit in self.edits})

    def moved(self, path: str) -> str:
        """Where a vault path is once the plan's moves are done."""
        for move in self.moves:
            if move.old == path:
                return move.new
        return path

    # The edits by file, for ``after``: a rename of a note linked from hundreds of notes
    # would look through every edit for each file.
    _by_path: dict[str, list[TextEdit]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for edit in self.edits:
            self._by_path.setdefault(edit.path, []).append(edit)

    def after(self, path: str) -> str:
        """The text of ``path`` with the plan's edits applied."""
        text = self.texts[path]
        parts: list[str] = []
        position = 0
        for edit in sorted(self._by_path.get(path, ()), key=lambda e: e.start):
            parts.append(text[position : edit.start])
            parts.append(edit.new_text)
            position = edit.end
        parts.append(text[position:])
        return "".join(parts)


@dataclass(frozen=True, slots=True)
class Applied:
    """What ``apply_plan`` did: the files written, the moves made, what it had to leave."""

    written: tuple[str, ...]
    moves: tuple[FileMove, ...]
    skipped: tuple[tuple[str, str], ...]  # (path, reason)


def source_text(vault: Vault, note: NoteRecord) -> str | None:
    """The text a note's link spans count in: the record's, or a canvas's JSON, from disk.

    None for a file whose text cannot be rewritten safely (not clean UTF-8, unreadable).
    """
    if not note.decoded or any(p.kind in _UNFIXABLE for p in note.problems):
        return None
    if not is_canvas_path(note.path):
        return note.text
    try:
        text, problems = decode(read_bytes(vault.disk_path(note.path)))
    except OSError:
        return None
    return None if problems else text


def through_link(vault: Vault, path: str) -> str | None:
    """Why a note's links are not rewritten at ``path``, where its file is a symbolic link.

    ``""`` where the link leads to another note of the vault, whose own links are rewritten
    (writing both would write one file twice); a reason where it leads out of the vault; None
    for a plain file.
    """
    disk = vault.disk_path(path)
    if not os.path.islink(disk):
        return None
    real = os.path.realpath(disk)
    inside = os.path.relpath(real, os.path.realpath(vault.root)).replace(os.sep, "/")
    if not inside.startswith("../") and inside in vault.notes:
        return ""
    return "a symbolic link that leads out of the vault; conceptgraph writes only inside it"


def rewrite_link(
    note: NoteRecord,
    text: str,
    index: int,
    target: str | None = None,
    subpath: str | None = None,
) -> tuple[int, int, str] | str:
    """Offsets and new text that give ``note.links[index]`` this target or subpath.

    ``target`` is the link path as it is to be written (decoded; a Markdown link's is
    percent-encoded here), or for a canvas file card the vault path; ``subpath`` the new
    heading chain or ``^block`` (no ``#``). None keeps that part. ``text`` is the text the
    link's span counts in. A string back is the reason the link cannot be rewritten.
    """
    starts, ends = _line_offsets(text)
    return _rewrite(note, text, (starts, ends), index, target, subpath)


def _rewrite(
    note: NoteRecord,
    text: str,
    lines: tuple[list[int], list[int]],
    index: int,
    target: str | None,
    subpath: str | None,
) -> tuple[int, int, str] | str:
    """``rewrite_link``, given where the text's lines start and end."""
    link = note.links[index]
    starts, ends = lines
    start = _offset(link.span.line, link.span.column, starts, ends)
    end = _offset(link.span.end_line, link.span.end_column, starts, ends)
    if start is None or end is None:
        return "the link is not where it was read"
    if link.kind is LinkKind.CANVAS:
        return _canvas(note, text, index, start, target, subpath)
    written = text[start:end]
    if link.kind is LinkKind.MARKDOWN:
        found = _markdown(written, target, subpath)
    elif link.kind is LinkKind.FRONTMATTER:
        at = written.find(link.raw)
        if at < 0:
            return "the property writes the link with escapes"
        found = _wiki(link.raw, target, subpath)
        if isinstance(found, tuple):
            quote_mark = written[:1]
            new = found[2]
            if (quote_mark == '"' and ('"' in new or "\\" in new)) or (
                quote_mark == "'" and "'" in new
            ):
                return "the new link would need escapes in the property"
            found = (found[0] + at, found[1] + at, new)
    else:
        found = _wiki(written, target, subpath)
    if isinstance(found, str):
        return found
    return (start + found[0], start + found[1], found[2])


def _wiki(written: str, target: str | None, subpath: str | None) -> tuple[int, int, str] | str:
    """The part of ``[[target#subpath|shown]]`` (as written) that changes, and its new text."""
    if target is not None and any(c in UNLINKABLE for c in target):
        return f"a wikilink cannot hold {target!r}"
    if subpath is not None and ("]]" in subpath or "|" in subpath):
        return f"a wikilink cannot hold {subpath!r}"
    opening = written.find("[[")
    inner_start = opening + 2
    inner = written[inner_start : written.rfind("]]")]
    lead = len(inner) - len(inner.lstrip())
    stripped = inner.strip()
    # As split_linktext reads it: the first "|" past the first character ends the link part,
    # a backslash before it is the table escape, and the first "#" starts the subpath.
    bar = stripped.find("|")
    part = stripped[:bar] if bar > 0 else stripped
    part = part.rstrip()
    if bar > 0 and part.endswith("\\"):
        part = part[:-1]
    hash_at = part.find("#")
    base = inner_start + lead
    old_target = part if hash_at < 0 else part[:hash_at]
    target_end = base + len(old_target.rstrip())
    sub_start = base + hash_at + 1 if hash_at >= 0 else base + len(part)
    sub_end = base + len(part)
    if subpath is None:
        assert target is not None
        return (base, target_end, target)
    if target is None:
        if hash_at < 0:
            return (sub_end, sub_end, "#" + subpath)
        return (sub_start, sub_end, subpath)
    new = target + "#" + subpath
    return (base, sub_end, new)


def _markdown(written: str, target: str | None, subpath: str | None) -> tuple[int, int, str] | str:
    """The part of ``[text](href "title")`` (as written) that changes, and its new text."""
    close = written.rfind("](")
    if close < 0 or not written.endswith(")"):
        return "a Markdown link of a form not rewritten (a reference link?)"
    destination = written[close + 2 : -1]
    lead = len(destination) - len(destination.lstrip())
    stripped = destination.strip()
    angle = stripped.startswith("<")
    if angle:
        shut = stripped.find(">")
        if shut < 0:
            return "a Markdown link of a form not rewritten"
        href = stripped[1:shut]
        href_start = close + 2 + lead + 1
    else:
        href = stripped.split(None, 1)[0] if stripped else ""
        href_start = close + 2 + lead
    hash_at = href.find("#")
    path_end = href_start + (hash_at if hash_at >= 0 else len(href))
    href_end = href_start + len(href)

    def encoded(value: str) -> str:
        if angle:
            if any(c in value for c in "<>\n"):
                raise ValueError(value)
            return value
        return quote(value, safe="/")

    try:
        if subpath is None:
            assert target is not None
            return (href_start, path_end, encoded(target))
        fragment = "#" + encoded(subpath)
        if target is None:
            return (path_end, href_end, fragment)
        return (href_start, href_end, encoded(target) + fragment)
    except ValueError:
        return "the new path cannot be written between angle brackets"


def _canvas(
    note: NoteRecord, text: str, index: int, start: int, target: str | None, subpath: str | None
) -> tuple[int, int, str] | str:
    """A canvas card's change: its ``file`` and ``subpath`` values, or a link in its text."""
    link = note.links[index]
    if start not in node_offsets(text):
        return "the canvas card is not where it was read"
    values = _object_values(text, start)
    if not link.raw.startswith(("[[", "![[")):
        if subpath is not None and target is None and "subpath" in values:
            s, e = values["subpath"]
            return (s, e, json.dumps("#" + subpath, ensure_ascii=False))
        if subpath is not None:
            return "a canvas card's subpath is rewritten only where it has one"
        if "file" not in values or target is None:
            return "the canvas card has no file"
        s, e = values["file"]
        return (s, e, json.dumps(target, ensure_ascii=False))
    if "text" not in values:
        return "the canvas card has no text"
    s, e = values["text"]
    source = text[s:e]
    # The card's links in order, the same [[...]] written more than once told apart by count.
    seen = sum(
        1 for other in note.links[:index] if other.span == link.span and other.raw == link.raw
    )
    at = -1
    for _ in range(seen + 1):
        at = source.find(link.raw, at + 1)
        if at < 0:
            return "the canvas text writes the link with escapes"
    found = _wiki(link.raw, target, subpath)
    if isinstance(found, str):
        return found
    if '"' in found[2] or "\\" in found[2]:
        return "the new link would need escapes in the canvas"
    return (s + at + found[0], s + at + found[1], found[2])


def _object_values(text: str, start: int) -> dict[str, tuple[int, int]]:
    """Where each string value of the JSON object opening at ``start`` stands, by key."""
    found: dict[str, tuple[int, int]] = {}
    depth = 0
    key: str | None = None
    expect_value = False
    for token in _TOKEN.finditer(text, start):
        kind = token.group()
        if kind in "{[":
            depth += 1
            expect_value = False
        elif kind in "}]":
            depth -= 1
            if depth == 0:
                break
        elif kind == ":" and depth == 1:
            expect_value = True
        elif kind == "," and depth == 1:
            key, expect_value = None, False
        elif kind[0] == '"' and depth == 1:
            if expect_value and key is not None:
                found[key] = (token.start(), token.end())
                expect_value = False
            else:
                key = json.loads(kind)
    return found


def edits_of(
    note: NoteRecord, text: str, changes: Iterable[tuple[int, str | None, str | None]]
) -> tuple[list[TextEdit], list[Skipped]]:
    """The edits of one file: ``(link index, target, subpath)`` each; links left, and why."""
    lines = _line_offsets(text)
    starts = lines[0]
    edits: list[TextEdit] = []
    skipped: list[Skipped] = []
    for index, target, subpath in changes:
        link: Link = note.links[index]
        found = _rewrite(note, text, lines, index, target, subpath)
        if isinstance(found, str):
            skipped.append(Skipped(note.path, link.span.line, found))
            continue
        s, e, new = found
        if text[s:e] == new:
            continue
        edits.append(TextEdit(note.path, s, e, new, _span(starts, s, e)))
    return edits, skipped


Change = tuple[int, str | None, str | None]  # (link index, new target, new subpath)


def files_edits(
    vault: Vault, changes: Mapping[str, list[Change]], known: Mapping[str, str] | None = None
) -> tuple[list[TextEdit], list[Skipped], dict[str, str]]:
    """The edits of every file, by path, with the links left and the texts edited.

    ``known`` holds texts already read (the note a rename is of), taken as they are.
    """
    known = known or {}
    edits: list[TextEdit] = []
    skipped: list[Skipped] = []
    texts: dict[str, str] = {}
    for path, wanted in sorted(changes.items()):
        note = vault.notes[path]
        text = known[path] if path in known else source_text(vault, note)
        linked = None if path in known else through_link(vault, path)
        if text is None or linked is not None:
            if linked == "":
                continue
            reason = linked or "the file is not clean UTF-8 text"
            skipped.extend(Skipped(path, note.links[i].span.line, reason) for i, _, _ in wanted)
            continue
        found, left = edits_of(note, text, wanted)
        skipped.extend(left)
        if found:
            texts[path] = text
            edits.extend(found)
    return edits, skipped, texts


def text_edit(path: str, text: str, start: int, end: int, new: str) -> TextEdit:
    """An edit of ``start:end`` of ``text``, with its span worked out."""
    starts, _ = _line_offsets(text)
    return TextEdit(path, start, end, new, _span(starts, start, end))


def _span(starts: list[int], start: int, end: int) -> Span:
    import bisect

    line = bisect.bisect_right(starts, start)
    end_line = bisect.bisect_right(starts, end)
    return Span(line, start - starts[line - 1] + 1, end_line, end - starts[end_line - 1] + 1)


def plan_diff(plan: Plan) -> str:
    """The plan as a unified diff with git's rename headers, paths under ``a/`` and ``b/``."""
    out: list[str] = []
    edited = set(plan.files)
    moved = {move.old: move.new for move in plan.moves}
    for path in sorted(edited | set(moved)):
        new = moved.get(path, path)
        if path != new:
            out.append(f"diff --git a/{path} b/{new}\nrename from {path}\nrename to {new}\n")
        if path not in edited:
            continue
        before = _DIFF_LINE.findall(plan.texts[path])
        after = _DIFF_LINE.findall(plan.after(path))
        for line in difflib.unified_diff(before, after, f"a/{path}", f"b/{new}"):
            out.append(line)
            if not line.endswith("\n"):
                out.append("\n\\ No newline at end of file\n")
    return "".join(out)


def apply_plan(plan: Plan) -> Applied:
    """Write the plan: the edits, each file atomically and guarded, then the moves.

    Raises ``EditError``, before anything is written, when a file to move has something at
    its new name or an edited file no longer holds the text that was planned.
    """
    for move in _renames(plan):
        _check_free(plan, move)
    for path in plan.files:
        try:
            text, problems = decode(read_bytes(plan.disk[path]))
        except OSError as exc:
            raise EditError(f"cannot read it again: {exc.strerror or exc}", path) from exc
        if problems or text != plan.texts[path]:
            raise EditError("changed on disk since the move was planned; run again", path)
    files = plan.files
    # Each file's write waits on its fsync: a few writers at once, each with a guard of its
    # own, let the file system commit them together (500 files: 2.6 s one by one, on ext4).
    batches = [files[start::_WRITERS] for start in range(_WRITERS)]
    with ThreadPoolExecutor(_WRITERS) as pool:
        results = list(pool.map(lambda batch: _write_batch(plan, batch), batches))
    written = [path for batch, _ in results for path in batch]
    skipped = [skip for _, left in results for skip in left]
    done: list[FileMove] = []
    for move in _renames(plan):
        try:
            _move(plan, move)
        except OSError as exc:
            skipped.append((move.old, f"not moved: {exc.strerror or exc}"))
            continue
        done.append(move)
    return Applied(tuple(written), tuple(done), tuple(skipped))


def _write_batch(plan: Plan, paths: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Write some of the plan's files under one guard: those written, those left and why."""
    written: list[str] = []
    skipped: list[tuple[str, str]] = []
    with Guard() as guard:
        for path in paths:
            before, after = plan.texts[path], plan.after(path)
            change = FileFix(plan.root, path, plan.disk[path], before, after, {})
            try:
                reason = write_change(change, guard)
            except OSError as exc:
                reason = f"cannot write it: {exc.strerror or exc}"
            if reason is None:
                written.append(path)
            else:
                skipped.append((path, reason))
    for path in list(written):
        reason = guard.refused.get(plan.disk[path])
        if reason is not None:
            written.remove(path)
            skipped.append((path, reason))
    return written, skipped


def _renames(plan: Plan) -> list[FileMove]:
    """The renames on disk: each folder that moves whole, and each file not in one of them."""
    inside = tuple(folder.old + "/" for folder in plan.folders)
    return [*plan.folders, *(m for m in plan.moves if not m.old.startswith(inside))]


def _disk(plan: Plan, path: str) -> Path:
    return plan.disk.get(path, plan.root / path)


def _check_free(plan: Plan, move: FileMove) -> None:
    old, new = _disk(plan, move.old), plan.root / move.new
    if not os.path.lexists(old):
        raise EditError("no longer there; nothing was changed", move.old)
    if os.path.lexists(new) and not _same_but_case(old, new):
        raise EditError(f"{move.new} already exists; nothing was changed", move.old)


def _same_but_case(old: Path, new: Path) -> bool:
    """Whether ``new`` is ``old`` under a name differing in case (a case-insensitive disk)."""
    try:
        return fold(os.fspath(old)) == fold(os.fspath(new)) and os.path.samefile(old, new)
    except OSError:
        return False


def _move(plan: Plan, move: FileMove) -> None:
    old, new = _disk(plan, move.old), plan.root / move.new
    new.parent.mkdir(parents=True, exist_ok=True)
    if _same_but_case(old, new):
        # A case-insensitive disk calls the new name taken: it is the file itself.
        os.rename(old, new)
        return
    rename_no_replace(old, new)
