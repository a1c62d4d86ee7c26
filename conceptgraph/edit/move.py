"""Moving a note, a file or a folder: the links of the vault rewritten to follow it.

A link is rewritten when, written as it is, it would no longer lead where it led: its target
moved, or its note did (a relative link, or a name whose nearest match changes with the
folder), or another file now shares its name so that it would become ambiguous. Every other
link stays byte for byte; a link already ambiguous before the move and leading to the same
file after it is left so. The new link path keeps the link's form, as Obsidian's
"Automatically update internal links" does:

- a bare name (``[[tomato]]``) stays the bare name if it is still unique, else gets the
  shortest path suffix that makes it unique (``[[fruit/tomato]]``);
- a path from the vault root (``[[notes/tomato]]``, ``[[/notes/tomato]]``) gets the new path;
- a relative path (``./``, ``../``) gets the new relative path;
- ``.md`` is written where it was; an attachment keeps its extension;
- a canvas file card gets the new vault path.

Only links that were read as links are looked at (``NoteRecord.links``), so a ``[[link]]``
in code, math or a comment is text and stays as it is.
"""

from __future__ import annotations

import os
import posixpath
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from conceptgraph.edit.plan import UNLINKABLE, FileMove, Plan, files_edits
from conceptgraph.errors import EditError, UsageError
from conceptgraph.model import Link, LinkKind
from conceptgraph.names import fold
from conceptgraph.vault.discovery import NOTE_SUFFIX
from conceptgraph.vault.load import Vault


def plan_move(vault: Vault, old: str, new: str) -> Plan:
    """What moving ``old`` (a file or folder, vault path) to ``new`` changes. Writes nothing.

    ``new`` may be a folder that exists: the file or folder moves into it, as ``mv`` does.
    A note's new name gets ``.md`` when it has none. Raises ``UsageError`` for a path that
    is not in the vault, ``EditError`` when something is already at the new path.
    """
    return plan_moves(vault, [(old, new)])


def plan_moves(vault: Vault, moves: Sequence[tuple[str, str]]) -> Plan:
    """What moving several files or folders at once changes (``plan_move`` for each).

    As an editor renames them together (LSP ``workspace/willRenameFiles``): every link is
    rewritten once, for where all of them end up. Two moves onto one path are refused.
    """
    mapping: dict[str, str] = {}
    goals: set[str] = set()
    folders: list[FileMove] = []
    for old, new in moves:
        more, folder = _moves(vault, _vault_path(old), _vault_path(new))
        for path, goal in more.items():
            if path in mapping or goal in goals:
                raise UsageError(f"{path}: moved twice, or onto a path another move takes")
            mapping[path] = goal
            goals.add(goal)
        if folder is not None:
            folders.append(folder)
    after = Vault(vault.root, vault.config, {}, tuple(mapping.get(p, p) for p in vault.files))
    names = {fold(posixpath.basename(p)) for pair in mapping.items() for p in pair}
    changes: dict[str, list[tuple[int, str | None, str | None]]] = defaultdict(list)
    # Most targets are written many times over: each is looked at once.
    touched: dict[str, bool] = {}
    for note in vault.notes.values():
        source = mapping.get(note.path, note.path)
        moved_source = source != note.path
        for index, link in enumerate(note.links):
            if not link.target:
                continue
            if not moved_source:
                touches = touched.get(link.target)
                if touches is None:
                    touches = touched[link.target] = _names(link.target, names)
                if not touches:
                    continue
            target = _new_target(vault, after, link, note.path, source, mapping)
            if target is not None:
                changes[note.path].append((index, target, None))
    edits, skipped, texts = files_edits(vault, changes)
    disk = {path: vault.disk_path(path) for path in (*texts, *mapping)}
    renames = tuple(FileMove(a, b) for a, b in sorted(mapping.items()))
    return Plan(vault.root, tuple(edits), renames, texts, disk, tuple(folders), tuple(skipped))


def _vault_path(path: str) -> str:
    cleaned = posixpath.normpath(path.replace(os.sep, "/").strip()).strip("/")
    if cleaned in ("", ".") or cleaned == ".." or cleaned.startswith("../"):
        raise UsageError(f"{path}: not a path inside the vault")
    return unicodedata.normalize("NFC", cleaned)


def _moves(vault: Vault, old: str, new: str) -> tuple[dict[str, str], FileMove | None]:
    """Each file that moves, old path to new, and the folder move, if a folder moves."""
    files = set(vault.files)
    if old not in files:
        folded = [p for p in vault.files if fold(p) == fold(old)]
        if len(folded) == 1:
            old = folded[0]
    if (vault.root / new).is_dir() and not _same_disk_name(vault, old, new):
        new = posixpath.join(new, posixpath.basename(old))
    if old in files:
        if old.lower().endswith(NOTE_SUFFIX) and not new.lower().endswith(NOTE_SUFFIX):
            new += NOTE_SUFFIX
        mapping = {old: new}
        folder = None
    else:
        inside = [p for p in vault.files if p.startswith(old + "/")]
        if not inside and not (vault.root / old).is_dir():
            raise UsageError(f"{old}: no file or folder of the vault has this path")
        if new == old or new.startswith(old + "/"):
            raise UsageError(f"{old}: cannot move a folder into itself")
        mapping = {p: new + p[len(old) :] for p in inside}
        folder = FileMove(old, new)
    if new == old:
        raise UsageError(f"{old}: already at that path")
    base = posixpath.basename(new)
    renamed = base != posixpath.basename(old)
    if folder is None and renamed and any(c in UNLINKABLE for c in base):
        raise UsageError(f"{new}: a note named so cannot be linked to ([ ] | # ^ end a link)")
    if os.path.lexists(vault.root / new) and not _same_disk_name(vault, old, new):
        raise EditError(f"{new} already exists; nothing was changed", old)
    for parent in Path(new).parents:
        if (
            str(parent) != "."
            and (vault.root / parent).exists()
            and not (vault.root / parent).is_dir()
        ):
            raise EditError(
                f"{parent.as_posix()} is a file, not a folder; nothing was changed", old
            )
    for path in mapping:
        if os.path.islink(vault.disk_path(path)):
            # Its target is written relative to where it stands: moved, it would lead elsewhere.
            raise EditError(f"{path} is a symbolic link; move the file it leads to instead", old)
    moving = set(mapping)
    real = {os.path.realpath(vault.disk_path(path)) for path in mapping}
    root = os.fspath(vault.root)
    for path in vault.files:
        # Strings, not Paths: this looks at every file of the vault.
        disk = os.path.join(root, vault.disk.get(path, path))
        if path not in moving and os.path.islink(disk) and os.path.realpath(disk) in real:
            raise EditError(f"{path} is a symbolic link to it, which the move would break", old)
    for path in mapping.values():
        clash = [p for p in vault.collisions(path) if p not in moving] + (
            [path] if path in files and path not in moving else []
        )
        if clash:
            raise EditError(f"{path} would share its name with {clash[0]}", old)
    return mapping, folder


