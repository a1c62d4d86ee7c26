"""The lint cache: what each note looked like and what was found in it, kept between runs.

One SQLite database per vault, in ``.conceptgraph-cache/``. A note's row holds what its file
looked like when it was read (size, mtime, inode, and a hash of its bytes), the digest of its
*facts* (what other notes' rules can see of it), and its findings with the vault digest they
were worked out under. Parsed records are not kept whole (unpickling them costs about what
parsing the notes again does), only their outlines: what the vault-wide rules read. SQLite
makes each write one transaction, so runs racing each see whole rows; a run that cannot take
the write lock in time leaves the cache as it was. Whatever goes wrong with the cache
(unreadable, damaged, read-only, locked) costs speed, never a finding: the run goes on
without it.

A vault from someone else (a pull request linted in CI) could carry a cache of its own: one
whose pickles run code when loaded, or whose rows claim a note has no findings. So every row
and value is signed with a key of this user's, kept outside the vault, and one that does not
verify is never unpickled or believed: only caches written on this account count.

The whole cache is thrown away when anything that shapes a record or a finding changes: the
conceptgraph code itself (its source is hashed, so an upgrade or a local edit counts), the
rules, the configuration, the Markdown engine, the Python version.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import marshal
import os
import pickle
import secrets
import sqlite3
import stat
import struct
import sys
import threading
import time
import types
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

from conceptgraph.config import Config
from conceptgraph.model import Finding, NoteRecord

CACHE_DIR = ".conceptgraph-cache"
# Where caches go instead, one folder per vault: for a vault on a read-only disk, or a test run
# that must not write into the folders it lints.
CACHE_DIR_ENV = "CONCEPTGRAPH_CACHE_DIR"
_DB_NAME = "lint.sqlite3"
_SCHEMA = 2
# A file whose mtime is this close to the moment it was read may have been written again within
# the same timestamp tick (FAT keeps 2 s): its stat alone does not prove it unchanged.
RACY_NS = 2_000_000_000
_BUSY_TIMEOUT_S = 2.0
# How long a run waits for the rows a first run left a process of its own to write: longer
# than for SQLite's lock, as they take 2 s to write at 100,000 notes.
_WRITER_WAIT_S = 60.0
# What SQLite says of a file that is no database, or a damaged one (SQLITE_CORRUPT,
# SQLITE_NOTADB): the only errors on opening that start the cache afresh.
_DAMAGED = frozenset({11, 26})
# Locked (flock) by that process while it writes, and by no one else.
_WRITING = "writing.lock"
_MAC_BYTES = 32
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


# A cached row's signed head: the lengths of its five parts of bytes, then its four numbers.
_ROW_HEAD = struct.Struct("<5I4q")


# Stamp and Row are named tuples: a run makes one of each for every note of the vault.
class Stamp(NamedTuple):
    """What a file's stat says about its content: equal stamps, the same bytes (mostly)."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, info: os.stat_result) -> Stamp:
        """The stamp of a stat result."""
        # tuple.__new__ straight: a NamedTuple's own __new__ is a Python function, and a run
        # makes a stamp for every note.
        return tuple.__new__(cls, (info.st_size, info.st_mtime_ns, info.st_ino))


class Row(NamedTuple):
    """The cached state of one note; its findings still pickled (unpickled when needed)."""

    stamp: Stamp
    checked_ns: int
    digest: bytes
    facts: bytes
    context: bytes
    pickled: bytes | None

    def findings(self) -> list[Finding] | None:
        """The findings the row holds; None if they cannot be read (then nothing is cached)."""
        if self.pickled is None:
            return []
        try:
            value = pickle.loads(self.pickled)
        except Exception:
            return None  # written by an older layout of the classes
        return value if isinstance(value, list) else None

    def vouches_for(self, stamp: Stamp) -> bool:
        """Whether the file is the one this row was read from, by its stat alone."""
        return stamp == self.stamp and stamp.mtime_ns + RACY_NS < self.checked_ns


@dataclass(frozen=True, slots=True)
class Entry:
    """One note's row to write."""

    path: str
    stamp: Stamp
    checked_ns: int
    digest: bytes
    facts: bytes
    context: bytes
    findings: list[Finding]


