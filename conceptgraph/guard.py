"""Replacing a file only if it still holds what was read, and losing no one else's write.

A ``--fix`` or a ``render`` reads a note, works out new text, and writes it back atomically
(temp file + rename). Between the read and the rename an editor may save the note, or a
script append to it; a plain rename would throw that write away. ``Guard.replace`` makes the
window as small as the platform allows and catches what still slips through:

1. The new bytes go to a temp file first (``atomic.write_temp``), so nothing slow is left
   between the check and the swap.
2. The note is opened and locked (``flock``, advisory: it keeps out other conceptgraph runs
   and any editor that takes it, no one else), read again and compared with the bytes the
   new text was made from. Any difference: nothing is written.
3. The temp file and the note are swapped in one step (``renameat2(RENAME_EXCHANGE)`` on
   Linux): the note's name now holds the new bytes, and the temp name holds exactly the file
   that was at the note's name an instant before, whoever wrote it. Where the file system
   cannot swap, the note is hard-linked to a second temp name and the temp file renamed over
   it, which leaves a window of two system calls; where it cannot link either, only the
   opened file is kept.
4. The replaced file is looked at at once: still the file that was read (same inode), with
   the same size, mtime and bytes? Then its name is removed (the open descriptor keeps it
   readable), and it is looked at again once the rest of the batch is written, so that a
   writer that had the note open at the swap has had time to finish. If either look finds
   it changed, another writer got in: its bytes are put back at the note's name, bytes
   appended to the new file meanwhile (by a writer that opened the note after the swap)
   are added after them, and the note is reported as not fixed.

What is not guaranteed (docs/reliability.md): a writer that keeps the note open and writes
to it after the last look (its bytes go to a file no longer in the vault), and, where the
file system cannot swap, an editor's atomic save that lands in the instant between the link
and the rename (or, with no hard links either, between steps 2 and 3).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

from conceptgraph.atomic import fsync_folder, sweep_folder, temp_path, write_temp
from conceptgraph.boundary import check_inside

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the other steps still run
    fcntl = None  # type: ignore[assignment]

CHANGED = "changed on disk since it was linted; run again"
RESTORED = (
    "changed on disk while it was being written (another program saved it at that moment); "
    "its bytes were put back, not fixed; run again"
)
OVERTAKEN = (
    "changed on disk while it was being written, then saved again by another program; "
    "that last save was kept, not fixed; check it"
)
LOCKED = "another process holds its lock; run again"
# How long a note locked by another run is waited for.
_LOCK_WAIT_S = 2.0
# How long after its swap a replaced file is looked at again, at the least: a writer that
# opened the note just before the swap writes within this time, so its bytes are seen.
_SETTLE_S = 0.02
# Replaced files kept open, at most, before they are looked at (each holds a descriptor).
_MAX_HELD = 200
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_OPEN = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
# Only POSIX lets a file be renamed over while it is open and then read through that handle.
_HOLDS = os.name == "posix"


class _Refused(Exception):
    """A note that is not written: the reason is the message."""


@cache
def _renameat2() -> Callable[[int, bytes, int, bytes, int], int] | None:
    # Looked up on the first swap, not at import: ctypes costs a few milliseconds to load.
    if not _HOLDS or not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int

    def call(olddir: int, old: bytes, newdir: int, new: bytes, flags: int) -> int:
        result = int(function(olddir, old, newdir, new, flags))
        return -ctypes.get_errno() if result != 0 else 0

    return call


def exchange(one: Path, other: Path) -> bool:
    """Swap two names in one step; False where the platform or file system cannot.

    Raises ``OSError`` for any other failure (a name missing, no permission).
    """
    call = _renameat2()
    if call is None:
        return False
    result = call(_AT_FDCWD, os.fsencode(one), _AT_FDCWD, os.fsencode(other), _RENAME_EXCHANGE)
    if result == 0:
        return True
    if -result in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(-result, os.strerror(-result), os.fspath(one))


_RENAME_NOREPLACE = 1


def rename_no_replace(old: Path, new: Path) -> None:
    """Rename ``old`` to ``new`` (a file or a folder), never over anything already at ``new``.

    Raises ``FileExistsError`` when ``new`` exists. On Linux the check and the rename are one
    step (``renameat2(RENAME_NOREPLACE)``); elsewhere a file is hard-linked then unlinked
    (which also refuses an existing name), and a folder is checked, then renamed.
    """
    call = _renameat2()
    if call is not None:
        result = call(_AT_FDCWD, os.fsencode(old), _AT_FDCWD, os.fsencode(new), _RENAME_NOREPLACE)
        if result == 0:
            return
        if -result not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise OSError(-result, os.strerror(-result), os.fspath(new))
    if os.path.isdir(old):
        if os.path.lexists(new):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fspath(new))
        os.rename(old, new)
        return
    os.link(old, new)
    os.unlink(old)


class _Stamp(NamedTuple):
    """A file's inode, size and mtime: what a write changes."""

    ino: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, info: os.stat_result) -> _Stamp:
        return cls(info.st_ino, info.st_size, info.st_mtime_ns)


