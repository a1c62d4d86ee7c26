"""The vault's triples kept on disk between queries, as an Oxigraph store opened read-only.

A query reads every note, builds the graph and loads its triples: about 4 s at 10,000 notes,
where the whole command takes 0.4 s when it opens a stored copy instead. The copy is named by
the vault's *state*: every file's vault path, size, mtime and inode, the configuration, the
base IRI, the conceptgraph code and the Markdown engine, signed with this user's cache key
(that of the lint cache, see :mod:`conceptgraph.lint.cache`). So a copy is used only for the very
vault it was built from, and one planted in a vault from elsewhere has a name no one without
the key can give it. A file written in the last two seconds could change again within its
timestamp tick: then no copy is used or kept.

A copy costs time to write (about 5 s at 10,000 notes: Oxigraph sorts every triple into each
of its indexes) and disk (112 MB there), so the first query in a vault keeps none: it leaves a
mark, and the queries after it keep copies. Such a query writes its triples to a file as it
makes them, answers from memory, and leaves the copy to a process of its own (``copying``):
the query takes no longer than one that keeps nothing. Older copies are removed; a copy is
written under a temporary name and renamed whole, so a query racing another finds a complete
copy or none.

After an edit, a query brings the copy up to date rather than read the whole vault (0.5 s
against 4 s at 10,000 notes): beside each copy is its manifest, what it was made from (every
file's stamp) and each note's concept names, signed like the copy's name. While the vault
has the same files and configuration, and the notes changed keep their names, only their own
triples and those of the concepts and attachments they name can change (``updated``). A copy
updated while a file is being written gets a name no state has, and is updated again by the
next query, which reads that file again.
"""

from __future__ import annotations

import contextlib
import hmac
import marshal
import os
import re
import secrets
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox

from conceptgraph.config import Config
from conceptgraph.lint.cache import (
    RACY_NS,
    cache_folder,
    code_digest,
    own_folder,
    prepare_folder,
    seal,
    signing_key,
    unseal,
)
from conceptgraph.model import NoteRecord
from conceptgraph.note.markdown.engine import parser_in_use
from conceptgraph.rdf.sparql import ntriples
from conceptgraph.rdf.triples import CG, RDF, PartTriples
from conceptgraph.vault.concepts import concept_index, concept_keys, note_aliases
from conceptgraph.vault.discovery import Discovery, discover, is_note_path
from conceptgraph.vault.load import Vault
from conceptgraph.vault.read import NotesOnDemand, read_note

STORE_DIR = "rdf"
_SCHEMA = 2
_MARK = "queried"  # left by the first query in a vault: the next ones keep copies
_TEMP = ".tmp-"
_NAMES = ".names"  # beside a copy: its state and the notes' aliases (``Manifest``)
# A copy another query may still have open is left alone for this long after it was replaced.
_GRACE_S = 60.0
# Inside every copy this process family makes: pruning removes a folder only if it holds one.
_OURS = "conceptgraph-copy"
# The names of what queries write in the store folder (copies by state key or racy name, their
# manifests, files being written): pruning looks at nothing else.
_WRITTEN = re.compile(r"(?:[0-9a-f]{40}|r-[0-9a-f]{16}|\.tmp-[0-9]+-[0-9a-f]+)(?:\.nt|\.names)?")


@dataclass(frozen=True)
class State:
    """What a vault's triples follow from: every file's stamp, and all the rest.

    ``key`` names the copy kept for this state; None while a file was written within its
    timestamp tick (``racy``), when its stamp proves nothing about its bytes.
    """

    found: Discovery
    context: str  # all but the stamps: code, engine, configuration, base IRI, odd files
    stamps: dict[str, tuple[int, int, int]]  # each file's size, mtime and inode, by vault path
    racy: frozenset[str]
    key: str | None


def vault_state(root: Path, config: Config, base: str) -> State | None:
    """The vault's state, or None when a file vanishes meanwhile or there is no signing key."""
    found = discover(root, config)
    now = time.time_ns()
    prefix = f"{root}{os.sep}"
    stamps: dict[str, tuple[int, int, int]] = {}
    racy = set()
    for path, disk in sorted(found.files.items()):
        try:
            info = os.stat(prefix + disk)
        except OSError:
            return None  # gone since it was found: being changed
        stamps[path] = (info.st_size, info.st_mtime_ns, info.st_ino)
        if now - info.st_mtime_ns < RACY_NS:
            racy.add(path)
    context = repr(
        (
            _SCHEMA,
            code_digest(),
            parser_in_use(),
            repr(config),
            base,
            sys.version,
            sorted(found.shadowed.items()),
            sorted(record.path for record in found.broken),
        )
    )
    try:
        secret = signing_key()
    except OSError:
        return None
    key = None
    if not racy:
        state = repr((context, list(stamps.items()))).encode()
        key = hmac.new(secret, state, "blake2b").hexdigest()[:40]
    return State(found, context, stamps, frozenset(racy), key)


