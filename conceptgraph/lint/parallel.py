"""Checking every note of a vault in worker processes that keep the notes they read.

A first run reads and checks every note. Read in workers and sent back whole, the records cost
as much to send and rebuild as to parse, and every one of them stayed in this process: 2 GiB
at 100,000 notes. Here each worker keeps the notes it read and runs the note rules on them
itself. This process receives only what rules read of *other* notes (:func:`seen_by_others`),
what each note's facts digest and the vault rules' gatherings are, works out the indexes and
runs the vault rules, and tells each worker where to find what the others hold: each worker
writes its notes, packed as others see them, to a file in memory of its own, which every
process of the run maps and unpacks a note of when a rule asks for one. Sent over the pipes,
those bytes were held again by this process and by every worker: 130 MiB of the 2.1 GiB a
first run at 100,000 notes took.

The findings are those of ``lint``: tests hold the two to each other on every fixture vault.
It takes only the package's own rules, which read nothing of another note that
:func:`seen_by_others` leaves out (a rule of someone else's might), and a platform that forks:
the workers inherit the configuration, the rules and the list of files rather than receive
them. Where the files cannot be made or written (:class:`SharingFailed`), the caller checks
the vault without keeping workers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import mmap
import os
import pickle
import signal
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conceptgraph import progress
from conceptgraph.config import Config
from conceptgraph.errors import WorkerLostError
from conceptgraph.lint.cache import Stamp
from conceptgraph.lint.engine import crash, forking_workers, run_rules
from conceptgraph.lint.rule import Rule, Scope
from conceptgraph.model import Finding, NoteRecord
from conceptgraph.note.markdown.engine import parser_in_use
from conceptgraph.vault.concepts import concept_index, concept_keys, is_variant, note_aliases
from conceptgraph.vault.discovery import Discovery
from conceptgraph.vault.load import Vault
from conceptgraph.vault.read import NotesOnDemand, gc_paused, read_stamped_note

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

# Below this many notes, reading in a pool and checking here is quicker (a first run on
# 2 cores: 1.05 times the time at 500 notes, 0.97 at 600, 0.85 at 750, 0.91 at 1,000).
MIN_NOTES = 600
# Notes a worker reads at a time: small enough to keep the workers evenly busy.
_BATCH = 200
# Batches handed to one worker before it finishes one: it never waits for the next.
_AHEAD = 2
# From this many notes on, a linting worker keeps the notes it read packed (6 KB, not 15 KB of
# objects), and unpacks a batch at a time to check it. At 100,000 notes on 2 cores that takes
# the largest process from 1,283 MiB to 788 MiB, and the run 13% longer; below this size the
# whole records take less memory than the time is worth.
PACKED_FROM = 30_000


def seen_by_others(note: NoteRecord) -> NoteRecord:
    """What note rules read of a note while they check another one.

    Its name, frontmatter (and the links written there: ``canonical_of``), headings, block ids,
    inline directives and whether it could be decoded: the part of a note that the first half
    of its facts digest covers. Without its text, sections, body links and list items, about a
    quarter of the record.
    """
    links = tuple(link for link in note.links if link.frontmatter_key is not None)
    return dataclasses.replace(note, text="", sections=(), links=links, list_items=(), problems=())


def usable(rules: Sequence[Rule], notes: int, jobs: int | None) -> bool:
    """Whether a run over ``notes`` notes, all read, is worth checking in keeping workers."""
    return (
        forking_workers(jobs) > 1
        and notes >= MIN_NOTES
        and all(r.check.__module__.startswith("conceptgraph.") for r in rules)
    )


@dataclass(frozen=True, slots=True)
class Read:
    """What the workers sent of each note they read, by path."""

    # ``seen_by_others`` of each note, in path order, each unpacked when first asked for:
    # most never are, and 100,000 of them would take a gigabyte.
    seen: MutableMapping[str, NoteRecord]
    digests: dict[str, bytes]  # the hash of each note's bytes
    # Each note's stamp, as the file was opened to be read: none for a note that could not be
    # opened.
    stamps: dict[str, Stamp]
    facts: dict[str, bytes]
    aliases: dict[str, list[str]]  # ``note_aliases``, in path order: the name indexes
    keys: dict[str, list[str]]  # ``concept_keys``, in path order
    variants: frozenset[str]  # ``Vault.variants``
    # What each gathering vault rule took of every note; a rule whose gathering raised is
    # left out, and its crash finding is in ``crashed``.
    gathered: dict[str, dict[str, object]]
    crashed: list[Finding]


@dataclass(frozen=True, slots=True)
class _Context:
    """What workers inherit when they are forked."""

    root: Path
    config: Config
    found: Discovery  # the vault's files
    notes: tuple[str, ...]  # every note's path
    note_rules: list[Rule]
    gathering: list[Rule]
    facts: Callable[[NoteRecord], bytes] | None
    parser: str
    share: bool  # whether workers are sent what the others keep (``seen_by_others``)
    packed: bool  # whether workers keep their own notes packed (see ``PACKED_FROM``)
    # If ``share``, the file descriptor each worker writes its ``seen_by_others`` to.
    seen_files: tuple[int, ...] = ()


class _Kept(MutableMapping[str, NoteRecord]):
    """A worker's notes: those it read, and the others as packed, unpacked when asked.

    Which notes the vault has is known from the start (gathering asks whether a link leads
    to a note); another worker's notes are there to read once they are received. Its own
    notes are kept whole, or packed (``pack``): then those being checked are whole
    (``unpacking``), and the others are what another worker would see of them.
    """

    def __init__(self, paths: Iterable[str]) -> None:
        self.own: dict[str, NoteRecord] = {}
        self._paths = dict.fromkeys(paths)  # in order, and quick to look up
        self._packed: dict[str, memoryview] = {}
        self._own_packed: dict[str, bytes] = {}
        self._unpacked: dict[str, NoteRecord] = {}

    def receive(self, packed: dict[str, memoryview]) -> None:
        self._packed.update(packed)

    def pack(self, path: str) -> None:
        """Keep an own note packed from now on."""
        self._own_packed[path] = self.own.pop(path).packed()

    @contextlib.contextmanager
    def unpacking(self, paths: Sequence[str]) -> Iterator[list[NoteRecord]]:
        """These own notes whole, for as long as they are checked."""
        records = [self.own.get(path) or self._whole(path) for path in paths]
        self.own.update((note.path, note) for note in records)
        try:
            yield records
        finally:
            for path in paths:
                if path in self._own_packed:
                    del self.own[path]

    def _whole(self, path: str) -> NoteRecord:
        return NoteRecord.unpacked(self._own_packed[path])

    def __getitem__(self, path: str) -> NoteRecord:
        found = self.own.get(path) or self._unpacked.get(path)
        if found is None:
            packed = self._packed.pop(path, None)
            if packed is not None:
                found = NoteRecord.unpacked(packed)
            elif path in self._own_packed:
                found = seen_by_others(self._whole(path))
            elif path in self._paths:
                # Not a KeyError, which get() would take for "no such note".
                raise RuntimeError(f"{path}: a note this worker was not sent")
            else:
                raise KeyError(path)
            # Unpacked once, and the bytes let go: most notes are a link target somewhere.
            self._unpacked[path] = found
        return found

    def __setitem__(self, path: str, note: NoteRecord) -> None:
        self.own[path] = note

    def __delitem__(self, path: str) -> None:
        raise TypeError("a worker's notes are not removed")

    def __contains__(self, path: object) -> bool:
        return path in self._paths

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


# In a worker: what it was forked with, which worker it is, and the vault of the notes it keeps.
_context: _Context | None = None
_index = -1
_vault: Vault | None = None
_failed: set[str] = set()
_seen_size = 0  # how much this worker wrote to its file of ``seen_by_others``


def worker_vault() -> tuple[_Context, Vault]:
    """In a worker: what it was forked with, and the vault of the notes it keeps."""
    global _vault
    assert _context is not None, "a keeping worker must be forked from Shards"
    if _vault is None:
        ctx = _context
        _vault = Vault.found(ctx.root, ctx.config, ctx.found, _Kept(ctx.notes))
    return _context, _vault


# A note to read, by its vault path and its path on disk, or one read already, packed.
_Item = tuple[str, str] | bytes


# What a worker sends of each note it read: its path, where in the worker's file it wrote
# ``seen_by_others`` packed (offset and length), the hash of its bytes, its stamp (see
# ``Read``), its facts, its aliases, its ``concept_keys``, whether it is a variant
# (``is_variant``), and each gathering rule's gathering (or crash finding).
_Described = tuple[
    str,
    tuple[int, int],
    bytes,
    Stamp | None,
    bytes,
    list[str],
    list[str],
    bool,
    dict[str, object],
]


def _read(batch: Sequence[_Item]) -> list[_Described]:
    """In a worker: read, keep and describe a batch of notes."""
    global _seen_size
    ctx, vault = worker_vault()
    sent = []
    seen_parts: list[bytes] = []
    offset = _seen_size
    with gc_paused():
        for item in batch:
            stamp = None
            if isinstance(item, bytes):
                note = NoteRecord.unpacked(item)
            else:
                note, info = read_stamped_note(ctx.root, item[0], item[1], ctx.parser)
                if info is not None:
                    stamp = Stamp.of(info)
            vault.notes[note.path] = note
            seen = seen_by_others(note).packed() if ctx.share else b""
            seen_parts.append(seen)
            gathered = _gather(vault, note)
            facts = ctx.facts(note) if ctx.facts is not None else b""
            aliases = note_aliases(note)
            # Worked out here, beside the other workers, not in the run's process after all
            # are read, where every worker waits for the indexes.
            keys = concept_keys(note.path, aliases)
            names = aliases, keys, is_variant(note)
            sent.append(
                (note.path, (offset, len(seen)), note.digest, stamp, facts, *names, gathered)
            )
            offset += len(seen)
            if ctx.packed:
                assert isinstance(vault.notes, _Kept)
                vault.notes.pack(note.path)
                vault.forget(note.path)  # what gathering worked out holds parts of it
    if offset > _seen_size:
        data = b"".join(seen_parts)
        try:
            while data:  # pwrite may write less than it was given
                written = os.pwrite(ctx.seen_files[_index], data, _seen_size)
                data = data[written:]
                _seen_size += written
        except OSError as exc:  # memory or the temporary folder's disk is full, say
            raise SharingFailed(f"cannot write the notes others see: {exc}") from None
    return sent


def _gather(vault: Vault, note: NoteRecord) -> dict[str, object]:
    assert _context is not None
    gathered: dict[str, object] = {}
    for active in _context.gathering:
        if active.name in _failed:
            continue
        assert active.gather is not None
        try:
            gathered[active.name] = active.gather(note, vault)
        except Exception as exc:
            # As the engine reports it; this process gathers that rule no more.
            _failed.add(active.name)
            gathered[active.name] = crash(active, "", exc)
    return gathered


def _receive(where: dict[str, tuple[int, int, int]], indexes: bytes) -> None:
    """In a worker: where the notes other workers hold are, and the indexes of every note.

    ``where`` gives each note's worker, offset and length in that worker's file. The indexes
    come pickled: made once for every worker, not once per worker.
    """
    ctx, vault = worker_vault()
    assert isinstance(vault.notes, _Kept)
    vault.notes.receive(_seen_records(ctx.seen_files, where))
    concepts, aliases, variants = pickle.loads(indexes)
    vault.__dict__.update(concepts=concepts, aliases=aliases, variants=variants)


def _check(paths: Sequence[str]) -> list[Finding]:
    """In a worker: the note rules' raw findings on some of the notes it keeps."""
    ctx, vault = worker_vault()
    assert isinstance(vault.notes, _Kept)
    with gc_paused(), vault.notes.unpacking(paths) as notes:
        found = run_rules(vault, ctx.note_rules, notes)
    if ctx.packed:
        for path in paths:
            vault.forget(path)
    return found


