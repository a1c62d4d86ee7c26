"""Where a vault ends: symbolic links that lead out of it, and writes that must stay in it.

A vault can come from anywhere (a zip file, a pull request), and a symbolic link in it can
lead anywhere: to ``/``, to the home folder, to a file of secrets. Obsidian's vault is its
folder; so is ours. A link whose target lies inside the vault is followed (it is the vault's
own file under a second name); one that leads out of it is not, unless the vault's
configuration names the folder it leads into (``allow-symlinks-to``). Either way nothing is
ever written outside the vault: a fix, a render or a cache write that would land outside
through a link is refused.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class OutsideError(OSError):
    """A write that would land outside the folder it must stay in, through a symbolic link."""

    def __init__(self, path: Path | str, target: str, inside: Path | str) -> None:
        super().__init__(
            errno.EACCES,
            f"a symbolic link that leads out of {os.fspath(inside)} (to {target}); "
            "conceptgraph writes only inside it",
            os.fspath(path),
        )


def is_within(path: str, folder: str) -> bool:
    """Whether the real path ``path`` is ``folder`` or lies below it (both real paths)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


@dataclass(frozen=True, slots=True)
class Boundary:
    """The real folder of a vault, and the folders outside it that its links may lead into."""

    root: str
    allowed: tuple[str, ...] = ()

    @classmethod
    def of(cls, root: Path, allowed: Iterable[str] = ()) -> Boundary:
        """The boundary of the vault at ``root``; ``allowed`` relative to it, or absolute."""
        real = os.path.realpath(root)
        folders = tuple(
            os.path.realpath(os.path.join(real, os.path.expanduser(folder))) for folder in allowed
        )
        return cls(real, folders)

    def allows(self, target: str) -> bool:
        """Whether a link may be followed to ``target`` (a real path)."""
        return is_within(target, self.root) or any(is_within(target, f) for f in self.allowed)

    def follows(self, path: str) -> bool:
        """Whether a run reads ``path``: no link, or a link to where links may lead."""
        return not os.path.islink(path) or self.allows(os.path.realpath(path))


def check_inside(path: Path, inside: Path) -> None:
    """Raise ``OutsideError`` unless ``path``, its links followed, lies within ``inside``."""
    target = os.path.realpath(path)
    if not is_within(target, os.path.realpath(inside)):
        raise OutsideError(path, target, inside)