def state_key(root: Path, config: Config, base: str) -> str | None:
    """The name of the vault's stored copy, or None when the vault is being written to."""
    state = vault_state(root, config, base)
    return state.key if state is not None else None


def store_folder(root: Path) -> Path | None:
    """The folder of the vault's kept copies, made if missing; None where none can be kept.

    None also where the cache folder or this one is, or holds, a symbolic link that
    conceptgraph did not make (``prepare_folder``): nothing is written or removed through it.
    """
    try:
        prepare_folder(cache_folder(root))
        folder = cache_folder(root) / STORE_DIR
        own_folder(folder)
    except OSError:
        return None
    return folder


def stored(root: Path, key: str) -> ox.Store | None:
    """The copy kept for this state, opened read-only; None if there is none.

    A copy that does not open (damaged on disk: Oxigraph says RuntimeError) is removed, so
    that the query after this one can keep a sound one in its place.
    """
    folder = store_folder(root)
    if folder is None:
        return None
    path = folder / key
    with contextlib.suppress(OSError):
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            return None
    try:
        return ox.Store.read_only(str(path))
    except (OSError, RuntimeError):
        shutil.rmtree(path, ignore_errors=True)
        return None


def keeping(root: Path) -> bool:
    """Whether queries are repeated in this vault, so that ``keep`` is worth its time.

    The first query in a vault says no, and leaves a mark that says yes to the next ones: a
    one-shot query in CI pays nothing for a copy no one would read.
    """
    folder = store_folder(root)
    if folder is None:
        return False
    try:
        mark = folder / _MARK
        if mark.exists():
            return True
        mark.touch()
    except OSError:
        pass
    return False


@dataclass
class Copy:
    """Where a query that keeps a copy puts the vault's triples as it makes them.

    With them, each note's concept names (``concept_keys``: its file name's and its aliases')
    as the triples were made with them: an update of the copy
    after an edit needs them (see ``updated``).
    """

    out: BinaryIO | None
    failed: bool = False
    keys: dict[str, list[str]] | None = field(default=None, repr=False)

    def write(self, data: bytes) -> None:
        """Keep a batch of N-Triples."""
        if self.out is not None and not self.failed:
            try:
                self.out.write(data)
            except OSError:  # a full disk, say: no copy, and the query goes on
                self.failed = True

    def names(self, keys: Mapping[str, list[str]]) -> None:
        """Keep each note's concept names, by path."""
        self.keys = dict(keys)