# A task: a function of this package, at module level (sent by name), and its arguments.
_Task = tuple[Callable[..., object], tuple[object, ...]]


def _seen_records(
    files: Sequence[int], where: dict[str, tuple[int, int, int]]
) -> dict[str, memoryview]:
    """The notes at ``where`` (worker, offset, length) in the workers' files, as packed bytes.

    Each file is mapped, not read: a note's bytes are read when it is unpacked, and the pages
    are shared by every process that maps them.
    """
    views = []
    for fd in files:
        try:
            size = os.fstat(fd).st_size
            whole = mmap.mmap(fd, size, prot=mmap.PROT_READ) if size else b""
        except OSError as exc:
            raise SharingFailed(f"cannot map the notes others keep: {exc}") from None
        views.append(memoryview(whole))
    return {path: views[w][start : start + size] for path, (w, start, size) in where.items()}


def _work(conn: Connection, index: int) -> None:
    """A worker: which one it is, then its loop."""
    global _index
    _index = index
    _serve(conn)


def _serve(conn: Connection) -> None:
    """A worker's loop: run each task this process is sent, and send back what it returns."""
    try:
        while (message := conn.recv()) is not None:
            task, args = message
            try:
                reply: tuple[bool, object] = (True, task(*args))
            except SharingFailed as exc:
                reply = (False, exc)  # not a bug: the run goes on without keeping workers
            except Exception:
                reply = (False, traceback.format_exc())
            conn.send(reply)
    except (EOFError, OSError, KeyboardInterrupt):
        # This process's end of the pipe is closed (the run is over, or failed), or Ctrl-C
        # reached the whole process group: the run's own process reports that, once.
        pass
    finally:
        conn.close()


