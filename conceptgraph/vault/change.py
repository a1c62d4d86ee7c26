"""Files added to or removed from a vault on disk, taken into a loaded ``Vault`` in place.

Loading the vault again would read and index every note for the sake of one; instead the list
of files is replaced, the indexes built from it are dropped (they are cheap to build again
from the list), and the caller re-checks the notes whose links the change can redirect: those
whose links name a file of the same base name (:func:`consulted`, :func:`bucket`), which is all
Obsidian's resolution looks at before it ranks (see ``Vault.resolve_linkpath``).
"""

from __future__ import annotations

import posixpath
import unicodedata
from collections.abc import Mapping, Set

from conceptgraph.model import NoteRecord
from conceptgraph.names import fold
from conceptgraph.vault.discovery import NOTE_SUFFIX, Discovery
from conceptgraph.vault.load import Vault

# The vault's indexes built from its list of files alone.
_FILE_INDEXES = ("_by_path", "_by_base", "_by_folded_path", "_by_reversed_path", "_file_order")


def bucket(path: str) -> str:
    """The base name a vault path is found by, as ``Vault`` indexes it."""
    return fold(path[path.rfind("/") + 1 :])


def consulted(target: str) -> tuple[str, ...]:
    """The base names whose files a link target can lead to (``Vault.resolve_linkpath``).

    A file added or removed under another base name leaves where the link leads as it was.
    """
    written = unicodedata.normalize("NFC", target.replace("\u00a0", " ").strip())
    if not written:
        return ()
    base = posixpath.basename(written.lower())
    return (base, base + NOTE_SUFFIX)


def linking(notes: Mapping[str, NoteRecord], bases: Set[str]) -> set[str]:
    """The notes with a link whose target reads the files of one of ``bases``."""
    found = set()
    for path, note in notes.items():
        for link in note.links:
            if link.target and not bases.isdisjoint(consulted(link.target)):
                found.add(path)
                break
    return found


def refile(vault: Vault, found: Discovery, added: Mapping[str, NoteRecord]) -> None:
    """Make ``found`` the vault's files, with the notes read of those ``added`` to it.

    The notes keep the order a fresh load gives them (the walk's), which is the order the name
    indexes list a name's notes in. What was worked out from the old list (where each link
    leads, the name indexes) is dropped, to be worked out again on demand.
    """
    old = vault.notes
    notes = {path: added[path] if path in added else old[path] for path, _ in found.notes}
    for record in found.broken:
        notes.setdefault(record.path, old.get(record.path, record))
    for path in old.keys() - notes.keys():
        vault.forget(path)
    vault.notes = notes
    vault.files = tuple(found.files)
    vault.disk = found.renamed()
    vault.shadowed = found.shadowed
    for name in _FILE_INDEXES:
        vault.__dict__.pop(name, None)
    vault._cache.clear()
    vault._anywhere.clear()
    vault._rankings.clear()
