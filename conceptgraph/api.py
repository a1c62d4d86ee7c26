"""The library entry points the CLI calls; each takes paths and returns plain results."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from conceptgraph.config import Config, load_config
from conceptgraph.errors import UsageError
from conceptgraph.model import Finding
from conceptgraph.vault.discovery import discover, is_note_path
from conceptgraph.vault.load import Vault, load_vault
from conceptgraph.vault.read import gc_paused

if TYPE_CHECKING:
    from conceptgraph.rdf.shacl import ShaclResult
    from conceptgraph.rdf.sparql import QueryResult
    from conceptgraph.settings import Overrides, Resolved
    from conceptgraph.stats import VaultStats

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
    # Each vault root linted, with the disk paths of the notes named in it (None: every note).
    linted: Mapping[Path, Collection[str] | None] = field(default_factory=dict)


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


def open_vault(path: Path, jobs: int | None = None, overrides: Overrides | None = None) -> Vault:
    """Load the vault at a folder, with its configuration (and the command line's over it)."""
    if not path.is_dir():
        raise UsageError(f"not a vault folder: {path}")
    root = path.resolve()
    return load_vault(root, _config(root, overrides, pick_rules=False), jobs)


def _config(root: Path, overrides: Overrides | None, *, pick_rules: bool = True) -> Config:
    if overrides is None:
        return load_config(root)
    from conceptgraph.settings import resolve

    return resolve(root, overrides, pick_rules=pick_rules).config


def lint_paths(
    paths: Sequence[Path],
    jobs: int | None = None,
    *,
    cache: bool = False,
    overrides: Overrides | None = None,
) -> LintResult:
    """Lint whole vaults (folders) and single notes (files, resolved against their vault).

    With ``cache``, each vault's ``.conceptgraph-cache/`` keeps what this run learnt, and the
    next run reads and checks only what changed since; the findings are the same either way.
    ``overrides`` are the command line's settings over each vault's configuration file.
    """
    from conceptgraph.lint.engine import RAISE_RULE_ERRORS
    from conceptgraph.lint.run import lint_vault

    # --traceback is for reproducing a rule's crash: the rules must run, not be remembered.
    cache = cache and not RAISE_RULE_ERRORS.get()

    wanted = _targets(paths)
    findings: list[Finding] = []
    vaults: list[Vault] = []
    roots: list[Path] = []
    notes = 0
    for root, only in wanted.items():
        config = _config(root, overrides)
        found, vault = lint_vault(root, config, only, jobs, cache)
        findings.extend(found)
        roots.extend([root] * len(found))
        vaults.append(vault)
        notes += len(only) if only is not None else len(vault.notes)
    return LintResult(findings, vaults, notes, roots, wanted)


def stats_vault(
    path: Path, jobs: int | None = None, *, overrides: Overrides | None = None
) -> VaultStats:
    """The health of the vault at a folder: its shape, and the findings of a lint run.

    The run reads and checks the whole vault in this process (no cache): the statistics
    read every note after it, and a run in workers would leave them to be read twice.
    """
    from conceptgraph.lint.run import lint_vault
    from conceptgraph.stats import vault_stats

    if not path.is_dir():
        raise UsageError(f"not a vault folder: {path}")
    root = path.resolve()
    findings, vault = lint_vault(root, _config(root, overrides), None, jobs, False, whole=True)
    return vault_stats(vault, findings)


def lint_settings(
    paths: Sequence[Path], overrides: Overrides, *, pick_rules: bool = True
) -> list[Resolved]:
    """The configuration each vault of a run would use, and where each value came from.

    ``pick_rules``: whether the run is of the lint rules (``shacl`` selects its own findings).
    """
    from conceptgraph.settings import resolve

    return [resolve(root, overrides, pick_rules=pick_rules) for root in _targets(paths)]


def lint_files(paths: Sequence[Path], overrides: Overrides | None = None) -> list[Path]:
    """The notes a lint run would read, in order: each vault's notes, or the files named."""
    files: list[Path] = []
    for root, only in _targets(paths).items():
        if only is not None:
            files.extend(root / disk for disk in sorted(only))
            continue
        found = discover(root, _config(root, overrides, pick_rules=False))
        files.extend(root / disk for _, disk in sorted(found.notes))
    return files


def _targets(paths: Sequence[Path]) -> dict[Path, set[str] | None]:
    """Each vault root to lint, with the disk paths of the notes named in it (None: all)."""
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
    return wanted


def query_vault(
    path: Path,
    text: str,
    *,
    base: str | None = None,
    source: str = "query",
    jobs: int | None = None,
    cache: bool = True,
) -> QueryResult:
    """Run a SPARQL query over the vault at a folder, embedded.

    The query is refused (``SERVICE``, ``LOAD``, updates, a ``FROM`` naming another graph) or
    reported as a syntax error before the vault is read; ``source`` names it in messages.
    With ``cache``, a vault unchanged since an earlier query is answered from the copy of its
    triples that query kept (see :mod:`conceptgraph.rdf.store`), with the same answers.
    """
    from conceptgraph.rdf.sparql import (
        check_query,
        check_syntax,
        run_query,
        vault_store_at,
    )
    from conceptgraph.rdf.triples import check_base, default_base

    if not path.is_dir():
        raise UsageError(f"not a vault folder: {path}")
    root = path.resolve()
    base = check_base(base) if base is not None else default_base(root)
    check_query(text, graphs=(base,), source=source)
    check_syntax(text, base, source)
    config = load_config(root)
    if cache:
        from conceptgraph.rdf.store import copying, keeping, stored, updated, vault_state

        state = vault_state(root, config, base)
        if state is not None:
            store = stored(root, state.key) if state.key is not None else None
            if store is None:
                store = updated(root, config, base, state)  # the copy before an edit
            if store is not None:
                return run_query(store, text, base, source)
        if state is not None and state.key is not None and keeping(root):
            with copying(root, state, base) as copy, gc_paused():
                store = vault_store_at(root, config, base, jobs, copy)
            return run_query(store, text, base, source)
    with gc_paused():
        store = vault_store_at(root, config, base, jobs)
    return run_query(store, text, base, source)


def shacl_vault(
    path: Path,
    shapes: Sequence[Path] = (),
    *,
    base: str | None = None,
    jobs: int | None = None,
    overrides: Overrides | None = None,
    engine: str = "fast",
) -> ShaclResult:
    """Validate the vault at a folder against the shipped SHACL shapes and ``shapes``.

    The rule selection of ``overrides`` picks among the ``shacl-*`` findings (family ``shacl``).
    ``engine``: ``fast`` or ``pyshacl`` (the reference); see ``conceptgraph.rdf.shacl``.
    """
    import dataclasses

    from conceptgraph.rdf.shacl import FAMILY, load_shapes, rule_names, validate
    from conceptgraph.rdf.triples import vault_rdf

    if overrides is not None:
        overrides.selection.check(dict.fromkeys(rule_names(), FAMILY), "shacl-min-count, ...")
    graph = load_shapes(shapes)  # bad shapes fail before the vault is read
    vault = open_vault(path, jobs, overrides)
    result = validate(vault, vault_rdf(vault, base), graph, engine)
    if overrides is None:
        return result
    from conceptgraph.settings import keep_chosen

    kept = keep_chosen(result.findings, overrides.selection, FAMILY)
    return dataclasses.replace(result, findings=kept)
