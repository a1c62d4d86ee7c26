"""Reading a vault's notes: bounded in size, never through a link or a FIFO, in parallel when many.

Notes are parsed where they are read (:func:`conceptgraph.note.parse.parse_note`);
``NotesOnDemand`` reads them only when asked, for runs that look at few.
"""

from __future__ import annotations

import gc
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from itertools import chain
from pathlib import Path

from conceptgraph import progress
from conceptgraph.model import NoteRecord
from conceptgraph.note.markdown.engine import parser_in_use
from conceptgraph.pool import share
from conceptgraph.vault.discovery import _file_kind, _reason, _unreadable

# Below this many notes, starting worker processes costs more than it saves.
_PARALLEL_MIN_NOTES = 400


# Notes read between two steps of the progress bar, in one process.
_SERIAL_BATCH = 256


# A note is read whole into memory; past this size it is a file named .md, not a note (a disk
# image, a log), and reading it could exhaust memory. Obsidian would not open it either.
MAX_NOTE_BYTES = 64 * 1024 * 1024


_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    # A FIFO put where a note was found must not block the run waiting for a writer.
    | getattr(os, "O_NONBLOCK", 0)
)


def read_note(
    root: Path, path: str, disk: str | None = None, parser: str | None = None
) -> NoteRecord:
    """Read and parse one note; a file that cannot be read becomes a record of that problem.

    ``path`` is the note's vault path, ``disk`` its path on disk when that differs. Only a
    regular file is read (a FIFO or device put there since the vault was walked is refused, not
    waited on), and at most ``MAX_NOTE_BYTES``. A crash of the parser, which is a bug, becomes
    a problem of this note too, so the notes around it are still read.
    """
    return read_stamped_note(root, path, disk, parser)[0]


def read_stamped_note(
    root: Path, path: str, disk: str | None = None, parser: str | None = None
) -> tuple[NoteRecord, os.stat_result | None]:
    """``read_note``, and the file's stat as it was opened (None if it could not be read).

    Taken before the bytes are read, the stat is no newer than they are: a cache that keys on it
    reads the note again if it changed meanwhile.
    """
    try:
        data, info = read_bytes_stat(root / (disk or path))
    except OSError as exc:
        return _unreadable(path, _reason(exc)), None
    # Imported here: a warm cached run reads no note, and need not load the Markdown engines.
    from conceptgraph.note.parse import content_digest, parse_note
    from conceptgraph.vault.canvas import is_canvas_path, parse_canvas

    try:
        if is_canvas_path(path):
            return parse_canvas(path, data, content_digest(data)), info
        return parse_note(path, data, parser), info
    except Exception as exc:
        reason = f"internal error while parsing ({type(exc).__name__}: {exc}); please report it"
        return _unreadable(path, reason), info


class NotANoteError(OSError):
    """A file that must not be read as a note: not a regular file, or far too large."""


def read_bytes(path: Path) -> bytes:
    """The bytes of a note file, without waiting on a FIFO or reading past ``MAX_NOTE_BYTES``.

    Raises ``OSError``: ``NotANoteError`` for what is not a regular file or is too large.
    """
    return read_bytes_stat(path)[0]


def read_bytes_stat(path: Path) -> tuple[bytes, os.stat_result]:
    """``read_bytes``, and the file's stat as it was opened."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotANoteError(f"not a regular file but {_file_kind(info.st_mode)}")
        if info.st_size > MAX_NOTE_BYTES:
            raise NotANoteError(_too_large(info.st_size))
        chunks = []
        size = 0
        # The size may change while the file is read (someone is writing it): read to the end
        # all the same, but never past the limit.
        while chunk := os.read(fd, max(info.st_size + 1 - size, 1 << 16)):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_NOTE_BYTES:
                raise NotANoteError(_too_large(size))
        return b"".join(chunks), info
    finally:
        os.close(fd)


def _too_large(size: int) -> str:
    limit = MAX_NOTE_BYTES // (1024 * 1024)
    return f"{size / (1024 * 1024):.0f} MiB, more than the {limit} MiB a note may have"


@contextmanager
def gc_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector off while many records are made, and off them after."""
    # Parsing makes millions of objects and no reference cycles, and the cyclic collector
    # would walk them again and again: a third of the parse time at 10,000 notes. Once it is
    # back on, its first collection would walk every object made meanwhile (half a second for
    # 10,000 notes' triples): they are frozen out of its sight first. Refcounting still frees
    # them as soon as they are dropped.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


def release_frozen() -> None:
    """Give the cyclic collector back what ``gc_paused`` froze, and collect.

    A command that exits when done never needs it. A process that lives on (``serve``,
    ``lint --watch``) calls it after each run: whatever cycles a run left (a graph library's
    own, say) are collected, not kept for the life of the process.
    """
    gc.unfreeze()
    gc.collect()