def run_key(config: Config, parser: str, rules: Iterable[Callable[..., object]]) -> str:
    """What the whole cache is valid for: code, configuration, engine, rules and Python.

    ``rules`` are the rule functions of this run: a rule registered from outside the package
    (a plugin, a test) has code the package digest does not cover.
    """
    parts = (
        _SCHEMA,
        code_digest(),
        parser,
        repr(config),
        sys.version,
        sys.byteorder,
        [_function_digest(check) for check in rules],
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def _function_digest(function: Callable[..., object]) -> tuple[str, str]:
    name = f"{function.__module__}.{function.__qualname__}"
    code = getattr(function, "__code__", None)
    digest = hashlib.blake2b(digest_size=8)
    if isinstance(code, types.CodeType):
        _digest_code(code, digest)
    return name, digest.hexdigest()


def _digest_code(code: types.CodeType, digest: hashlib.blake2b) -> None:
    # Nested code (a generator expression, a lambda) by its own bytes: the repr of a code
    # object holds its address, which differs from one process to the next.
    digest.update(code.co_code)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _digest_code(const, digest)
        else:
            digest.update(repr(const).encode())
    digest.update(repr(code.co_names).encode())


@cache
def code_digest() -> str:
    """A digest of the package's source: an upgrade, or a local edit, changes it."""
    package = Path(__file__).parent
    digest = hashlib.blake2b(digest_size=16)
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0")
        digest.update(source.read_bytes())
    return digest.hexdigest()


def cache_folder(root: Path) -> Path:
    """Where the cache of the vault at ``root`` lives."""
    elsewhere = os.environ.get(CACHE_DIR_ENV)
    if not elsewhere:
        return root / CACHE_DIR
    name = hashlib.blake2b(os.fsencode(root), digest_size=8).hexdigest()
    return Path(elsewhere) / f"{root.name}-{name}"


class CacheRefused(OSError):
    """A cache folder that conceptgraph did not make as it is: a link, or holding one."""


_refused: set[str] = set()


def _say(message: str) -> None:
    # Not the logging module: it would add a tenth to lint's start-up for this one line.
    print(f"conceptgraph: {message}", file=sys.stderr, flush=True)


def prepare_folder(folder: Path) -> None:
    """Make a vault's cache folder, with a ``.gitignore`` that keeps it out of commits.

    A vault can come from a zip file or a pull request, with a "cache" planted in it: the
    folder as a symbolic link to elsewhere, or entries in it that are (``rdf -> ../..``,
    ``lint.sqlite3 -> another database``). Every later write, rename and prune would land
    wherever they lead. So the folder must be a real folder holding no link and no file
    linked elsewhere too (hard links): else ``CacheRefused`` is raised, the run goes on
    without a cache, and the folder is left as it is, said once on stderr.
    """
    own_folder(folder)
    # O_EXCL and O_NOFOLLOW: a .gitignore put there since the scan is left alone.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
    try:
        fd = os.open(folder / ".gitignore", flags, 0o644)
    except FileExistsError:
        return
    try:
        # Never committed by mistake: the cache is this machine's, and large.
        os.write(fd, b"# Created by conceptgraph: a cache, safe to delete.\n*\n")
    finally:
        os.close(fd)


def own_folder(folder: Path) -> None:
    """Make ``folder`` if missing; raise ``CacheRefused`` if it is, or holds, a link."""
    _refuse_link(folder)
    with contextlib.suppress(FileExistsError):
        folder.mkdir(parents=True)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise _refusal(folder, "is not a folder")
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_symlink():
                raise _refusal(Path(entry.path), "is a symbolic link")
            if (
                entry.is_file(follow_symlinks=False)
                and entry.stat(follow_symlinks=False).st_nlink > 1
            ):
                raise _refusal(Path(entry.path), "is a hard link to a file elsewhere")


def _refuse_link(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISLNK(os.lstat(path).st_mode):
            raise _refusal(path, "is a symbolic link")


def _refusal(path: Path, why: str) -> CacheRefused:
    message = (
        f"{path} {why}, which conceptgraph did not make: the cache is not used, and nothing in"
        " it is written or removed; delete the folder to let conceptgraph make a cache again"
    )
    if message not in _refused:
        _refused.add(message)
        _say(message)
    return CacheRefused(errno.EPERM, message, str(path))


@dataclass(frozen=True, slots=True)
class Gathered:
    """What the vault rules gathered in one run, to store: see ``LintCache.gatherings``."""

    files_key: bytes
    rows: list[tuple[str, bytes, dict[str, object]]]  # path, hash of its bytes, by rule
    restart: bool  # the list of files changed: drop what was gathered with the old one


_GATHERED_FILES = "gathered-files"
_FEW_PATHS = 500


class LintCache:
    """An open cache database; every method degrades to "nothing cached" on an error."""

    def __init__(
        self,
        db: sqlite3.Connection | None,
        secret: bytes = b"",
        used_before: bool = False,
        path: Path | None = None,
        key: str = "",
    ) -> None:
        self._db = db
        self._secret = secret
        self._path, self._key = path, key  # to open the database again (``write_apart``)
        # Whether earlier runs kept a cache here, if for another version or configuration:
        # this vault is linted with the cache, and will be again.
        self.used_before = used_before

    @classmethod
    def open(cls, folder: Path, key: str) -> LintCache:
        """Open (or create) the cache in ``folder``; a cache that cannot be used is empty."""
        try:
            signing = signing_key()
            prepare_folder(folder)
            # The writer first: its last step, closing the database, takes a lock that a
            # connection made meanwhile could find busy.
            _wait_for_writer(folder)
            db, used_before = _connect(folder / _DB_NAME, key)
        except (OSError, sqlite3.Error):
            return cls(None)
        return cls(db, signing, used_before, folder / _DB_NAME, key)

    def close(self) -> None:
        """Close the database."""
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    def rows(self) -> dict[str, Row]:
        """Every cached note's state, by vault path.

        Rows not signed with this user's key are left out (see the module's docstring).
        """
        query = "SELECT path, size, mtime_ns, inode, checked_ns, digest, facts, context, findings"
        found: dict[str, Row] = {}
        for path, *fields, mac in self._select(query + ", mac FROM notes"):
            size, mtime, inode, checked, digest, facts, context, pickled = fields
            if not isinstance(mac, bytes) or not hmac.compare_digest(
                mac, self._sign_row(path, fields)
            ):
                continue
            stamp = tuple.__new__(Stamp, (size, mtime, inode))  # as Stamp.of makes it
            found[path] = tuple.__new__(Row, (stamp, checked, digest, facts, context, pickled))
        return found

    def get(self, name: str) -> object:
        """A vault-wide value, or None."""
        for (blob,) in self._select("SELECT value FROM blobs WHERE name = ?", (name,)):
            return self._load(blob)
        return None

    def outlines(self, wanted: Mapping[str, bytes]) -> dict[str, NoteRecord]:
        """Stored outlines of notes (see ``lint.incremental.outline``), by path.

        ``wanted`` maps each path to the hash of the bytes the outline must have been made
        from: one made from other bytes is left out.
        """
        query = "SELECT path, digest, value FROM outlines"
        # A few (to silence findings) by path; most or all in one pass over the table.
        few = len(wanted) <= _FEW_PATHS
        rows = self._select_paths(query + " WHERE path IN ", wanted) if few else self._select(query)
        found: dict[str, NoteRecord] = {}
        for path, digest, blob in rows:
            if wanted.get(path) != digest:
                continue
            record = self._load(blob)
            if isinstance(record, NoteRecord) and record.path == path:
                found[path] = record
        return found

    def gatherings(self, files_key: bytes) -> dict[str, tuple[bytes, dict[str, object]]]:
        """What the vault rules gathered of each note (see ``lint.rule.rule``), by path.

        Each with the hash of the bytes it was gathered from. None of it unless it was
        gathered with the same list of files (``files_key``), which links resolve against.
        """
        if self.get(_GATHERED_FILES) != files_key:
            return {}
        found: dict[str, tuple[bytes, dict[str, object]]] = {}
        for path, blob in self._select("SELECT path, value FROM gathered"):
            row = self._load(blob, plain=True)
            # Signed with its path: a row copied under another path is not believed.
            if isinstance(row, tuple) and len(row) == 3 and row[0] == path:
                _, digest, by_rule = row
                if isinstance(digest, bytes) and isinstance(by_rule, dict):
                    found[path] = (digest, by_rule)
        return found

    def outline_digests(self, paths: Collection[str]) -> dict[str, bytes]:
        """For the stored outline of each of these notes, the hash of the bytes it was made from."""
        query = "SELECT path, digest FROM outlines"
        # An edit asks for a handful: by path, not a pass over every note's row.
        if len(paths) <= _FEW_PATHS:
            return dict(self._select_paths(query + " WHERE path IN ", paths))
        return {path: digest for path, digest in self._select(query) if path in paths}

    def write(
        self,
        entries: Iterable[Entry],
        gone: Iterable[str],
        blobs: Mapping[str, object],
        outlines: Iterable[NoteRecord] = (),
        gathered: Gathered | None = None,
    ) -> bool:
        """Store what one run learnt in one transaction: rows, notes gone, vault-wide values.

        ``gathered`` adds to what the vault rules gathered, or replaces it all when made with
        another list of files.

        Returns whether it was written: a run holding the lock too long, or a read-only
        folder, leaves the cache as it was.
        """
        begun = partial(self._write_begun, entries, gone, blobs, outlines, gathered)
        return self._write_here(begun)

    def _write_here(self, begun: Callable[[], bool]) -> bool:
        if self._db is None:
            return False
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:
            return False
        return begun()

    def write_apart(
        self,
        entries: Iterable[Entry],
        gone: Iterable[str],
        blobs: Mapping[str, object],
        outlines: Iterable[NoteRecord] = (),
        gathered: Gathered | None = None,
    ) -> bool:
        """``write``, in a process of its own that this one does not wait for; then ``close``.

        For a write that takes a while (a first run's: a quarter of a second at 10,000 notes):
        the command is over without it. This process goes on once that one holds the write
        lock, so a run started after this one waits for the write (see ``open``) rather than
        find the cache empty. That process leaves this one's session and output: a tool that
        waits for the command's output, or ends its process group, is not held up by it and
        does not end it.

        Where a process cannot be forked safely (not Linux, or another thread runs: a fork
        copies none, and any lock one holds stays held), writes in this process.
        """
        if self._db is None:
            return False
        begun = partial(self._write_begun, entries, gone, blobs, outlines, gathered)
        if sys.platform.startswith("linux") and threading.active_count() == 1:
            handed = self._hand_to_writer(begun)
            if handed is not None:
                return handed
        written = self._write_here(begun)
        self.close()
        return written

    def _hand_to_writer(self, begun: Callable[[], bool]) -> bool | None:
        """Fork the writer: whether it holds the write lock; None if no process could be made."""
        assert self._path is not None
        try:
            ready, told = os.pipe()
        except OSError:
            return None
        # SQLite's rule: a connection must not cross a fork. The writer opens its own.
        self.close()
        try:
            child = os.fork()
        except OSError:
            os.close(ready)
            os.close(told)
            with contextlib.suppress(OSError, sqlite3.Error):
                self._db, _ = _connect(self._path, self._key)
            return None
        if child == 0:
            try:
                os.close(ready)
                # The writer is forked from a child that exits at once: no zombie is left.
                if os.fork() == 0:
                    self._be_writer(told, begun)
            finally:
                os._exit(0)
        os.close(told)
        os.waitpid(child, 0)
        with os.fdopen(ready, "rb") as answer:
            # Nothing, if the writer failed before it held the lock.
            return answer.read(1) == b"1"

    def _be_writer(self, told: int, begun: Callable[[], bool]) -> NoReturn:
        import fcntl  # Linux alone comes here

        code = 1
        try:
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            # Nor any other file or pipe of the command's (only ``told`` is needed): those
            # open, as Linux lists them, not every number up to a limit that may be huge.
            try:
                fds: Iterable[int] = [int(name) for name in os.listdir("/proc/self/fd")]
            except OSError:
                fds = range(3, 1024)  # no /proc mounted: the numbers most often used
            for fd in fds:
                if fd > 2 and fd != told:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            assert self._path is not None
            self._db, _ = _connect(self._path, self._key)
            self._db.execute("BEGIN IMMEDIATE")
            # Held until this process ends: a run started meanwhile waits for the rows. A
            # file system without locks only means that such a run does not wait.
            with contextlib.suppress(OSError):
                writing = os.open(
                    self._path.parent / _WRITING, _NOFOLLOW | os.O_RDWR | os.O_CREAT, 0o600
                )
                fcntl.flock(writing, fcntl.LOCK_EX)
            os.write(told, b"1")
            os.close(told)
            code = 0 if begun() else 1
            self.close()
        finally:
            os._exit(code)

    def _write_begun(
        self,
        entries: Iterable[Entry],
        gone: Iterable[str],
        blobs: Mapping[str, object],
        outlines: Iterable[NoteRecord],
        gathered: Gathered | None,
    ) -> bool:
        db = self._db
        assert db is not None
        try:
            gone = list(gone)
            db.executemany("DELETE FROM notes WHERE path = ?", ((path,) for path in gone))
            db.executemany("DELETE FROM outlines WHERE path = ?", ((path,) for path in gone))
            db.executemany("DELETE FROM gathered WHERE path = ?", ((path,) for path in gone))
            if gathered is not None:
                if gathered.restart:
                    db.execute("DELETE FROM gathered")
                db.executemany(
                    "INSERT OR REPLACE INTO gathered VALUES (?, ?)", self._plain_rows(gathered)
                )
                blobs = {**blobs, _GATHERED_FILES: gathered.files_key}
            db.executemany(
                "INSERT OR REPLACE INTO outlines VALUES (?, ?, ?)",
                ((note.path, note.digest, self._dump(note)) for note in outlines),
            )
            db.executemany(
                "INSERT OR REPLACE INTO notes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self._row(entry) for entry in entries),
            )
            db.executemany(
                "INSERT OR REPLACE INTO blobs VALUES (?, ?)",
                ((name, self._dump(value)) for name, value in blobs.items()),
            )
            db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            return False
        return True

    def _row(self, e: Entry) -> tuple[object, ...]:
        # Most notes have no findings: NULL keeps them small.
        pickled = pickle.dumps(e.findings, pickle.HIGHEST_PROTOCOL) if e.findings else None
        fields = [
            e.stamp.size,
            e.stamp.mtime_ns,
            e.stamp.inode,
            e.checked_ns,
            e.digest,
            e.facts,
            e.context,
            pickled,
        ]
        return (e.path, *fields, self._sign_row(e.path, fields))

    def _sign_row(self, path: str, fields: list[Any]) -> bytes:
        size, mtime, inode, checked, digest, facts, context, pickled = fields
        name, extra = path.encode(), pickled or b""
        # Lengths first: no two rows can sign the same bytes by shifting a boundary.
        head = _ROW_HEAD.pack(
            len(name),
            len(digest),
            len(facts),
            len(context),
            len(extra),
            size,
            mtime,
            inode,
            checked,
        )
        return _sign(self._secret, b"".join((head, name, digest, facts, context, extra)))

    def _plain_rows(self, gathered: Gathered) -> Iterator[tuple[str, bytes]]:
        for row in gathered.rows:
            try:
                yield row[0], self._dump(row, plain=True)
            except ValueError:
                continue  # not plain values (a rule of someone else's): gathered again next time

    def _dump(self, value: object, *, plain: bool = False) -> bytes:
        # Plain values go through marshal: three times faster to load than pickled named
        # tuples, and a link edit loads every note's gathering.
        if plain:
            data = marshal.dumps(value, 4)  # type: ignore[arg-type]  # ValueError if not plain
        else:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        return seal(self._secret, data)

    def _load(self, blob: object, *, plain: bool = False) -> object:
        data = unseal(self._secret, blob)
        if data is None:
            return None  # not written by this user: never unpickled
        try:
            return marshal.loads(data) if plain else pickle.loads(data)
        except Exception:
            # A row the code no longer reads: treated as not cached.
            return None

    def _select(self, query: str, args: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        if self._db is None:
            return []
        try:
            return self._db.execute(query, args).fetchall()
        except sqlite3.Error:
            # Damaged since it was opened: from now on, nothing is cached.
            self.close()
            return []

    def _select_paths(self, query: str, paths: Iterable[str]) -> list[tuple[Any, ...]]:
        wanted = list(paths)
        found: list[tuple[Any, ...]] = []
        # SQLite caps the parameters of one statement; ask in slices.
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            found.extend(self._select(query + f"({','.join('?' * len(part))})", tuple(part)))
        return found


def _wait_for_writer(folder: Path) -> None:
    """Wait for a process writing a first run's rows here (``write_apart``) to be done.

    Rows found missing would be worked out again, every note read. Nothing is waited for
    where no such process ever wrote, or for longer than ``_WRITER_WAIT_S``.
    """
    try:
        import fcntl

        fd = os.open(folder / _WRITING, _NOFOLLOW | os.O_RDONLY)
    except (ImportError, OSError):
        return
    try:
        deadline = time.monotonic() + _WRITER_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.01)
    except OSError:
        return
    finally:
        os.close(fd)


def _connect(path: Path, key: str) -> tuple[sqlite3.Connection, bool]:
    """Open the database, starting it afresh when it is damaged or was made for another key.

    Also says whether the database was made by an earlier run, for whatever key.
    """
    for attempt in range(2):
        db = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        try:
            # WAL: a run reading the cache is never blocked by one writing it.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            # A database file put there by someone else runs no SQL functions of its schema.
            db.execute("PRAGMA trusted_schema=OFF")
            return db, _prepare(db, key)
        except sqlite3.DatabaseError as exc:
            db.close()
            # Busy or locked (another run checkpointing, a writer recovering the log) is no
            # damage: that database holds rows another run is writing or reading.
            if attempt or getattr(exc, "sqlite_errorcode", None) not in _DAMAGED:
                raise
            # Not a database any more (a crash mid-copy, a disk error): it is only a cache.
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{path}{suffix}")
    raise AssertionError("unreachable")


def _prepare(db: sqlite3.Connection, key: str) -> bool:
    """Make the tables for ``key`` unless they are there; say whether any key was there."""
    db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
    found = db.execute("SELECT value FROM meta WHERE name = 'key'").fetchone()
    if found is not None and found[0] == key:
        return True
    db.execute("BEGIN IMMEDIATE")
    try:
        # Another run may have prepared it while this one waited for the lock.
        found = db.execute("SELECT value FROM meta WHERE name = 'key'").fetchone()
        if found is None or found[0] != key:
            db.execute("DROP TABLE IF EXISTS notes")
            db.execute("DROP TABLE IF EXISTS blobs")
            db.execute("DROP TABLE IF EXISTS outlines")
            db.execute("DROP TABLE IF EXISTS gathered")
            db.execute(
                "CREATE TABLE notes (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
                " inode INTEGER, checked_ns INTEGER, digest BLOB, facts BLOB, context BLOB,"
                " findings BLOB, mac BLOB)"
            )
            db.execute("CREATE TABLE blobs (name TEXT PRIMARY KEY, value BLOB)")
            db.execute("CREATE TABLE outlines (path TEXT PRIMARY KEY, digest BLOB, value BLOB)")
            db.execute("CREATE TABLE gathered (path TEXT PRIMARY KEY, value BLOB)")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('key', ?)", (key,))
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
    return found is not None


def _sign(secret: bytes, data: bytes) -> bytes:
    return hashlib.blake2b(data, key=secret, digest_size=_MAC_BYTES).digest()


def seal(secret: bytes, data: bytes) -> bytes:
    """Bytes signed with ``secret`` (see ``signing_key``): ``unseal`` gives them back."""
    return _sign(secret, data) + data


def unseal(secret: bytes, blob: object) -> bytes | None:
    """The bytes ``seal`` signed with ``secret``; None for anything else."""
    if not isinstance(blob, bytes) or len(blob) < _MAC_BYTES:
        return None
    mac, data = blob[:_MAC_BYTES], blob[_MAC_BYTES:]
    return data if hmac.compare_digest(mac, _sign(secret, data)) else None


def signing_key() -> bytes:
    """The signing key of this user, made on first use (readable by this user alone)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "conceptgraph" / "cache-key"
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)  # another run made it first
    try:
        os.write(fd, secrets.token_bytes(32))
    finally:
        os.close(fd)
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    secret = path.read_bytes()
    if len(secret) != 32:
        # Half written by a run that died, or not ours: no cache rather than a weak key.
        raise OSError(f"{path}: not a conceptgraph cache key")
    return secret
