"""What ``serve``'s query workers open: one on-disk store of the vault's triples, shared.

Each worker used to load the whole graph into a store of its own (about 5 s, and the graph's
memory once per worker, at 10,000 notes). Now the server finds the copy of the triples that
``query`` keeps (:mod:`conceptgraph.rdf.store`): the copy of the vault as it is, or an earlier
one brought up to date. The workers each open it read-only, which takes them a moment and no
memory of their own for the graph. Where there is no copy yet, the server reads the vault as
a first query does, into a store in its memory, and forks its first workers from itself: they
hold that store as it is, its pages shared, and answer at once, while a process of its own
makes the copy for the next start and the first edit. (Before, the graph was dumped as N-Quads
and each worker, started afresh, loaded it again: 12 s to the first answer at 10,000 notes,
against 4.3 s now. Making the copy first and then opening it was slower still.) A worker
started later, in place of one a runaway query ended, is a fresh process: it gets the graph
as N-Quads, dumped from that store when first needed.

The kept copy is not the server's to hold: a query after an edit renames and updates it, and
one after that prunes what it replaced. So the server serves a snapshot of its own: Oxigraph's
``backup``, hard links to the copy's immutable files, made in an instant and beside it
(``serve-<pid>-<n>``). After an edit (``--watch``) the copy is updated as a query would, a new
snapshot taken, and each worker opens that one; the snapshots before the last two are removed,
and all of them when the server ends. Snapshots a killed server left are removed by the next
one to start in the vault.

Where no copy can be kept (a file written in the last two seconds, no cache folder, or the
cache turned off), the workers are forked in the same way, and no copy is made.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from conceptgraph.config import load_config
from conceptgraph.rdf.store import (
    Copy,
    State,
    keep_store,
    store_folder,
    stored,
    updated,
    vault_state,
)
from conceptgraph.rdf.triples import check_base, default_base

if TYPE_CHECKING:
    from conceptgraph.rdf.sparql import TriplesCopy

_SNAPSHOT = re.compile(r"serve-([0-9]+)-[0-9]+")


@dataclass(frozen=True, slots=True)
class Dataset:
    """What a worker opens: a store's folder (read-only), or N-Quads to load in memory.

    Or a store in this process's memory (``store``), which only a worker forked from it can open.
    """

    base: str
    folder: str | None = None
    nquads: bytes = b""
    store: ox.Store | None = field(default=None, repr=False, compare=False)

    def open(self) -> ox.Store:
        """The store this dataset names."""
        if self.store is not None:
            return self.store
        if self.folder is not None:
            return ox.Store.read_only(self.folder)
        store = ox.Store()
        store.bulk_load(self.nquads, format=ox.RdfFormat.N_QUADS)
        return store

    def portable(self) -> Dataset:
        """The dataset as a process started afresh can open it: a store in memory dumped."""
        if self.store is None:
            return self
        return Dataset(self.base, nquads=self.store.dump(format=ox.RdfFormat.N_QUADS) or b"")


class SharedStore:
    """The vault's triples as the server's workers open them, kept current on request."""

    def __init__(self, root: Path, base: str | None = None, cache: bool = True) -> None:
        self.root = root.resolve()
        self.base = check_base(base) if base is not None else default_base(self.root)
        self.cache = cache
        self._snapshots: list[Path] = []
        self._made = 0
        self._pending: tuple[State, ox.Store, dict[str, list[str]]] | None = None
        self._keeping: threading.Thread | None = None
        if cache:
            _remove_orphans(self.root)

    def dataset(self, jobs: int | None = None) -> Dataset:
        """The vault's triples as they are now (``jobs``: for reading the vault, if it must)."""
        if self.cache:
            config = load_config(self.root)
            state = vault_state(self.root, config, self.base)
            if state is not None:
                store = stored(self.root, state.key) if state.key is not None else None
                if store is None:
                    store = updated(self.root, config, self.base, state)
                if store is not None:
                    snapshot = self._snapshot(store)
                    if snapshot is not None:
                        return Dataset(self.base, folder=str(snapshot))
                elif state.key is not None:
                    # The copy is made from the store read here, by a process of its own, once
                    # the workers have it (``settle``): the triples are not written out as they
                    # are read, which made the first answer 1.2 times a first query's time.
                    names = Copy(None)
                    made, base = vault_store(self.root, self.base, jobs, names)
                    self._pending = (state, made, names.keys or {})
                    return Dataset(base, store=made)
        made, base = vault_store(self.root, self.base, jobs)
        return Dataset(base, store=made)

    def settle(self) -> None:
        """Start making the copy of the triples last served from memory, if one is to be made.

        In a thread: writing the triples out takes a moment, and the server answers meanwhile.
        """
        pending, self._pending = self._pending, None
        if pending is not None:
            state, store, keys = pending
            self._keeping = threading.Thread(
                target=keep_store, args=(self.root, state, self.base, store, keys), daemon=True
            )
            self._keeping.start()

    def _snapshot(self, store: ox.Store) -> Path | None:
        folder = store_folder(self.root)
        if folder is None:
            return None
        self._made += 1
        target = folder / f"serve-{os.getpid()}-{self._made}"
        try:
            store.backup(str(target))
        except (OSError, RuntimeError):
            shutil.rmtree(target, ignore_errors=True)
            return None
        self._snapshots.append(target)
        # A worker still at a query may have the one before open: it goes at the next edit.
        while len(self._snapshots) > 2:
            shutil.rmtree(self._snapshots.pop(0), ignore_errors=True)
        return target

    def close(self) -> None:
        """Remove every snapshot this server made."""
        self.settle()
        if self._keeping is not None:
            self._keeping.join(timeout=60)
        while self._snapshots:
            shutil.rmtree(self._snapshots.pop(), ignore_errors=True)


def _remove_orphans(root: Path) -> None:
    """Remove the snapshots of servers that are gone (killed: no clean-up ran)."""
    folder = store_folder(root)
    if folder is None:
        return
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            match = _SNAPSHOT.fullmatch(entry.name)
            if match is None or entry.is_symlink() or not entry.is_dir(follow_symlinks=False):
                continue
            if not _alive(int(match.group(1))):
                shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process, with this number
    return pid != 0


def vault_store(
    root: Path, base: str | None, jobs: int | None = None, copy: TriplesCopy | None = None
) -> tuple[ox.Store, str]:
    """The vault's graph in a store in memory (in its named graph), and its base IRI.

    A large vault is read in worker processes forked from this one (``jobs`` 1: not).
    ``copy``, if given, is handed the triples as they are made (``sparql.vault_store_at``).
    """
    from conceptgraph.rdf.sparql import vault_store_at
    from conceptgraph.vault.read import gc_paused, release_frozen

    root = root.resolve()
    base = check_base(base) if base is not None else default_base(root)
    try:
        with gc_paused():
            return vault_store_at(root, load_config(root), base, jobs, copy), base
    finally:
        release_frozen()  # the server lives on, and reloads the vault on every change


def vault_dataset(root: Path, base: str | None, jobs: int | None = None) -> tuple[bytes, str]:
    """The vault's graph as N-Quads (in its named graph) and its base IRI."""
    store, base = vault_store(root, base, jobs)
    return store.dump(format=ox.RdfFormat.N_QUADS) or b"", base