def _seen_file() -> int:
    """A file in memory for a worker to write what others see of its notes to."""
    try:
        return os.memfd_create("conceptgraph-seen", os.MFD_CLOEXEC)
    except OSError:
        # No memfd (a sandbox may forbid it): a temporary file, gone once closed.
        import tempfile

        try:
            fd, name = tempfile.mkstemp(prefix="conceptgraph-seen-")
        except OSError as exc:
            raise SharingFailed(f"no file to share notes through: {exc}") from None
        os.unlink(name)
        return fd


class WorkerError(RuntimeError):
    """A worker failed outside any rule or parse (a bug): its traceback is the message."""


class SharingFailed(Exception):
    """The workers cannot share their notes: no file for it, or no room left to write it.

    Not a bug and not the vault's fault (a full temporary folder, a sandbox): whoever runs the
    workers checks the vault without them, and finds the same.
    """


class Shards:
    """Worker processes that each keep the notes they read, for as long as this is open.

    Each is sent a task at a time over a pipe of its own, and at most ``_AHEAD`` ahead: a
    worker never waits for work, and neither side ever blocks writing to the other while the
    other is blocked writing back.
    """

    def __init__(self, context: _Context, jobs: int | None) -> None:
        self._context = context
        self._count = jobs if jobs is not None else (os.cpu_count() or 1)
        self._conns: list[Connection] = []
        self._processes: list[BaseProcess] = []
        # Which worker keeps each note, in the order read, and the offset and length of the
        # note's ``seen_by_others`` in that worker's file.
        self._where: dict[str, tuple[int, int, int]] = {}
        self._received = [False] * self._count  # whether it has the others' notes

    @classmethod
    def open(
        cls,
        root: Path,
        config: Config,
        found: Discovery,
        rules: Sequence[Rule],
        facts: Callable[[NoteRecord], bytes] | None,
        jobs: int | None,
        share: bool = True,
        packed: bool = False,
    ) -> Shards:
        """Workers for every note of the vault of the files ``found``, to run ``rules``.

        Unless ``share``, a worker reads nothing of the notes other workers keep. If
        ``packed``, each keeps its own packed, and only ``check`` may run on them.
        """
        context = _Context(
            root,
            config,
            found,
            (*(path for path, _ in found.notes), *(note.path for note in found.unreadable)),
            [r for r in rules if r.scope is Scope.NOTE],
            [r for r in rules if r.gather is not None],
            facts,
            parser_in_use(),
            share,
            packed,
        )
        return cls(context, jobs)

    def __enter__(self) -> Shards:
        global _context
        import multiprocessing

        import conceptgraph.note.parse  # noqa: F401  (imported once here, not in every worker)

        fork = multiprocessing.get_context("fork")
        if self._context.share:
            files: list[int] = []
            try:
                files.extend(_seen_file() for _ in range(self._count))
            except SharingFailed:
                for fd in files:
                    os.close(fd)
                raise
            self._context = dataclasses.replace(self._context, seen_files=tuple(files))
        _context = self._context  # for the forks to inherit; this process never reads it
        try:
            for index in range(self._count):
                mine, theirs = fork.Pipe()
                process = fork.Process(target=_work, args=(theirs, index), daemon=True)
                process.start()
                theirs.close()
                self._conns.append(mine)
                self._processes.append(process)
        finally:
            _context = None
        return self

    def __exit__(self, failed: type[BaseException] | None, *_: object) -> None:
        # Each worker holds copies of the others' pipes, forked with it: closing this end is
        # no signal. Asked to stop, it does; on an error here it may be busy, and is ended.
        for conn in self._conns:
            with contextlib.suppress(OSError):
                if failed is None:
                    conn.send(None)
            conn.close()
        for process in self._processes:
            if failed is not None:
                process.terminate()
            process.join()
        # What is mapped of them stays readable.
        for fd in self._context.seen_files:
            os.close(fd)

    def _run(
        self,
        next_task: Callable[[int], _Task | None],
        done: Callable[[int, object], None],
        started: Callable[[], None] | None = None,
    ) -> None:
        """Hand each worker ``next_task(worker)`` until it has none; ``done`` each reply.

        ``started``, if given, is called once every worker has its first tasks.
        """
        from multiprocessing.connection import wait

        sent: list[int] = [0] * len(self._conns)
        worker_of = {id(conn): worker for worker, conn in enumerate(self._conns)}

        def top_up(worker: int) -> None:
            while sent[worker] < _AHEAD and (task := next_task(worker)) is not None:
                try:
                    self._conns[worker].send(task)
                except OSError:
                    raise self._lost(worker) from None
                sent[worker] += 1

        for worker in range(len(self._conns)):
            top_up(worker)
        if started is not None:
            started()
        while any(sent):
            ready = wait([conn for conn, n in zip(self._conns, sent, strict=True) if n])
            for conn in ready:
                worker = worker_of[id(conn)]
                try:
                    ok, reply = self._conns[worker].recv()
                except (EOFError, OSError):
                    raise self._lost(worker) from None
                if not ok:
                    raise reply if isinstance(reply, SharingFailed) else WorkerError(str(reply))
                sent[worker] -= 1
                done(worker, reply)
                top_up(worker)

    def _lost(self, worker: int) -> WorkerLostError:
        process = self._processes[worker]
        process.join(timeout=1)
        code = process.exitcode
        if code is not None and code < 0:
            how = f"killed by signal {-code}"
            if -code == signal.SIGKILL:
                how += ", perhaps for want of memory: --jobs 1 takes less"
        else:
            how = f"exit status {code}" if code is not None else "its pipe closed"
        return WorkerLostError(f"a worker process ended before its work was done ({how})")

    def read(self, paths: Sequence[tuple[str, str]], records: Sequence[NoteRecord]) -> Read:
        """Read these notes (vault path, path on disk), each kept by the worker that read it.

        ``records`` are notes read already (files that could not be read at all): a worker
        keeps them too.
        """
        bar = progress.current()
        if bar is not None:
            bar.stage("Reading notes", len(paths) + len(records))
        items: list[_Item] = [*paths, *(record.packed() for record in records)]
        batches = [items[i : i + _BATCH] for i in range(0, len(items), _BATCH)]
        waiting = list(reversed(batches))
        # Each worker answers in the order it was asked.
        asked: list[deque[Sequence[_Item]]] = [deque() for _ in self._conns]
        described: dict[str, _Described] = {}

        def next_task(worker: int) -> _Task | None:
            if not waiting:
                return None
            asked[worker].append(waiting.pop())
            return _read, (asked[worker][-1],)

        def done(worker: int, reply: object) -> None:
            batch = asked[worker].popleft()
            assert isinstance(reply, list)
            for note in reply:
                path = note[0]
                described[path] = note
                self._where[path] = (worker, *note[1])
            if bar is not None:
                bar.advance(len(batch))

        self._run(next_task, done)
        return self._sorted_read(described)

    def _sorted_read(self, described: dict[str, _Described]) -> Read:
        # In path order, as the cached run holds the notes: the indexes list notes in it.
        order = sorted(described)
        seen = _Kept(order)
        digests: dict[str, bytes] = {}
        stamps: dict[str, Stamp] = {}
        facts: dict[str, bytes] = {}
        aliases: dict[str, list[str]] = {}
        keys: dict[str, list[str]] = {}
        variants: set[str] = set()
        by_rule: dict[str, dict[str, object]] = {r.name: {} for r in self._context.gathering}
        crashes: dict[str, Finding] = {}
        for path in order:
            _, _, digest, stamp, fact, names, own_keys, variant, gathered = described[path]
            digests[path], facts[path], aliases[path], keys[path] = digest, fact, names, own_keys
            if stamp is not None:
                stamps[path] = stamp
            if variant:
                variants.add(path)
            for name, value in gathered.items():
                if isinstance(value, Finding):
                    # The engine gathers in path order, and reports the first crash alone.
                    crashes.setdefault(name, value)
                else:
                    by_rule[name][path] = value
        if self._context.share:
            seen.receive(_seen_records(self._context.seen_files, self._where))
        kept = {name: found for name, found in by_rule.items() if name not in crashes}
        return Read(
            seen,
            digests,
            stamps,
            facts,
            aliases,
            keys,
            frozenset(variants),
            kept,
            list(crashes.values()),
        )

    def check(self, vault: Vault, started: Callable[[], None] | None = None) -> list[Finding]:
        """The note rules' raw findings on every note the workers keep.

        ``vault`` holds every note as ``seen_by_others``: the indexes are worked out of it.
        ``started`` is called once every worker has what it needs to start.
        """
        findings: list[Finding] = []
        self.each(vault, "Checking", _check, (), findings.extend, started)
        return findings

    def each(
        self,
        vault: Vault,
        stage: str,
        task: Callable[..., object],
        args: tuple[object, ...],
        done: Callable[[Any], None],
        started: Callable[[], None] | None = None,
    ) -> None:
        """``task(paths, *args)`` in the workers, on every note each keeps, a batch at a time.

        ``vault`` holds every note as ``seen_by_others``: the indexes are worked out of it.
        Each worker first receives the indexes and, if the workers share, the notes the
        others keep; ``done`` gets each batch's reply, as it comes. ``started`` is called
        once every worker has been sent those and its first tasks.
        """
        bar = progress.current()
        if bar is not None:
            bar.stage(stage, len(self._where))
        indexes = b""
        if not all(self._received):
            indexes = pickle.dumps(
                (vault.concepts, vault.aliases, vault.variants), pickle.HIGHEST_PROTOCOL
            )
        tasks: list[deque[_Task]] = []
        # Each worker answers in the order it was asked: the notes in each batch, or None
        # for the notes and indexes it was sent.
        sizes: list[deque[int | None]] = []
        for worker in range(len(self._conns)):
            held = [path for path, (keeper, _, _) in self._where.items() if keeper == worker]
            chunks = [held[i : i + _BATCH] for i in range(0, len(held), _BATCH)]
            tasks.append(deque())
            sizes.append(deque())
            if not self._received[worker]:
                where = {}
                if self._context.share:
                    where = {p: at for p, at in self._where.items() if at[0] != worker}
                tasks[-1].append((_receive, (where, indexes)))
                sizes[-1].append(None)
                self._received[worker] = True
            tasks[-1].extend((task, (chunk, *args)) for chunk in chunks)
            sizes[-1].extend(len(chunk) for chunk in chunks)

        def next_task(worker: int) -> _Task | None:
            return tasks[worker].popleft() if tasks[worker] else None

        def received(worker: int, reply: object) -> None:
            size = sizes[worker].popleft()
            if size is not None:
                done(reply)
                if bar is not None:
                    bar.advance(size)

        self._run(next_task, received, started)


