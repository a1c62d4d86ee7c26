"""The library entry points the CLI calls; each takes paths and returns plain results."""

from __future__ import annotations

import gc
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from conceptgraph.config import load_config
from conceptgraph.errors import UsageError
from conceptgraph.model import Finding
from conceptgraph.vault import Vault, is_note_path, load_vault, read_note

ROOT_MARKERS = (".obsidian", "conceptgraph.toml", ".git")


@dataclass(frozen=True, slots=True)
class LintResult:
    """The findings of one run, and what was linted."""

    findings: list[Finding]
    vaults: list[Vault]
    notes: int
    # The root folder of the vault each finding was found in, index for index: a finding's
    # path is relative to its vault, and one run may lint several vaults.
    roots: list[Path] = field(default_factory=list)


def find_vault_root(path: Path) -> Path:
    """The vault a file belongs to.

    That is the nearest folder above with ``.obsidian/``, ``conceptgraph.toml`` or ``.git``, or
    the file's own folder when there is none.
    """
    start = path.resolve().parent
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    return start


def open_vault(path: Path, jobs: int | None = None) -> Vault:
    """Load the vault at a folder, with its configuration."""
    if not path.is_dir():
        raise UsageError(f"not a vault folder: {path}")
    root = path.resolve()
    return load_vault(root, load_config(root), jobs)


def lint_paths(paths: Sequence[Path], jobs: int | None = None) -> LintResult:
    """Lint whole vaults (folders) and single notes (files, resolved against their vault)."""
    from conceptgraph.lint.engine import lint

    wanted: dict[Path, set[str] | None] = {}
    for path in paths:
        if not path.exists():
            raise UsageError(f"no such file or folder: {path}")
        if path.is_dir():
            wanted[path.resolve()] = None
            continue
        if not is_note_path(path.name):
            raise UsageError(f"not a Markdown note (.md): {path}")
        root = find_vault_root(path)
        disk = path.resolve().relative_to(root).as_posix()
        current = wanted.setdefault(root, set())
        if current is not None:
            current.add(disk)
    findings: list[Finding] = []
    vaults: list[Vault] = []
    roots: list[Path] = []
    notes = 0
    for root, only in wanted.items():
        vault = load_vault(root, load_config(root), jobs)
        # The records live as long as the run: keep the cyclic collector from walking them
        # again at every collection the rules trigger.
        gc.freeze()
        named = None
        if only is not None:
            named = {unicodedata.normalize("NFC", disk) for disk in only}
            for disk in only:
                rel = unicodedata.normalize("NFC", disk)
                if rel not in vault.notes:
                    # Named on the command line but hidden or excluded: lint it all the same.
                    vault.notes[rel] = read_note(root, rel, disk)
        found = lint(vault, named)
        findings.extend(found)
        roots.extend([root] * len(found))
        vaults.append(vault)
        notes += len(only) if only is not None else len(vault.notes)
    return LintResult(findings, vaults, notes, roots)
