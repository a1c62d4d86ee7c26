"""The vault: a folder -> ``Vault``, its notes read and indexed as Obsidian resolves links.

In: a folder and its :class:`~conceptgraph.config.Config`. Out: a
:class:`~conceptgraph.vault.load.Vault` (the notes' records, every file, and the indexes that
say what each link leads to and which notes carry a concept).

- :mod:`.discovery`: walking the folder (hidden folders skipped, NFC names, links out refused);
- :mod:`.read`: reading notes safely, in parallel when many, or only on demand;
- :mod:`.resolve`: Obsidian's link resolution and the heading and block-id index;
- :mod:`.concepts`: titles and aliases as concept keys;
- :mod:`.load`: the ``Vault`` that holds them, built by :func:`load_vault`.

The names below are the stage's public face (``from conceptgraph.vault import load_vault``).
"""

from conceptgraph.vault.concepts import concept_index, concept_keys, is_variant, note_aliases
from conceptgraph.vault.discovery import NOTE_SUFFIX, Discovery, discover, is_note_path
from conceptgraph.vault.load import NamedNegation, Vault, load_vault
from conceptgraph.vault.read import (
    MAX_NOTE_BYTES,
    NotANoteError,
    NotesOnDemand,
    gc_paused,
    read_bytes,
    read_bytes_stat,
    read_note,
    read_notes,
    read_stamped_note,
    release_frozen,
)
from conceptgraph.vault.resolve import LISTED, Resolution, SubpathIndex, find_subpath

__all__ = [
    "LISTED",
    "MAX_NOTE_BYTES",
    "NOTE_SUFFIX",
    "Discovery",
    "NamedNegation",
    "NotANoteError",
    "NotesOnDemand",
    "Resolution",
    "SubpathIndex",
    "Vault",
    "concept_index",
    "concept_keys",
    "discover",
    "find_subpath",
    "gc_paused",
    "is_note_path",
    "is_variant",
    "load_vault",
    "note_aliases",
    "read_bytes",
    "read_bytes_stat",
    "read_note",
    "read_notes",
    "read_stamped_note",
    "release_frozen",
]
