"""Walking a vault folder: which files it holds, and records of the notes that cannot be read.

Like Obsidian, skips hidden files and folders and names files in NFC; a symbolic link that
leads out of the vault, a FIFO or a device is recorded, never followed or read.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cached_property
from pathlib import Path

from conceptgraph.atomic import is_temp_name, sweep
from conceptgraph.boundary import Boundary
from conceptgraph.config import Config
from conceptgraph.model import NoteRecord, Problem, ProblemKind, Span

NOTE_SUFFIX = ".md"
CANVAS_SUFFIX = ".canvas"


@dataclass(frozen=True)  # not slots: the cached properties below keep what they work out
class Discovery:
    """What walking a vault folder finds.

    ``files`` maps each vault path (POSIX, relative to the root, NFC as Obsidian names files)
    to its path on disk, which differs where the disk holds NFD names (macOS). ``broken`` are
    records of notes that cannot be read (a dangling link, a FIFO); ``shadowed`` the names on
    disk of files whose vault path another file already has.
    """

    files: dict[str, str]
    broken: list[NoteRecord]
    shadowed: dict[str, tuple[str, ...]]

    @cached_property
    def notes(self) -> list[tuple[str, str]]:
        """The files read into records: (vault path, path on disk), in walk order.

        The Markdown notes, and the canvases (``.canvas``), whose records hold only the
        links their nodes make (:mod:`.canvas`).
        """
        return [(path, disk) for path, disk in self.files.items() if is_read_path(path)]

    @cached_property
    def unreadable(self) -> list[NoteRecord]:
        """The records of ``broken`` notes that no file stands for: read by no one."""
        return [record for record in self.broken if record.path not in self.files]

    def renamed(self) -> dict[str, str]:
        """The path on disk of each file whose vault path differs from it (NFD names)."""
        return {path: disk for path, disk in self.files.items() if path != disk}


def discover(root: Path, config: Config) -> Discovery:
    """Every file of the vault, and records of the notes that cannot be looked at.

    Like Obsidian, skips hidden files and folders (``.obsidian``, ``.git``, ``.trash``), and
    whatever the configuration excludes. Symlinked folders are followed once: a loop ends there.
    A symbolic link that leads out of the vault is not followed, unless the configuration's
    ``allow-symlinks-to`` names where it leads: it becomes a record of that problem, so a
    vault cannot make a run read the whole disk or echo a file from elsewhere.
    A folder named like a note (``x.md/``) is a folder, as in Obsidian. Where two names on disk
    are one name once NFC-normalised, the one already in NFC (else the first) is the file.
    The temp files a killed write left (``atomic.sweep``) are removed on the way.
    """
    files: dict[str, str] = {}
    broken: list[NoteRecord] = []
    shadowed: dict[str, list[str]] = {}
    seen_dirs: set[tuple[int, int]] = set()
    boundary = Boundary.of(root, config.allow_symlinks_to)
    temps: list[str] = []

    def entries(folder: Path, prefix: str) -> Iterator[os.DirEntry[str]]:
        try:
            info = folder.stat()
        except OSError:
            return iter(())
        if (info.st_dev, info.st_ino) in seen_dirs:
            return iter(())
        seen_dirs.add((info.st_dev, info.st_ino))
        try:
            return iter(sorted(os.scandir(folder), key=lambda e: e.name))
        except OSError as exc:
            broken.append(_unreadable(prefix.rstrip("/") or ".", _reason(exc)))
            return iter(())

    # Depth first, in name order, with a stack of its own: a folder tree thousands of levels
    # deep must not exhaust the interpreter's recursion limit.
    stack = [(entries(root, ""), "", "")]
    while stack:
        folder, prefix, disk_prefix = stack[-1]
        entry = next(folder, None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            if is_temp_name(entry.name):
                temps.append(entry.path)
            continue
        rel = prefix + unicodedata.normalize("NFC", entry.name)
        disk = disk_prefix + entry.name
        if _excluded(rel, config.exclude):
            continue
        if entry.is_symlink():
            target = os.path.realpath(entry.path)
            if not boundary.allows(target):
                broken.append(_outside(rel, _link_text(entry.path)))
                continue
        try:
            is_dir = entry.is_dir()
            is_file = entry.is_file()
        except OSError as exc:
            broken.append(_unreadable(rel, _reason(exc)))
            continue
        if is_dir:
            stack.append((entries(Path(entry.path), rel + "/"), rel + "/", disk + "/"))
        elif not is_file:
            if is_note_path(rel):
                broken.append(_unreadable(rel, _not_a_file(entry.path)))
        elif rel not in files:
            files[rel] = disk
        else:
            # Two names on disk for one vault path: keep the one written in NFC.
            kept = files[rel]
            if _is_nfc(entry.name) and not _is_nfc(posixpath.basename(kept)):
                files[rel], disk = disk, kept
            shadowed.setdefault(rel, []).append(disk)

    sweep(temps, root)
    return Discovery(files, broken, {rel: tuple(names) for rel, names in shadowed.items()})


def _is_nfc(name: str) -> bool:
    return unicodedata.is_normalized("NFC", name)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _not_a_file(path: str) -> str:
    """Why a name that looks like a note is not one: a dangling or looping link, a FIFO, ..."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        if exc.errno == errno.ENOENT:
            return "dangling symbolic link"
        return _reason(exc)
    return f"not a regular file but {_file_kind(mode)}"


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a special file"


def _excluded(rel: str, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if fnmatchcase(rel, pattern) or fnmatchcase(rel, pattern + "/**"):
            return True
        if rel.startswith(pattern + "/"):
            return True
    return False


def _link_text(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError as exc:
        return f"unreadable: {_reason(exc)}"


def _outside(path: str, target: str) -> NoteRecord:
    # The link as written names the target: the same on every machine the vault is on.
    message = (
        f"a symbolic link that leads out of the vault (-> {target}): not followed"
        " (allow-symlinks-to in conceptgraph.toml names folders it may lead into)"
    )
    problem = Problem(ProblemKind.OUTSIDE, Span.point(1), message)
    return NoteRecord(path=path, text="", problems=(problem,), decoded=False)


def _unreadable(path: str, reason: str) -> NoteRecord:
    problem = Problem(ProblemKind.UNREADABLE, Span.point(1), f"cannot read: {reason}")
    return NoteRecord(path=path, text="", problems=(problem,), decoded=False)


def is_read_path(path: str) -> bool:
    """Whether a file is read into a record: a Markdown note or a canvas."""
    return path.lower().endswith((NOTE_SUFFIX, CANVAS_SUFFIX))


def is_canvas_path(path: str) -> bool:
    """Whether a file is an Obsidian canvas (JSON Canvas) by its name."""
    return path.lower().endswith(CANVAS_SUFFIX)


def is_note_path(path: str) -> bool:
    """Whether a file is a Markdown note by its name."""
    return path.lower().endswith(NOTE_SUFFIX)
