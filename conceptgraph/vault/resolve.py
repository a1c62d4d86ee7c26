"""Obsidian's link resolution: a link's written path -> the file it opens, ranked as Obsidian ranks.

Follows Obsidian's ``getFirstLinkpathDest``: a link names a file by a path relative to the
source note (``./``, ``../``), by its exact path from the vault root, or by its base name and,
when names repeat, a path suffix (``[[folder/name]]``); case-insensitively, ``.md`` optional.
Any file is a target, not only notes. Aliases are not targets. Headings and block ids a link
names after ``#`` are found with :class:`SubpathIndex`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

from conceptgraph.model import NoteRecord
from conceptgraph.names import heading_key
from conceptgraph.vault.discovery import NOTE_SUFFIX


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where a link leads: the file Obsidian opens, and every file the link could name."""

    path: str | None
    # Best first; where a name fits hundreds of files, the best and the first LISTED others.
    candidates: tuple[str, ...] = ()
    total: int | None = None  # how many files fit, where ``candidates`` lists only some

    @property
    def matches(self) -> int:
        """How many files the link could name."""
        return len(self.candidates) if self.total is None else self.total

    @property
    def ambiguous(self) -> bool:
        """More than one file has this name and nothing in the link tells them apart."""
        return self.matches > 1


# A link that fits more files than this is ranked through an index (``_Ranking``), not by
# sorting them for every note that links so: 1,000 ``index.md`` made lint quadratic.
_RANKED_DIRECTLY = 32


LISTED = 8  # files a Resolution names past the best, where more fit


class _Ranking:
    """Where a name that fits many files leads from each folder, in logarithmic time.

    Obsidian opens the shortest of the files under the linking note's folder (the folder as a
    prefix of the path), else the shortest of all, ties broken by the link's case, then by
    the vault's order. Each file's place in that order is its rank; the files sorted by path
    put those under a folder side by side, and a sparse table gives the least rank of any
    such run at once.
    """

    def __init__(self, matches: list[str], folds: list[str], written: str) -> None:
        case_first = _case_first(written)
        order = sorted(
            range(len(matches)),
            key=lambda i: (len(matches[i]), case_first(matches[i]), i),
        )
        self.ranked = [matches[i] for i in order]
        rank = {index: position for position, index in enumerate(order)}
        by_path = sorted(range(len(matches)), key=lambda i: folds[i])
        self.folds = [folds[i] for i in by_path]
        level = [rank[i] for i in by_path]
        self.table = [level]
        width = 1
        while 2 * width <= len(matches):
            level = [min(level[i], level[i + width]) for i in range(len(level) - width)]
            self.table.append(level)
            width *= 2

    def _least(self, start: int, end: int) -> int | None:
        if start >= end:
            return None
        step = (end - start).bit_length() - 1
        row = self.table[step]
        return min(row[start], row[end - (1 << step)])

    def resolve(self, folder: str) -> Resolution:
        start = bisect.bisect_left(self.folds, folder)
        end = len(self.folds)
        if folder:
            after = folder[:-1] + chr(ord(folder[-1]) + 1)
            end = bisect.bisect_left(self.folds, after, lo=start)
        best = self._least(start, end)
        if best is None:
            outside = [
                r
                for r in (self._least(0, start), self._least(end, len(self.folds)))
                if r is not None
            ]
            best = min(outside)
        path = self.ranked[best]
        others = [p for p in self.ranked[: LISTED + 1] if p != path][:LISTED]
        return Resolution(path, (path, *others), len(self.ranked))


def _ranked(exact: list[str], written: str) -> Resolution:
    """Files whose whole path the link names, differing only in case (two can exist on Linux).

    One is the answer. For several, Obsidian's choice depends on the order it indexed them in,
    so pick the one whose case the link matches, else the first in code-point order, and list
    them all: the link is ambiguous, and no way of writing it can tell them apart.
    """
    if len(exact) == 1:
        return Resolution(exact[0], (exact[0],))
    ordered = sorted(exact, key=_case_first(written))
    return Resolution(ordered[0], tuple(ordered))


def _case_first(written: str) -> Callable[[str], bool]:
    """A sort key that puts first the paths ending in the link's text in its own case."""
    tail = "/" + "/".join(p for p in _stem(written).split("/") if p not in ("", ".", ".."))
    return lambda path: not _stem(path).endswith(tail)


def _stem(path: str) -> str:
    return "/" + (path[: -len(NOTE_SUFFIX)] if path.lower().endswith(NOTE_SUFFIX) else path)


def find_subpath(note: NoteRecord, subpath: str) -> bool:
    """Whether ``#subpath`` names a block id or heading chain of ``note``, as Obsidian looks.

    ``^id`` is a block id, compared without case; if none matches Obsidian tries it as a
    heading. ``A#B`` is a chain: each part the first later heading, deeper than the last match.
    """
    return SubpathIndex.of(note).finds(subpath)


@dataclass(frozen=True, slots=True)
class SubpathIndex:
    """Where each heading and block id of one note stands, for links into the note.

    Built once per note, so a note of 100,000 headings linked 100,000 times is looked up in
    about 6 bisections a link, not by a walk over every heading for every link.
    """

    blocks: frozenset[str]
    # heading key -> heading level -> indexes into note.headings, ascending
    headings: dict[str, dict[int, list[int]]]

    @classmethod
    def of(cls, note: NoteRecord) -> SubpathIndex:
        """The index of ``note``'s block ids and headings."""
        headings: dict[str, dict[int, list[int]]] = {}
        for index, heading in enumerate(note.headings):
            by_level = headings.setdefault(heading_key(heading.text), {})
            by_level.setdefault(heading.level, []).append(index)
        return cls(frozenset(block.id.lower() for block in note.block_ids), headings)

    def finds(self, subpath: str) -> bool:
        """Whether ``#subpath`` names a block id or heading chain (see :func:`find_subpath`)."""
        parts = [part for part in subpath.split("#") if part]
        if not parts:
            return True
        if len(parts) == 1 and parts[0].startswith("^") and parts[0][1:].lower() in self.blocks:
            return True
        level, after = 0, -1
        for part in parts:
            found = self._next_heading(heading_key(part), level, after)
            if found is None:
                return False
            after, level = found
        return True

    def _next_heading(self, key: str, level: int, after: int) -> tuple[int, int] | None:
        """The first heading past index ``after``, deeper than ``level``, whose key is ``key``."""
        best: tuple[int, int] | None = None
        for deeper, indexes in self.headings.get(key, {}).items():
            if deeper <= level:
                continue
            at = bisect.bisect_right(indexes, after)
            if at < len(indexes) and (best is None or indexes[at] < best[0]):
                best = (indexes[at], deeper)
        return best