@contextlib.contextmanager
def copying(root: Path, state: State, graph: str) -> Iterator[Copy]:
    """A sink for the vault's N-Triples as they are made; a copy is kept of them after.

    The triples go to a file in the store folder. On leaving (unless by an exception), a
    process of its own, in a session of its own, makes the copy for ``state`` from that
    file and removes it, while this one goes on. Nothing is raised: a copy that cannot be
    written costs the next query time, not an answer.
    """
    assert state.key is not None, "no copy is kept of a vault being written to"
    folder = store_folder(root)
    if folder is None:
        yield Copy(None)  # no copy: the triples go nowhere
        return
    source = folder / f"{_TEMP}{os.getpid()}-{secrets.token_hex(4)}.nt"
    names = source.with_suffix(_NAMES)
    try:
        # "x" (O_EXCL): never write through a file or link someone put at this name.
        out = open(source, "xb")  # noqa: SIM115  (closed below, before the copy is started)
    except OSError:
        yield Copy(None)  # no copy: the triples go nowhere
        return
    copy = Copy(out)
    try:
        with out:
            yield copy
    except BaseException:
        source.unlink(missing_ok=True)
        raise
    command = [sys.executable, "-c", _KEEP, str(root), state.key, str(source), graph]
    # This very package, wherever this process found it.
    package = str(Path(__file__).resolve().parent.parent)
    paths = [package, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    _prune(folder, state.key)  # what copying processes that died left, before another starts
    try:
        if copy.failed or not sys.executable:
            raise OSError("no triples to keep, or no interpreter to keep them")
        if copy.keys is not None:
            _write_manifest(names, state, copy.keys)
            command.append(str(names))
        # It forks the process that writes the copy, and ends: waited for, it leaves no
        # zombie behind, and the one that writes is no child of this one.
        quiet = subprocess.DEVNULL  # this process may be long gone, and its terminal with it
        subprocess.run(
            command,
            stdin=quiet,
            stdout=quiet,
            stderr=quiet,
            env=env,
            start_new_session=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        source.unlink(missing_ok=True)
        names.unlink(missing_ok=True)


def keep_store(
    root: Path, state: State, graph: str, store: ox.Store, keys: Mapping[str, list[str]]
) -> None:
    """Keep a copy, for ``state``, of the triples a store holds in ``graph`` (as ``copying``).

    ``keys``: each note's concept names, as the triples were made with them. Nothing is raised.
    """
    with contextlib.suppress(OSError, RuntimeError), copying(root, state, graph) as copy:
        if copy.out is not None:
            try:
                store.dump(copy.out, format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))
            except (OSError, RuntimeError):  # a full disk, say: no copy
                copy.failed = True
        copy.names(keys)


# What the process ``copying`` starts runs: ``keep`` on the file of triples, then removes it.
# It ends with an error, and the file is removed, if it cannot import this package.
_KEEP = """
import os, sys
from pathlib import Path
import conceptgraph
if hasattr(os, "fork") and os.fork():
    os._exit(0)
# Work for later: the query or server that started it goes first on the cores.
if hasattr(os, "nice"):
    try:
        os.nice(19)
    except OSError:
        pass
root, key, source, graph, *names = sys.argv[1:]
try:
    from conceptgraph.rdf.store import keep
    keep(Path(root), key, Path(source), graph, Path(names[0]) if names else None)
finally:
    Path(source).unlink(missing_ok=True)
    for path in names:
        Path(path).unlink(missing_ok=True)
"""


def keep(root: Path, key: str, ntriples: Path, graph: str, manifest: Path | None = None) -> None:
    """Keep a copy of the vault's triples (an N-Triples file) for its state ``key``.

    ``manifest``, if given, is what an update of the copy needs (``_write_manifest``): it
    is kept beside the copy. Of two copies racing for one state, the first stays. Nothing is
    raised: a copy that cannot be written costs the next query time, not an answer.
    """
    folder = store_folder(root)
    if folder is None:
        return
    with contextlib.suppress(OSError):
        temp = folder / f"{_TEMP}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            _write(temp, ntriples, graph)
            # Fails if another query kept the same copy first: that one stays.
            os.rename(temp, folder / key)
            if manifest is not None:
                os.replace(manifest, folder / (key + _NAMES))
        except OSError:
            pass
        finally:
            shutil.rmtree(temp, ignore_errors=True)
        _prune(folder, key)


def _write(path: Path, ntriples: Path, graph: str) -> None:
    path.mkdir()  # fails on anything already there: a copy is made in a folder of its own
    (path / _OURS).write_bytes(b"")
    store = ox.Store(str(path))
    # Read from the file as it loads: the triples need not all be held at once as well.
    target = ox.NamedNode(graph)
    store.bulk_load(path=ntriples, format=ox.RdfFormat.N_TRIPLES, to_graph=target)
    store.flush()
    del store  # closed: the rename must not move files still being written


def _prune(folder: Path, key: str) -> None:
    """Remove the copies of earlier states, and what runs that died left half written.

    Only what queries write here is removed: an entry named as they name theirs, never
    through a link, and a folder only if it holds the mark each copy is made with.
    """
    now = time.time()
    with os.scandir(folder) as entries:
        found = [e for e in entries if e.name not in (key, key + _NAMES)]
    for entry in found:
        if not _WRITTEN.fullmatch(entry.name) or entry.is_symlink():
            continue
        with contextlib.suppress(OSError):
            info = entry.stat(follow_symlinks=False)
            if now - info.st_mtime <= _GRACE_S:
                continue
            if stat.S_ISDIR(info.st_mode):
                if stat.S_ISREG(os.lstat(os.path.join(entry.path, _OURS)).st_mode):
                    # On this platform rmtree walks by file descriptor: no link is followed.
                    shutil.rmtree(entry.path, ignore_errors=True)
            elif stat.S_ISREG(info.st_mode):
                os.unlink(entry.path)  # the triples of a copy whose process died


@dataclass(frozen=True)
class Manifest:
    """What a copy was made from: the vault's state then, and each note's concept names."""

    context: str
    stamps: dict[str, tuple[int, int, int]]
    racy: frozenset[str]
    keys: dict[str, list[str]]  # ``concept_keys``, by path


def _write_manifest(path: Path, state: State, keys: Mapping[str, list[str]]) -> None:
    """Write a copy's manifest (signed with this user's key) to ``path``; OSError if it fails."""
    plain = (_SCHEMA, state.context, state.stamps, sorted(state.racy), dict(keys))
    path.write_bytes(seal(signing_key(), marshal.dumps(plain)))


def _read_manifest(path: Path) -> Manifest | None:
    """The manifest at ``path`` if this user wrote it for this code; None otherwise."""
    try:
        data = unseal(signing_key(), path.read_bytes())
        plain = marshal.loads(data) if data is not None else None
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(plain, tuple) or len(plain) != 5 or plain[0] != _SCHEMA:
        return None
    _, context, stamps, racy, keys = plain
    return Manifest(context, stamps, frozenset(racy), keys)


_TYPE = ox.NamedNode(RDF + "type")
_WITHOUT_NOTE = ox.NamedNode(CG + "ConceptWithoutNote")
_ATTACHMENT = ox.NamedNode(CG + "Attachment")
# Beyond this many notes changed since a copy was made, the copy is made again: reading the
# whole vault in workers is then about as quick as updating the copy note by note.
MOST_CHANGED = 200


class _Unread(NotesOnDemand):
    """Every note of the vault by path; those not handed over are read only if asked for."""

    def __iter__(self) -> Iterator[str]:
        return self.paths()


def updated(root: Path, config: Config, base: str, state: State) -> ox.Store | None:
    """The copy of an earlier state, brought up to ``state``, opened read-only; or None.

    Taken when the vault has the same files as then and the same configuration, and the
    notes changed since keep their concept names (aliases): then no other note's triples
    change (links resolve by file names, and a negation in plain words by names and
    aliases). Each changed note's triples are replaced, and so are those of the concepts
    without a note and the attachments it names or named: a concept is placed where the
    first note by path names it, and goes once no note does. The copy is taken out of
    others' reach while it is updated (renamed), and kept under the new state's name after.
    """
    folder = store_folder(root)
    if folder is None:
        return None
    found = _newest_manifest(folder, state.context)
    if found is None:
        return None
    name, manifest = found
    if manifest.stamps.keys() != state.stamps.keys():
        return None  # files were added or removed: links may lead elsewhere
    changed = sorted(
        path
        for path, stamp in state.stamps.items()
        if is_note_path(path)
        and (manifest.stamps[path] != stamp or path in manifest.racy or path in state.racy)
    )
    if len(changed) > MOST_CHANGED:
        return None
    disk = state.found.files
    records = {path: read_note(root, path, disk[path]) for path in changed}
    if any(
        concept_keys(path, note_aliases(note)) != manifest.keys.get(path)
        for path, note in records.items()
    ):
        return None  # the concept index changed: so may other notes' negations
    temp = folder / f"{_TEMP}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.rename(folder / name, temp)  # fails if another query took it first
    except OSError:
        return None
    new_name = state.key or f"r-{secrets.token_hex(8)}"  # a racy state has no name to find
    try:
        store = ox.Store(str(temp))
        _update(store, root, config, state, records, manifest.keys, base)
        store.flush()
        del store  # closed: the rename must not move files still being written
        _write_manifest(folder / (new_name + _NAMES), state, manifest.keys)
        os.rename(temp, folder / new_name)
    except (OSError, RuntimeError, ValueError):
        # Half updated, or kept by another query meanwhile: let go either way.
        shutil.rmtree(temp, ignore_errors=True)
        return stored(root, new_name)
    finally:
        if name != new_name:
            (folder / (name + _NAMES)).unlink(missing_ok=True)
    return stored(root, new_name)


def _newest_manifest(folder: Path, context: str) -> tuple[str, Manifest] | None:
    """The newest copy made with ``context`` that has a manifest: its name, and the manifest."""
    try:
        entries = sorted(
            (entry.stat().st_mtime_ns, entry.name) for entry in folder.glob("*" + _NAMES)
        )
    except OSError:
        return None
    for _, file_name in reversed(entries):
        name = file_name.removesuffix(_NAMES)
        if name.startswith(_TEMP) or not (folder / name).is_dir():
            continue
        manifest = _read_manifest(folder / file_name)
        if manifest is not None and manifest.context == context:
            return name, manifest
    return None


def _update(
    store: ox.Store,
    root: Path,
    config: Config,
    state: State,
    records: dict[str, NoteRecord],
    keys: dict[str, list[str]],
    base: str,
) -> None:
    """Replace the triples of the notes ``records`` holds, and of what they name, in ``store``."""
    graph = ox.NamedNode(base)
    notes = _Unread(records, dict(state.found.notes), root, 1)
    for record in state.found.broken:
        if record.path not in notes:
            notes[record.path] = record  # as ``load_vault`` holds them
    vault = Vault.found(root, config, state.found, notes)
    vault.__dict__["concepts"] = concept_index(sorted(keys.items()))
    parts = PartTriples(vault, base)
    concepts: dict[str, dict[str, Any]] = {}
    groups = parts.part(records, concepts)
    notes_iri = [ox.NamedNode(parts.iri(f"note:{path}")) for path in records]
    named: set[ox.NamedNode] = set()  # what the changed notes led to, before and after
    for note in notes_iri:
        owned, others = _led_to(store, note, graph)
        named |= others
        for subject in {note, *owned}:
            _remove(store, subject, graph)
    store.load(ntriples(groups.items()), ox.RdfFormat.N_TRIPLES, to_graph=graph)
    for note in notes_iri:
        named |= _led_to(store, note, graph)[1]
    paths = parts.paths()
    # Those named now, and those the store says are concepts or attachments.
    by_iri = {parts.iri(node): node for node in concepts}
    placing = {ox.NamedNode(iri) for iri in by_iri}
    for target in named - placing:
        if ox.Quad(target, _TYPE, _WITHOUT_NOTE, graph) in store:
            placing.add(target)
        elif ox.Quad(target, _TYPE, _ATTACHMENT, graph) in store and not any(
            store.quads_for_pattern(None, None, target, graph)
        ):
            _remove(store, target, graph)  # linked no more
    for target in placing:
        _place(store, target, graph, parts, concepts, by_iri, paths)


def _place(
    store: ox.Store,
    concept: ox.NamedNode,
    graph: ox.NamedNode,
    parts: PartTriples,
    concepts: dict[str, dict[str, Any]],
    by_iri: dict[str, str],
    paths: dict[str, str],
) -> None:
    """Give a concept without a note the triples of where the first note by path names it.

    ``concepts`` are those the changed notes name, ``by_iri`` their nodes by IRI.
    """
    namers = sorted(
        paths[q.subject.value]
        for q in store.quads_for_pattern(None, None, concept, graph)
        if isinstance(q.subject, ox.NamedNode) and is_note_path(paths.get(q.subject.value, ""))
    )
    _remove(store, concept, graph)
    if not namers:
        return  # named by no note any more
    first = namers[0]
    node = by_iri.get(concept.value)
    if node is not None and concepts[node]["path"] == first:
        data = concepts[node]
    else:
        # First named by a note not changed: where, that note says.
        theirs: dict[str, dict[str, Any]] = {}
        parts.part([first], theirs)
        node = next(n for n in theirs if parts.iri(n) == concept.value)
        data = theirs[node]
    store.load(
        ntriples(parts.concepts({node: data}).items()), ox.RdfFormat.N_TRIPLES, to_graph=graph
    )


def _led_to(
    store: ox.Store, note: ox.NamedNode, graph: ox.NamedNode
) -> tuple[set[ox.NamedNode], set[ox.NamedNode]]:
    """What a note's triples lead to: its own resources ("<note>:negation:1"), and the rest."""
    owned: set[ox.NamedNode] = set()
    others: set[ox.NamedNode] = set()
    for quad in store.quads_for_pattern(note, None, None, graph):
        target = quad.object
        if isinstance(target, ox.NamedNode):
            (owned if target.value.startswith(f"{note.value}:") else others).add(target)
    return owned, others


def _remove(store: ox.Store, subject: ox.NamedNode, graph: ox.NamedNode) -> None:
    for quad in list(store.quads_for_pattern(subject, None, None, graph)):
        store.remove(quad)