@dataclass(slots=True)
class _Held:
    path: Path  # as the caller named it, for the report
    target: Path  # its real path, where the swap happened
    fd: int  # the replaced file, opened (and checked) before the swap
    expected: bytes
    before: _Stamp
    hold: Path | None  # the name the replaced file has now; None: it has none
    ours: _Stamp
    swapped_at: float


@dataclass
class Guard:
    """A batch of guarded replacements; use as a context manager, read ``refused`` after.

    ``replace`` returns the reason a note was not written, or None; a write found at the end
    of the batch to have raced another writer is put back and its reason is in ``refused``,
    keyed by the path ``replace`` was given.
    """

    refused: dict[Path, str] = field(default_factory=dict)
    _held: list[_Held] = field(default_factory=list)

    def __enter__(self) -> Guard:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.finish()

    def replace(
        self, path: Path, expected: bytes, data: bytes, inside: Path | None = None
    ) -> str | None:
        """Put ``data`` at ``path`` if the file there holds ``expected``; else say why not.

        Raises ``OSError`` when the write itself fails (``OutsideError`` for a ``path``
        whose links lead out of ``inside``); the note is then as it was.
        """
        if inside is not None:
            check_inside(path, inside)
        target = Path(os.path.realpath(path))
        sweep_folder(target.parent)
        mode = None
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(os.stat(target).st_mode)
        temp = write_temp(target, data, mode)
        fd = -1
        try:
            ours = _Stamp.of(os.lstat(temp))
            fd = _open_locked(target)
            if _read(fd, len(expected) + 1) != expected:
                raise _Refused(CHANGED)
            before = _Stamp.of(os.fstat(fd))
            if not _HOLDS:
                os.close(fd)
                fd = -1
            hold = _swap(temp, target)
        except _Refused as refused:
            _discard(temp, fd)
            return str(refused)
        except BaseException:
            _discard(temp, fd)
            raise
        if not _HOLDS:
            fsync_folder(target.parent)
            return None
        one = _Held(path, target, fd, expected, before, hold, ours, time.monotonic())
        # At once, then again later: an editor's save that landed just before the swap is put
        # back before anyone can read the new file in its place.
        try:
            reason = None if _unchanged(one) else _put_back(one)
        except OSError as exc:
            reason = f"cannot check it after writing: {exc.strerror or exc}"
        if reason is not None:
            os.close(fd)  # the lock goes with it
            return reason
        if hold is not None:
            # The open descriptor is enough to look at it again; a name would be one more
            # file for a kill to leave behind.
            os.unlink(hold)
            one.hold = None
        # The lock keeps out other runs only until the swap: after it, they find a new file.
        if fcntl is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
        self._held.append(one)
        if len(self._held) >= _MAX_HELD:
            self.finish()
        return None

    def finish(self) -> None:
        """Look at every replaced file again; put back those another writer wrote to."""
        if not self._held:
            return
        wait = self._held[-1].swapped_at + _SETTLE_S - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        held, self._held = self._held, []
        folders: set[Path] = set()
        for one in held:
            try:
                reason = _settle(one)
            except OSError as exc:
                reason = f"cannot check it after writing: {exc.strerror or exc}"
            finally:
                os.close(one.fd)
            if reason is not None:
                self.refused[one.path] = reason
            folders.add(one.target.parent)
        for folder in folders:
            fsync_folder(folder)


