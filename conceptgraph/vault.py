"""A folder -> ``Vault``: its files, the notes read from them, and Obsidian's link resolution.

Resolution follows Obsidian's ``getFirstLinkpathDest``: a link names a file by a path relative
to the source note (``./``, ``../``), by its exact path from the vault root, or by its base name
and, when names repeat, a path suffix (``[[folder/name]]``); case-insensitively, ``.md``
optional. Any file is a target, not only notes. Aliases are not targets.
"""

from __future__ import annotations

import bisect
import errno
import gc
import os
import posixpath
import stat
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import NamedTuple

from conceptgraph import progress
from conceptgraph.atomic import is_temp_name, sweep
from conceptgraph.boundary import Boundary
from conceptgraph.config import Config
from conceptgraph.model import Link, NoteRecord, Problem, ProblemKind, Span, name_of
from conceptgraph.names import concept_key, fold, heading_key
from conceptgraph.negation import Negation, negations
from conceptgraph.parsers import parser_in_use
from conceptgraph.pool import share

NOTE_SUFFIX = ".md"
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


class NamedNegation(NamedTuple):
    """A negation item, the concept key it names, and the notes that carry that concept."""

    negation: Negation
    key: str | None
    notes: tuple[str, ...]


@dataclass
class Vault:
    """The notes and files of one vault, indexed for link resolution."""

    root: Path
    config: Config
    notes: MutableMapping[str, NoteRecord]
    files: tuple[str, ...]
    disk: dict[str, str] = field(default_factory=dict)
    # Files whose names are another file's once NFC-normalised (an NFC and an NFD "café.md"
    # side by side): the vault path they share, and their names on disk. They are not read.
    shadowed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _cache: dict[tuple[str, str], Resolution] = field(default_factory=dict, repr=False)
    # Link paths that lead to the same place from every note (most of them: a unique name).
    _anywhere: dict[str, Resolution] = field(default_factory=dict, repr=False)
    _rankings: dict[tuple[str, str], _Ranking | None] = field(default_factory=dict, repr=False)
    _kinds: dict[str, list[str | None]] = field(default_factory=dict, repr=False)
    _resolved: dict[str, list[tuple[Link, Resolution]]] = field(default_factory=dict, repr=False)
    _negations: dict[str, list[NamedNegation]] = field(default_factory=dict, repr=False)
    _subpaths: dict[str, tuple[NoteRecord, SubpathIndex]] = field(default_factory=dict, repr=False)
    # For each vault rule that gathers (see ``lint.engine.rule``): what it gathered of each
    # note, by path. Filled by the engine, or beforehand by the lint cache.
    gathered: dict[str, dict[str, object]] = field(default_factory=dict, repr=False)

    @classmethod
    def found(
        cls, root: Path, config: Config, found: Discovery, notes: MutableMapping[str, NoteRecord]
    ) -> Vault:
        """The vault of the files ``discover`` found, holding ``notes``."""
        return cls(root, config, notes, tuple(found.files), found.renamed(), found.shadowed)

    @cached_property
    def _by_path(self) -> dict[str, str]:
        return {fold(path): path for path in self.files}

    @cached_property
    def _by_base(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = defaultdict(list)
        for path in self.files:
            index[fold(path[path.rfind("/") + 1 :])].append(path)  # the base name
        return index

    @cached_property
    def _by_folded_path(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = defaultdict(list)
        for path in self.files:
            index[fold(path)].append(path)
        return index

    def collisions(self, path: str) -> list[str]:
        """The other files whose path differs from ``path`` only in case.

        Such files cannot both exist on macOS or Windows, and no link can tell them apart. (Those
        differing only in Unicode form share ``path``: see ``shadowed``.)
        """
        return [p for p in self._by_folded_path.get(fold(path), ()) if p != path]

    @cached_property
    def aliases_by_note(self) -> dict[str, list[str]]:
        """Every note's aliases, by path: all the name indexes read of the notes.

        Set beforehand by whoever has them without the notes (see ``lint.shards``).
        """
        return {path: note_aliases(note) for path, note in self.notes.items()}

    @cached_property
    def variants(self) -> frozenset[str]:
        """The notes that say they are variants (``is_variant``).

        An index, so that checking a link or a negation need not read the note it names. Set
        beforehand by whoever has it without the notes (see ``lint.shards`` and the lint cache).
        """
        return frozenset(path for path, note in self.notes.items() if is_variant(note))

    @cached_property
    def aliases(self) -> dict[str, list[str]]:
        """Notes by alias, in ``fold`` form."""
        index: dict[str, list[str]] = defaultdict(list)
        for path, aliases in self.aliases_by_note.items():
            for alias in aliases:
                index[fold(alias)].append(path)
        return index

    @cached_property
    def concepts(self) -> dict[str, list[str]]:
        """Notes by the concept names they carry: file names first, then aliases.

        Keys are in ``concept_key`` form: "Erasure cost" and "the erasure_cost" are one.
        """
        by_path = sorted(self.aliases_by_note.items())
        return concept_index((path, concept_keys(path, aliases)) for path, aliases in by_path)

    def concept_notes(self, name: str) -> list[str]:
        """The notes that carry a concept name, as file name or alias."""
        return self.concepts.get(concept_key(name), [])

    def is_concept(self, note: NoteRecord) -> bool:
        """Whether a note is a concept note: it declares the configured concept key (``type``)."""
        return note.frontmatter is not None and bool(note.property(self.config.concept_key))

    def section_kinds(self, note: NoteRecord) -> list[str | None]:
        """For each section of a note, the edge kind its links make (inherited from parents)."""
        found = self._kinds.get(note.path)
        if found is None:
            found = self._kinds[note.path] = self._section_kinds(note)
        return found

    def _section_kinds(self, note: NoteRecord) -> list[str | None]:
        own = [self.config.edge_kind(section.title) for section in note.sections]
        kinds: list[str | None] = []
        for index, section in enumerate(note.sections):
            kind = own[index]
            if kind is None and section.parent is not None:
                kind = kinds[section.parent]
            kinds.append(kind)
        return kinds

    def negations(self, note: NoteRecord) -> list[NamedNegation]:
        """The items of a note's "What this is NOT" sections, with the notes each one names.

        An item that names nothing (not of the form "Not ...") has ``key`` None.
        """
        found = self._negations.get(note.path)
        if found is None:
            kinds = self.section_kinds(note)
            items = negations(note, {i for i, kind in enumerate(kinds) if kind == "negation"})
            found = self._negations[note.path] = [self._named(note, item) for item in items]
        return found

    def _named(self, note: NoteRecord, negation: Negation) -> NamedNegation:
        if negation.name is None:
            return NamedNegation(negation, None, ())
        if negation.link is not None:
            # Whether the link leads to a note, and its name, need not read that note.
            target = self.resolve(negation.link, note.path).path
            if target is None or target not in self.notes:
                return NamedNegation(negation, concept_key(negation.link.target), ())
            return NamedNegation(negation, concept_key(name_of(target)), (target,))
        key = concept_key(negation.name)
        return NamedNegation(negation, key, tuple(self.concepts.get(key, ())))

    def forget(self, path: str) -> None:
        """Drop what was worked out from the note at ``path``, to be worked out again."""
        self._kinds.pop(path, None)
        self._resolved.pop(path, None)
        self._negations.pop(path, None)
        self._subpaths.pop(path, None)

    def canonical_of(self, note: NoteRecord) -> tuple[Link | None, str | None]:
        """A variant note's ``canonical_of`` link, and the note it resolves to."""
        link = next((lk for lk in note.links if lk.frontmatter_key == "canonical_of"), None)
        if link is None:
            return None, None
        return link, self.resolve(link, note.path).path

    def find_subpath(self, note: NoteRecord, subpath: str) -> bool:
        """:func:`find_subpath`, with each note's index built once for every link into it."""
        kept = self._subpaths.get(note.path)
        if kept is None or kept[0] is not note:
            kept = (note, SubpathIndex.of(note))
            self._subpaths[note.path] = kept
        return kept[1].finds(subpath)

    def resolved(self, note: NoteRecord) -> list[tuple[Link, Resolution]]:
        """Every link of a note with where it leads; worked out once per note for all rules."""
        found = self._resolved.get(note.path)
        if found is None:
            found = [(link, self.resolve(link, note.path)) for link in note.links]
            self._resolved[note.path] = found
        return found

    def resolve(self, link: Link, source: str) -> Resolution:
        """The file a link in note ``source`` leads to, as Obsidian resolves it."""
        if not link.target:
            return Resolution(source, (source,))
        found = self._anywhere.get(link.target)
        if found is not None:
            return found
        # Keyed by the source path, not its folder: every rule asks again for every link, and
        # a tuple lookup is far cheaper than working out the folder each time.
        key = (link.target, source)
        found = self._cache.get(key)
        if found is None:
            found, anywhere = self._resolve_linkpath(link.target, source)
            if anywhere:
                self._anywhere[link.target] = found
            else:
                self._cache[key] = found
        return found

    def resolve_linkpath(self, linkpath: str, source: str) -> Resolution:
        """Obsidian's ``getLinkpathDest``: the files a link path names, best first.

        Steps, as Obsidian takes them: the source itself for an empty path; the bucket of files
        with that base name (``.md`` added when the name has no dot or nothing has that name);
        one file with that name answers a bare name; then a ``./``/``../`` path relative to the
        source, then an exact path from the root, then every path ending so, those under the
        source's folder first, shorter paths first.
        """
        return self._resolve_linkpath(linkpath, source)[0]

    def _resolve_linkpath(self, linkpath: str, source: str) -> tuple[Resolution, bool]:
        """``resolve_linkpath``, and whether the answer is the same from every source."""
        if not linkpath:
            return Resolution(source, (source,)), False
        written = unicodedata.normalize("NFC", linkpath.replace("\u00a0", " ").strip())
        name = written.lower()
        bucket: Sequence[str] = ()
        base = posixpath.basename(name)
        if "." in base:
            bucket = self._by_base.get(base, ())
        if not bucket:
            name += NOTE_SUFFIX
            base = posixpath.basename(name)
            bucket = self._by_base.get(base, ())
        if not bucket:
            return Resolution(None), True
        if base == name and len(bucket) == 1:
            return Resolution(bucket[0], (bucket[0],)), True
        folder = fold(posixpath.dirname(source))
        relative = name.startswith(("./", "../"))
        if relative:
            name = posixpath.normpath(posixpath.join(folder, name))
            exact = self._exact(name, base)
            if exact:
                return _ranked(exact, written), False
        rooted = name.startswith("/")
        name = name.removeprefix("/")
        exact = self._exact(name, base)
        if exact:
            return _ranked(exact, written), not relative
        if rooted:
            return Resolution(None), not relative
        if len(bucket) > _RANKED_DIRECTLY:
            ranking = self._ranking(written, name, base)
            if ranking is not None:
                return ranking.resolve(folder), False
            matches = self._ending(name, base)
        else:
            matches = [path for path in bucket if fold(path).endswith(name)]
        if len(matches) > 1:
            # Names that differ only in case tie on every count: the one in the link's case first.
            matches.sort(key=_case_first(written))
        near = sorted((p for p in matches if fold(p).startswith(folder)), key=len)
        far = sorted((p for p in matches if not fold(p).startswith(folder)), key=len)
        ranked = near + far
        return Resolution(ranked[0] if ranked else None, tuple(ranked)), False

    def _exact(self, name: str, base: str) -> list[str]:
        """The files whose folded path is ``name``, of the bucket of base name ``base``."""
        found = self._by_folded_path.get(name)
        if not found:
            return []
        return [path for path in found if fold(path[path.rfind("/") + 1 :]) == base]

    @cached_property
    def _by_reversed_path(self) -> dict[str, tuple[list[str], list[str]]]:
        """For each base name's bucket: its folded paths reversed and sorted, and the paths."""
        index: dict[str, tuple[list[str], list[str]]] = {}
        for base, paths in self._by_base.items():
            if len(paths) > _RANKED_DIRECTLY:
                pairs = sorted((fold(path)[::-1], path) for path in paths)
                index[base] = ([r for r, _ in pairs], [p for _, p in pairs])
        return index

    def _ending(self, name: str, base: str) -> list[str]:
        """The files of a large bucket whose folded path ends with ``name``, in vault order."""
        reversed_paths, paths = self._by_reversed_path[base]
        wanted = name[::-1]
        start = bisect.bisect_left(reversed_paths, wanted)
        end = start
        while end < len(reversed_paths) and reversed_paths[end].startswith(wanted):
            end += 1
        order = self._file_order
        return sorted(paths[start:end], key=order.__getitem__)

    @cached_property
    def _file_order(self) -> dict[str, int]:
        return {path: index for index, path in enumerate(self.files)}

    def _ranking(self, written: str, name: str, base: str) -> _Ranking | None:
        """The ranking of the files a link written so fits; None where few enough fit."""
        key = (written, name)
        if key not in self._rankings:
            matches = self._ending(name, base)
            ranking = None
            if len(matches) > _RANKED_DIRECTLY:
                ranking = _Ranking(matches, [fold(path) for path in matches], written)
            self._rankings[key] = ranking
        return self._rankings[key]

    def linktext(self, path: str, source: str) -> str:
        """How Obsidian writes a link to ``path`` from ``source`` ("shortest path when possible").

        The bare name when it alone leads there, else the full path; ``.md`` dropped for notes.
        """
        stem = path[: -len(NOTE_SUFFIX)] if path.lower().endswith(NOTE_SUFFIX) else path
        base = posixpath.basename(stem)
        if self.resolve_linkpath(base, source).candidates == (path,):
            return base
        return stem

    def alias_owners(self, name: str) -> list[str]:
        """The notes that declare ``name`` as an alias."""
        return self.aliases.get(fold(name.strip()), [])

    def disk_path(self, path: str) -> Path:
        """Where a vault file is on disk."""
        return self.root / self.disk.get(path, path)

    def note_at(self, path: str | None) -> NoteRecord | None:
        """The note at a vault path, if that path is a note."""
        return self.notes.get(path) if path is not None else None

    @cached_property
    def backlinks(self) -> dict[str, set[str]]:
        """For each file, the other notes that link to or embed it."""
        index: dict[str, set[str]] = defaultdict(set)
        for note in self.notes.values():
            for _, found in self.resolved(note):
                if found.path is not None and found.path != note.path:
                    index[found.path].add(note.path)
        return index


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


def is_variant(note: NoteRecord) -> bool:
    """Whether a note says it is a variant: ``canonical: false``, or a ``canonical_of`` link."""
    return note.property("canonical") is False or any(
        link.frontmatter_key == "canonical_of" for link in note.links
    )


def note_aliases(note: NoteRecord) -> list[str]:
    """A note's aliases as Obsidian reads them: a list (its strings only), or one string."""
    value = note.property("aliases")
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [item.strip() for item in value if isinstance(item, str) and item.strip()]
    return []


def concept_keys(path: str, aliases: Iterable[str]) -> list[str]:
    """A note's concept names in ``concept_key`` form: its file name's, then its aliases'."""
    return [concept_key(name_of(path)), *map(concept_key, aliases)]


def concept_index(keys: Iterable[tuple[str, list[str]]]) -> dict[str, list[str]]:
    """``Vault.concepts`` from each note's ``concept_keys``, given in path order."""
    index: dict[str, list[str]] = defaultdict(list)
    by_path = list(keys)
    for path, own in by_path:
        index[own[0]].append(path)
    for path, own in by_path:
        for key in own[1:]:
            owners = index[key]
            if path not in owners:
                owners.append(path)
    return index


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
        """The Markdown notes among the files: (vault path, path on disk), in walk order."""
        return [(path, disk) for path, disk in self.files.items() if is_note_path(path)]

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
    from conceptgraph.parse import parse_note

    try:
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


def load_vault(
    root: Path, config: Config, jobs: int | None = None, found: Discovery | None = None
) -> Vault:
    """Discover (unless ``found`` is given), read and index a whole vault."""
    if found is None:
        found = discover(root, config)
    notes = {record.path: record for record in read_notes(root, found.notes, jobs)}
    for record in found.broken:
        notes.setdefault(record.path, record)
    return Vault.found(root, config, found, notes)


def is_note_path(path: str) -> bool:
    """Whether a file is a Markdown note by its name."""
    return path.lower().endswith(NOTE_SUFFIX)
