"""Watching vaults: wait until a file in them changes, by polling what the folders list.

Polling, not inotify/FSEvents (``watchfiles``): a lint of the vault costs far more than a look
at its file list, polling works the same on every platform, in containers and on network and
synced folders (where Obsidian vaults often live and change events are unreliable), and it adds
no compiled dependency. The interval grows with the vault so a large one is not rescanned
without pause.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path

from conceptgraph.api import find_vault_root
from conceptgraph.boundary import Boundary
from conceptgraph.config import load_config
from conceptgraph.errors import ConceptgraphError

# A file's identity and contents as far as a poll can tell without reading it.
Stamp = tuple[int, int, int]
Snapshot = dict[Path, Stamp]

INTERVAL = 0.5
# Editors and `git checkout` write many files in a burst: wait until a scan finds nothing new
# (at most this many scans) so the burst is linted once.
_SETTLE_SCANS = 4


def watch_roots(paths: Sequence[Path]) -> list[Path]:
    """The folders to watch for ``paths``: each folder itself, each note's whole vault.

    A note's findings depend on every file its links may name, so a note is watched with its
    vault.
    """
    roots: list[Path] = []
    for path in paths:
        root = path.resolve() if path.is_dir() else find_vault_root(path)
        if root not in roots:
            roots.append(root)
    return roots


def _boundary(root: Path) -> Boundary:
    try:
        allowed = load_config(root).allow_symlinks_to
    except ConceptgraphError:
        allowed = ()  # the lint that follows says what is wrong with the configuration
    return Boundary.of(root, allowed)


def snapshot(roots: Sequence[Path], ignore: Collection[Path] = ()) -> Snapshot:
    """Every file under ``roots`` but ``ignore`` (and hidden files and folders, as in a vault).

    Symbolic links that lead out of a root are not followed, as discovery does not follow them.
    """
    stamps: Snapshot = {}
    seen: set[tuple[int, int]] = set()
    for root in roots:
        boundary = _boundary(root)
        for folder, dirs, files in os.walk(root, followlinks=True):
            try:
                info = os.stat(folder)
            except OSError:
                dirs[:] = []
                continue
            # Symlinked folders are followed once, so a link loop ends there.
            if (info.st_dev, info.st_ino) in seen:
                dirs[:] = []
                continue
            seen.add((info.st_dev, info.st_ino))
            dirs[:] = [
                n
                for n in dirs
                if not n.startswith(".") and boundary.follows(os.path.join(folder, n))
            ]
            for name in files:
                if name.startswith(".") or not boundary.follows(os.path.join(folder, name)):
                    continue
                path = Path(folder, name)
                if path in ignore:
                    continue
                try:
                    stat = path.stat()
                except OSError:
                    continue
                stamps[path] = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    return stamps


def changed(before: Snapshot, after: Snapshot) -> set[Path]:
    """The files added, removed or modified between two snapshots."""
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


def changes(
    roots: Sequence[Path],
    interval: float = INTERVAL,
    sleep: Callable[[float], None] = time.sleep,
    ignore: Collection[Path] = (),
    since: Snapshot | None = None,
) -> Iterator[set[Path]]:
    """Yield the set of changed files each time files under ``roots`` change; never ends.

    Polls every ``interval`` seconds, or ten times as long as a scan takes, whichever is
    longer; a burst of changes is yielded once, after it settles. Files in ``ignore`` (absolute
    paths, such as a report the watcher itself writes into the vault) never count. Changes are
    counted from ``since`` if given: take it before linting, so that a save during the lint is
    not missed.
    """
    started = time.monotonic()
    fresh = snapshot(roots, ignore)
    pause = max(interval, 10 * (time.monotonic() - started))
    current = fresh if since is None else since
    while True:
        sleep(pause)
        latest = snapshot(roots, ignore)
        touched = changed(current, latest)
        if not touched:
            continue
        for _ in range(_SETTLE_SCANS):
            sleep(interval)
            settled = snapshot(roots, ignore)
            more = changed(latest, settled)
            latest = settled
            if not more:
                break
            touched |= more
        current = latest
        yield touched
