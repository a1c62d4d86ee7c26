"""Writing a file so that readers see the old bytes or the new ones, never half of either."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from conceptgraph.boundary import check_inside


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
    if inside is not None:
        check_inside(path, inside)
    target = Path(os.path.realpath(path))
    folder = target.parent
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    temp = folder / f".{target.name}.{secrets.token_hex(4)}.tmp"
    # O_EXCL: never write through a file or link someone else put at the temp name.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        try:
            if mode is not None:
                os.chmod(temp, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
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
