"""Writing a file so that readers see the old bytes or the new ones, never half of either.

Each write goes through a temp file beside its target, named so that conceptgraph knows it
again: ``.NAME.conceptgraph-HOST-PID-RANDOM.tmp`` (hidden, so no vault walk takes it for a
note). A process killed between making it and renaming it cannot remove it; the next run
that walks the folder does (``sweep``): only names of that shape, only regular files, and
only once the process that made them is gone (or, for one made on another machine of a
synced vault, once it has not been touched for an hour). A user's file, or the temp file of
a write still going on, is never removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import stat
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from conceptgraph.boundary import check_inside

# Fixed text around the writer's identity: nothing but conceptgraph names a file like this.
_TEMP = re.compile(
    r"\.(?P<name>.*)\.conceptgraph-(?P<host>[0-9a-f]{4})-(?P<pid>[0-9]{1,10})-[0-9a-f]{8}\.tmp",
    re.DOTALL,
)
# A name longer than the file system allows would fail the write: the target's name is only
# there for people, so it is shortened to leave room for the rest.
_NAME_BYTES = 160
# No write of ours takes this long: a temp file untouched for it was left by a dead process,
# even one whose pid cannot be asked about (another machine, another pid namespace).
ABANDONED_S = 3600.0
# Folders swept in this process: each is looked at once, however many files are written there.
_swept: set[str] = set()


def _host() -> str:
    node = os.uname().nodename if hasattr(os, "uname") else os.environ.get("COMPUTERNAME", "")
    return hashlib.blake2b(node.encode("utf-8", "replace"), digest_size=2).hexdigest()


def temp_path(target: Path) -> Path:
    """A fresh temp file name beside ``target``, of the shape ``sweep`` recognises."""
    name = target.name
    while len(os.fsencode(name)) > _NAME_BYTES:
        name = name[:-1]
    return target.parent / (
        f".{name}.conceptgraph-{_host()}-{os.getpid()}-{secrets.token_hex(4)}.tmp"
    )


def is_temp_name(name: str) -> bool:
    """Whether ``name`` (a file name, no folder) is one of conceptgraph's temp files."""
    return name.startswith(".") and _TEMP.fullmatch(name) is not None


def _abandoned(path: str) -> bool:
    """Whether the temp file at ``path`` was left by a writer that is gone."""
    match = _TEMP.fullmatch(os.path.basename(path))
    if match is None:
        return False
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode):
        return False
    if time.time() - info.st_mtime > ABANDONED_S:
        return True
    if match["host"] != _host() or os.name != "posix":
        return False  # its pid names a process elsewhere; only its age tells
    return not _running(int(match["pid"]))


def _running(pid: int) -> bool:
    if pid == os.getpid() or pid <= 0:
        return pid > 0
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process (EPERM): alive
    # A killed child its parent has not waited for yet is a zombie: it writes nothing more.
    with contextlib.suppress(OSError, IndexError), open(f"/proc/{pid}/stat", "rb") as proc:
        return proc.read().rpartition(b")")[2].split()[0] != b"Z"
    return True


def sweep(paths: Iterable[str], root: Path | None = None) -> list[str]:
    """Remove the temp files among ``paths`` whose writer is gone; say so once on stderr.

    ``paths`` are candidates (names of the temp shape, as a folder walk finds them); the
    removed ones are returned. ``root`` is what the message names them relative to.
    """
    removed = []
    for path in paths:
        if _abandoned(path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
                removed.append(path)
    if removed:
        shown = [os.path.relpath(p, root) if root is not None else p for p in removed[:3]]
        more = f" and {len(removed) - 3} more" if len(removed) > 3 else ""
        print(
            f"conceptgraph: removed {len(removed)} temporary "
            f"file{'s' if len(removed) != 1 else ''} left by a run that was killed: "
            f"{', '.join(shown)}{more}",
            file=sys.stderr,
            flush=True,
        )
    return removed


def sweep_folder(folder: Path) -> None:
    """``sweep`` the temp files directly in ``folder``, once per process; errors are ignored."""
    key = os.path.realpath(folder)
    if key in _swept:
        return
    _swept.add(key)
    try:
        with os.scandir(key) as entries:
            found = [entry.path for entry in entries if is_temp_name(entry.name)]
    except OSError:
        return
    sweep(found)


def write_atomic(path: Path, data: bytes, inside: Path | None = None) -> None:
    """Replace the file at ``path`` with ``data`` in one step.

    The bytes go to a temp file in the same folder (so the rename never crosses file systems),
    are fsynced, and the temp file is renamed over ``path`` with ``os.replace``; the folder is
    then fsynced too where the platform allows it. An existing file keeps its mode (new files
    get the umask's default); a symlink is followed and its target replaced, so the link stays.
    On any failure the temp file is removed, ``path`` is left exactly as it was, and the
    ``OSError`` (or whatever interrupted the write) propagates. With ``inside`` (a vault), a
    ``path`` whose links lead out of that folder is refused (``OutsideError``), unwritten.
    """
    with atomic_output(path, inside) as out:
        out.write(data)


@contextlib.contextmanager
def atomic_output(path: Path, inside: Path | None = None) -> Iterator[BinaryIO]:
    """``write_atomic`` for bytes made as they are written: a file to write them to.

    When the block ends, the file replaces ``path`` as ``write_atomic`` replaces it; if the
    block raises, the temp file is removed and ``path`` is left as it was. An export of
    hundreds of megabytes is written so, never held whole in memory.
    """
    if inside is not None:
        check_inside(path, inside)
    target = Path(os.path.realpath(path))
    folder = target.parent
    mode = file_mode(target)
    sweep_folder(folder)
    with _temp_file(target, mode) as (temp, out):
        yield out
    try:
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_folder(folder)


def file_mode(target: Path) -> int | None:
    """The permission bits of the file at ``target``; None if there is none."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return None


def write_temp(target: Path, data: bytes, mode: int | None) -> Path:
    """A new temp file beside ``target`` holding ``data``, fsynced, with ``mode`` if given.

    On any failure it is removed and the error propagates.
    """
    with _temp_file(target, mode) as (temp, out):
        out.write(data)
    return temp


@contextlib.contextmanager
def _temp_file(target: Path, mode: int | None) -> Iterator[tuple[Path, BinaryIO]]:
    """A new temp file beside ``target`` to write, fsynced and closed when the block ends.

    If anything fails, the block included, it is removed and the error propagates.
    """
    temp = temp_path(target)
    # O_EXCL: never write through a file or link someone else put at the temp name.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            if mode is not None:
                os.chmod(temp, mode)
            yield temp, out
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def fsync_folder(folder: Path) -> None:
    """Make the renames in ``folder`` durable, where the platform allows it."""
    # The rename is durable only once the folder entry is on disk; Windows cannot open a folder
    # for fsync, and the new file's bytes are already safe, so a failure here is not an error.
    if not hasattr(os, "O_DIRECTORY"):
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
