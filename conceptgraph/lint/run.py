"""One vault linted, from its folder to its findings: every way a run can go is decided here.

A run over a vault goes one of three ways, and this module alone chooses:

- with the cache (and every note named on the command line visible in the vault), the
  incremental run (:func:`conceptgraph.lint.incremental.lint_cached`) reads and checks only
  what changed; on a first run it goes the second way itself, through the same function here;
- without it, a vault big enough is read and checked in keeping workers
  (:func:`conceptgraph.lint.parallel.lint_in_workers`);
- otherwise, or where the workers cannot share their notes, the vault is loaded and checked in
  this process (:func:`conceptgraph.lint.engine.lint`).

The rules are selected and the vault discovered once, here, and handed down; the findings are
the same whichever way the run went.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from pathlib import Path

from conceptgraph.config import Config
from conceptgraph.lint import parallel
from conceptgraph.lint.engine import finish, lint, selected_rules
from conceptgraph.model import Finding
from conceptgraph.vault.discovery import Discovery, discover
from conceptgraph.vault.load import Vault, load_vault
from conceptgraph.vault.read import gc_paused, read_note


def lint_vault(
    root: Path,
    config: Config,
    only: Collection[str] | None,
    jobs: int | None,
    cache: bool,
    *,
    whole: bool = False,
) -> tuple[list[Finding], Vault]:
    """The findings in the vault at ``root`` (in the notes at the disk paths ``only``, if given).

    ``cache`` keeps what this run learnt in the vault's ``.conceptgraph-cache/`` and reads it
    back; ``jobs`` is how many processes may share the work (None: one per core). ``whole``:
    the caller reads every note of the vault after the run (``stats``), so the notes are read
    here once, and checked here, rather than in workers that would leave them to read again.
    """
    rules = selected_rules(config)
    found = discover(root, config)
    # The records live as long as the run, and neither they nor the rules' own results (every
    # link resolved, every negation read) make reference cycles: walked at each collection,
    # they made 100,000 notes take a quarter longer than ten times 10,000.
    with gc_paused():
        if cache and _all_visible(found, only):
            from conceptgraph.lint.incremental import lint_cached

            done = lint_cached(root, config, jobs, rules=rules, found=found)
            return [f for f in done.findings if only is None or f.path in only], done.vault
        if only is None and not whole:
            linted = parallel.lint_in_workers(root, config, found, rules, jobs)
            if linted is not None:
                raw = [*linted.note_findings, *linted.vault_findings]
                return finish(linted.vault, rules, raw), linted.later
        vault = load_vault(root, config, jobs, found)
        named = None
        if only is not None:
            named = {unicodedata.normalize("NFC", disk) for disk in only}
            for disk in only:
                rel = unicodedata.normalize("NFC", disk)
                if rel not in vault.notes:
                    # Named on the command line but hidden or excluded: lint it all the same.
                    vault.notes[rel] = read_note(root, rel, disk)
        return lint(vault, named, jobs, rules=rules), vault


def _all_visible(found: Discovery, only: Collection[str] | None) -> bool:
    """Whether the cache can answer: not for a note named but hidden or excluded in its vault."""
    return only is None or all(unicodedata.normalize("NFC", disk) in found.files for disk in only)