def _same_disk_name(vault: Vault, old: str, new: str) -> bool:
    """Whether ``new`` names ``old`` itself, on a disk that does not tell case apart."""
    one, other = vault.root / old, vault.root / new
    try:
        return fold(old) == fold(new) and os.path.samefile(one, other)
    except OSError:
        return False


def _names(target: str, names: set[str]) -> bool:
    """Whether a link's target has a base name of a moved file, before or after the move.

    Only those links can resolve elsewhere when no note they stand in moves. Normalised as
    ``Vault.resolve_linkpath`` normalises it.
    """
    written = unicodedata.normalize("NFC", target.replace("\u00a0", " ").strip()).lower()
    base = posixpath.basename(written)
    return base in names or base + NOTE_SUFFIX in names


def _new_target(
    vault: Vault, after: Vault, link: Link, path: str, source: str, mapping: dict[str, str]
) -> str | None:
    """The link path to write for ``link`` once moved, or None where it can stay."""
    before = vault.resolve(link, path)
    if before.path is None:
        return None
    goal = mapping.get(before.path, before.path)
    if link.kind is LinkKind.CANVAS and not link.raw.startswith(("[[", "![[")):
        # A file card names the file by its whole vault path, with its extension.
        return goal if goal != before.path else None
    now = after.resolve_linkpath(link.target, source)
    stays = now.path == goal and (not now.ambiguous or before.ambiguous)
    if stays and not _case_renamed(link.target, before.path, goal):
        return None
    return _linkpath(after, link.target, before.path, goal, source)


def _stem(path: str, keep_suffix: bool) -> str:
    if not keep_suffix and path.lower().endswith(NOTE_SUFFIX):
        return path[: -len(NOTE_SUFFIX)]
    return path


def _case_renamed(written: str, old: str, new: str) -> bool:
    """Whether a rename changes only the case of the base name the link spells as it was.

    The link still resolves (names match without case) but would show the old name.
    """
    old_base, new_base = posixpath.basename(old), posixpath.basename(new)
    if old_base == new_base or fold(old_base) != fold(new_base):
        return False
    spelt = posixpath.basename(written.strip())
    return spelt in (old_base, _stem(old_base, False))


def _linkpath(after: Vault, written: str, old: str, goal: str, source: str) -> str:
    """The link path to ``goal`` from ``source`` in the form ``written`` has (module doc)."""
    written = written.strip()
    keep_suffix = not goal.lower().endswith(NOTE_SUFFIX) or written.lower().endswith(NOTE_SUFFIX)
    stem = _stem(goal, keep_suffix)

    def unique(candidate: str) -> bool:
        found = after.resolve_linkpath(candidate, source)
        return found.path == goal and not found.ambiguous

    if written.startswith(("./", "../")):
        relative = posixpath.relpath(stem, posixpath.dirname(source) or ".")
        if not relative.startswith("../"):
            relative = "./" + relative
        if unique(relative):
            return relative
    elif written.startswith("/"):
        if unique("/" + stem):
            return "/" + stem
    elif "/" in written and unique(stem):
        return stem
    parts = stem.split("/")
    spelt = posixpath.basename(written)
    for count in range(1, len(parts) + 1):
        candidate = "/".join(parts[-count:])
        if (
            count == 1
            and posixpath.basename(old) == posixpath.basename(goal)
            and fold(spelt) == fold(candidate)
        ):
            candidate = spelt  # the same name: in the case the author wrote it
        if unique(candidate):
            return candidate
    return stem


def plan_paths(vault: Vault, old: Path, new: Path | str) -> tuple[str, str]:
    """Two paths on disk as vault paths (``new`` need not exist); ``UsageError`` if outside.

    A ``new`` written with a trailing slash is a folder, as for ``mv``: ``old`` moves into it.
    """
    if os.fspath(new).endswith(("/", os.sep)):
        new = Path(new) / Path(old).name
    root = vault.root.resolve()
    found = []
    for path in (old, Path(new)):
        absolute = Path(os.path.abspath(path))
        parent = absolute.parent.resolve() if absolute.parent.exists() else absolute.parent
        full = parent / absolute.name
        try:
            found.append(full.relative_to(root).as_posix())
        except ValueError:
            raise UsageError(f"{path}: not inside the vault at {vault.root}") from None
    return found[0], found[1]