def _read_batch(
    root: Path, paths: Sequence[tuple[str, str]], parser: str | None = None
) -> list[NoteRecord]:
    with gc_paused():
        return [read_note(root, path, disk, parser) for path, disk in paths]


def _read_packed(root: Path, paths: Sequence[tuple[str, str]], parser: str) -> list[bytes]:
    """A worker's batch, its records packed: quicker to send than the records themselves."""
    return [record.packed() for record in _read_batch(root, paths, parser)]


def _unpacked(packed: list[bytes]) -> list[NoteRecord]:
    return [NoteRecord.unpacked(data) for data in packed]


def read_notes(
    root: Path, paths: Sequence[tuple[str, str]], jobs: int | None = None
) -> Iterator[NoteRecord]:
    """Parse many notes (vault path, disk path), in worker processes when that pays off."""
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    parser = parser_in_use()  # named to the workers: a spawned process starts with the default
    bar = progress.current()
    if bar is not None:
        bar.stage("Reading notes", len(paths))
    if workers <= 1 or len(paths) < _PARALLEL_MIN_NOTES:
        for start in range(0, len(paths), _SERIAL_BATCH):
            batch = paths[start : start + _SERIAL_BATCH]
            yield from _read_batch(root, batch)
            if bar is not None:
                bar.advance(len(batch))
        return
    from concurrent.futures import ProcessPoolExecutor

    # Large batches keep pickling overhead low; several per worker keep the cores balanced.
    size = max(50, len(paths) // (workers * 32))
    batches = [paths[i : i + size] for i in range(0, len(paths), size)]
    with ProcessPoolExecutor(max_workers=workers - 1) as pool, gc_paused():
        futures = [pool.submit(_read_packed, root, batch, parser) for batch in batches]
        sizes = [len(batch) for batch in batches]
        received = share(futures, lambda i: _read_batch(root, batches[i]), sizes, bar, _unpacked)
        yield from chain.from_iterable(received)


class NotesOnDemand(MutableMapping[str, NoteRecord]):
    """A vault's notes, those not read yet read when first asked for.

    The rules of one edited note ask for a handful of others (the notes its links lead to);
    the vault rules ask for all, and then all are read at once, in parallel.
    """

    def __init__(
        self,
        fresh: dict[str, NoteRecord],
        waiting: dict[str, str],
        root: Path,
        jobs: int | None,
    ) -> None:
        self._loaded = fresh
        self._parsed = set(fresh)
        self._waiting = {path: disk for path, disk in waiting.items() if path not in fresh}
        self._root = root
        self._jobs = jobs
        self._order = sorted(fresh.keys() | waiting.keys())

    def __getitem__(self, path: str) -> NoteRecord:
        found = self._loaded.get(path)
        if found is None:
            disk = self._waiting.pop(path)  # KeyError: no such note
            found = self._loaded[path] = read_note(self._root, path, disk)
            self._parsed.add(path)
        return found

    def __setitem__(self, path: str, note: NoteRecord) -> None:
        if path not in self:
            self._order.append(path)
        self._waiting.pop(path, None)
        self._loaded[path] = note

    def __delitem__(self, path: str) -> None:
        if path not in self:
            raise KeyError(path)
        self._waiting.pop(path, None)
        self._loaded.pop(path, None)
        self._order.remove(path)

    def __contains__(self, path: object) -> bool:
        return path in self._loaded or path in self._waiting

    def __iter__(self) -> Iterator[str]:
        self.read_all(self._waiting)
        return iter(self._order)

    def paths(self) -> Iterator[str]:
        """Every note's path, reading none."""
        return iter(self._order)

    def read_all(self, paths: Iterable[str]) -> None:
        """Read these notes now, in parallel, rather than one by one when asked for."""
        pending = sorted((path, self._waiting[path]) for path in paths if path in self._waiting)
        for record in read_notes(self._root, pending, self._jobs):
            self._loaded[record.path] = record
            self._parsed.add(record.path)
            del self._waiting[record.path]

    def __len__(self) -> int:
        return len(self._order)

    @property
    def read(self) -> int:
        """How many notes were read."""
        return len(self._parsed)

    def parsed(self) -> Iterator[NoteRecord]:
        """The notes read (whole) in this run."""
        return (self._loaded[path] for path in self._parsed if path in self._loaded)

    def unread(self) -> set[str]:
        """The notes not read yet."""
        return set(self._waiting)

    @contextmanager
    def outlined(self, outlines: Mapping[str, NoteRecord]) -> Iterator[None]:
        """Inside, notes not read yet stand as their outlines, where ``outlines`` has one.

        For the vault rules alone: an outline has no text, list items or block ids, so no
        note rule may see one, and afterwards they are taken back.
        """
        lent = {path: note for path, note in outlines.items() if path in self._waiting}
        disks = {path: self._waiting.pop(path) for path in lent}
        self._loaded.update(lent)
        try:
            yield
        finally:
            for path in lent:
                del self._loaded[path]
            self._waiting.update(disks)
