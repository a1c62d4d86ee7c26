"""A folder -> ``Vault``: its files, the notes read from them, and the indexes links resolve by.

``Vault`` answers what a link leads to (:mod:`.resolve`), which notes carry a concept
(:mod:`.concepts`) and what each negation names, working each out once and keeping it.
"""

from __future__ import annotations

import bisect
import posixpath
import unicodedata
from collections import defaultdict
from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from conceptgraph.config import Config
from conceptgraph.model import Link, NoteRecord, name_of
from conceptgraph.names import concept_key, fold, heading_key
from conceptgraph.note.negation import Negation, negations
from conceptgraph.vault.concepts import concept_index, concept_keys, is_variant, note_aliases
from conceptgraph.vault.discovery import NOTE_SUFFIX, Discovery, discover, is_note_path
from conceptgraph.vault.read import read_notes
from conceptgraph.vault.resolve import (
    _RANKED_DIRECTLY,
    Resolution,
    SubpathIndex,
    _case_first,
    _ranked,
    _Ranking,
)
from conceptgraph.vault.suggest import Suggestions


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
    # Each note's links, and where each leads: a pair a link cost 72 bytes, a third of what
    # a note of a million links held.
    _resolved: dict[str, tuple[tuple[Link, ...], tuple[Resolution, ...]]] = field(
        default_factory=dict, repr=False
    )
    _negations: dict[str, list[NamedNegation]] = field(default_factory=dict, repr=False)
    _subpaths: dict[str, tuple[NoteRecord, SubpathIndex]] = field(default_factory=dict, repr=False)
    _heading_names: dict[str, tuple[NoteRecord, Suggestions]] = field(
        default_factory=dict, repr=False
    )
    # For each vault rule that gathers (see ``lint.rule.rule``): what it gathered of each
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
        self._heading_names.pop(path, None)

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

    @cached_property
    def _note_names(self) -> Suggestions:
        # From the list of files and the folded aliases alone, which workers and the cache
        # keep, so that a cached run need not read every note for their aliases as written.
        names = [(name_of(path), path) for path in self.files if is_note_path(path)]
        for alias, paths in sorted(self.aliases.items()):
            names.extend((alias, path) for path in paths)
        return Suggestions(names)

    def near_names(self, written: str) -> list[tuple[str, str]]:
        """The note names and aliases nearest a link target that names nothing, with their notes.

        Up to three, by edit distance without case (:mod:`.suggest`); the target's folder and
        ``.md`` are not compared.
        """
        return self._note_names.nearest(name_of(written.strip()))

    def near_headings(self, note: NoteRecord, heading: str) -> list[str]:
        """The headings of ``note`` nearest ``heading``, which it does not have, as written."""
        kept = self._heading_names.get(note.path)
        if kept is None or kept[0] is not note:
            names = [(heading_key(h.text), h.text) for h in note.headings]
            kept = self._heading_names[note.path] = (note, Suggestions(names))
        return [text for _, text in kept[1].nearest(heading_key(heading))]

    def resolved(self, note: NoteRecord) -> Iterator[tuple[Link, Resolution]]:
        """Every link of a note with where it leads; worked out once per note for all rules."""
        found = self._resolved.get(note.path)
        if found is None:
            found = (note.links, tuple([self.resolve(link, note.path) for link in note.links]))
            self._resolved[note.path] = found
        return zip(*found, strict=True)

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