@dataclass(frozen=True, slots=True)
class Linted:
    """A whole vault's raw findings, worked out in keeping workers, and what they sent."""

    vault: Vault  # every note as ``seen_by_others``: what the findings are finished against
    read: Read
    note_findings: list[Finding]
    vault_findings: list[Finding]  # a gathering's crash among them
    later: Vault  # the vault for what reads notes after the run (--fix): read again if asked


@contextlib.contextmanager
def reading(
    root: Path,
    config: Config,
    found: Discovery,
    rules: Sequence[Rule],
    jobs: int | None,
    facts: Callable[[NoteRecord], bytes] | None = None,
    share: bool = True,
    packed: bool = False,
) -> Iterator[tuple[Shards, Read, Vault]]:
    """Workers that read every note ``found`` and keep it, to run ``rules`` on; what they sent.

    The vault holds every note as ``seen_by_others`` (unpacked when asked for; unless
    ``share``, no note can be read, and no worker reads another's), and its name indexes.
    ``facts`` of each note are worked out too, if given. If ``packed``, workers keep their
    notes packed (see ``Shards.open``).
    """
    with Shards.open(root, config, found, rules, facts, jobs, share, packed) as workers:
        read = workers.read(found.notes, found.unreadable)
        vault = Vault.found(root, config, found, read.seen)
        vault.__dict__["aliases_by_note"] = read.aliases
        vault.__dict__["concepts"] = concept_index(read.keys.items())
        vault.__dict__["variants"] = read.variants
        yield workers, read, vault