def _discard(temp: Path, fd: int) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temp)
    if fd >= 0:
        os.close(fd)


def _open_locked(target: Path) -> int:
    """The note at ``target``, opened and locked; ``_Refused`` if it cannot be."""
    deadline = time.monotonic() + _LOCK_WAIT_S
    while True:
        try:
            fd = os.open(target, _OPEN)
        except FileNotFoundError:
            raise _Refused("deleted since it was linted") from None
        except OSError as exc:
            raise _Refused(f"cannot read it again: {exc.strerror or exc}") from exc
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise _Refused("no longer a regular file")
            if fcntl is not None and not _lock(fd, deadline):
                raise _Refused(LOCKED)
            # Replaced between the open and the lock: the lock is on a file no longer there.
            now = os.stat(target)
            if (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        if time.monotonic() > deadline:
            raise _Refused(CHANGED)


def _lock(fd: int, deadline: float) -> bool:
    assert fcntl is not None
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        except OSError:
            return True  # a file system without locks (some network mounts): go on unlocked


def _read(fd: int, limit: int) -> bytes:
    """Up to ``limit`` bytes of the file ``fd`` from its start."""
    parts: list[bytes] = []
    offset = 0
    while offset < limit:
        part = os.pread(fd, min(limit - offset, 1 << 20), offset)
        if not part:
            break
        parts.append(part)
        offset += len(part)
    return b"".join(parts)


def _swap(temp: Path, target: Path) -> Path | None:
    """Put ``temp`` at ``target``; the name the file that was there has now, if any."""
    if exchange(temp, target):
        return temp
    link = temp_path(target)
    hold: Path | None = link
    try:
        os.link(target, link)
    except OSError:
        hold = None  # no hard links here (FAT, some network file systems)
    try:
        os.replace(temp, target)
    except BaseException:
        if hold is not None:
            with contextlib.suppress(OSError):
                os.unlink(hold)
        raise
    return hold


def _unchanged(one: _Held) -> bool:
    """Whether the file the swap replaced is the one that was read, as it was read."""
    if one.hold is not None and os.lstat(one.hold).st_ino != one.before.ino:
        return False
    return (
        _Stamp.of(os.fstat(one.fd)) == one.before
        and _read(one.fd, len(one.expected) + 1) == one.expected
    )


def _settle(one: _Held) -> str | None:
    """Whether the replaced file was written to after the swap: if so, put it back; why."""
    return None if _unchanged(one) else _put_back(one)


def _put_back(one: _Held) -> str:
    """Put the other writer's file back at the note's name, with what was added to ours."""
    try:
        current = os.open(one.target, _OPEN)
    except FileNotFoundError:
        return OVERTAKEN
    try:
        if os.fstat(current).st_ino != one.ours.ino:
            # Our file was replaced already (an editor saved again): that save is the newest
            # and stands. What the other writer put in the file we replaced is not in it.
            if one.hold is not None:
                os.unlink(one.hold)
            return OVERTAKEN
        hold = one.hold
        if hold is None:
            theirs = _read(one.fd, os.fstat(one.fd).st_size)
            hold = write_temp(one.target, theirs, stat.S_IMODE(os.fstat(current).st_mode))
        if exchange(hold, one.target):
            if os.lstat(hold).st_ino != one.ours.ino:
                # Saved again in the instant since the look: that save is put back, and stands.
                exchange(hold, one.target)
                os.unlink(hold)
                return OVERTAKEN
            os.unlink(hold)
        else:
            os.replace(hold, one.target)
        _carry_appends(current, one.ours.size, one.target)
        return RESTORED
    finally:
        os.close(current)


def _carry_appends(ours: int, size: int, target: Path) -> None:
    """Append to ``target`` what was appended to our file (``ours``) after its first ``size``.

    An appender that opened the note after the swap wrote to our file; those bytes are its.
    """
    done = size
    for _ in range(3):
        end = os.fstat(ours).st_size
        if end <= done:
            return
        extra = os.pread(ours, end - done, done)
        out = os.open(target, os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0))
        try:
            os.write(out, extra)
        finally:
            os.close(out)
        done += len(extra)