def lint_all(
    root: Path,
    config: Config,
    found: Discovery,
    rules: Sequence[Rule],
    jobs: int | None,
    facts: Callable[[NoteRecord], bytes] | None = None,
) -> Linted:
    """Read and check every note ``found`` in keeping workers; ``facts`` of each note too.

    Raises :class:`SharingFailed` when the workers cannot share their notes: check the vault
    without them then.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    packed = len(found.notes) + len(found.unreadable) >= PACKED_FROM
    with reading(root, config, found, rules, jobs, facts, packed=packed) as (workers, read, vault):
        vault.gathered.update(read.gathered)
        crashed = {f.rule for f in read.crashed}
        checked = [r for r in rules if r.scope is Scope.VAULT and r.name not in crashed]
        # Here, before the thread below reads them too:
        _ = vault.concepts, vault.aliases, vault.variants
        # The vault rules read only what was gathered: on a thread of this process, which
        # otherwise waits for the workers. Started once the workers have what they need to
        # check: before, it would hold up sending them that, with both workers waiting.
        with ThreadPoolExecutor(1) as thread:
            vault_rules: list[Future[list[Finding]]] = []
            raw = workers.check(
                vault, lambda: vault_rules.append(thread.submit(run_rules, vault, checked, []))
            )
    unreadable = {record.path: record for record in found.unreadable}
    later = NotesOnDemand(unreadable, dict(found.notes), root, jobs)
    return Linted(
        vault,
        read,
        raw,
        [*vault_rules[0].result(), *read.crashed],
        Vault.found(root, config, found, later),
    )


def lint_in_workers(
    root: Path,
    config: Config,
    found: Discovery,
    rules: Sequence[Rule],
    jobs: int | None,
    facts: Callable[[NoteRecord], bytes] | None = None,
) -> Linted | None:
    """Every note read and checked in keeping workers, where that is worth it and works.

    None: check the vault in this process instead (too few notes or cores, ``--traceback``, a
    rule from outside conceptgraph, or workers that cannot share their notes), with the same
    findings.
    """
    if not usable(rules, len(found.notes), jobs):
        return None
    try:
        return lint_all(root, config, found, rules, jobs, facts)
    except SharingFailed:
        return None
