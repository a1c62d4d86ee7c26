"""Running the registered rules over a vault: selection, note and vault rules, directives.

Rules are defined in :mod:`conceptgraph.lint.rules` with :func:`conceptgraph.lint.rule.rule`;
:func:`all_rules` imports them, :func:`selected_rules` applies the configuration, and
:func:`run_rules` and :func:`finish` turn their hits into findings: stamped with rule, severity
and path, silenced where a ``conceptgraph-disable`` directive says so, sorted.
"""

from __future__ import annotations

import contextvars
import difflib
import os
import sys
import traceback
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from fnmatch import fnmatchcase

from conceptgraph import progress
from conceptgraph.config import Config
from conceptgraph.errors import ConfigError
from conceptgraph.lint.rule import REGISTRY, GatheredCheck, Hit, NoteCheck, Rule, Scope, VaultCheck
from conceptgraph.model import Directive, Finding, NoteRecord, Severity, Span
from conceptgraph.pool import share
from conceptgraph.vault.load import Vault

# Set (by ``conceptgraph --traceback``) to let a rule's internal error propagate with its
# traceback, for a bug report, instead of becoming a finding.
RAISE_RULE_ERRORS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "RAISE_RULE_ERRORS", default=False
)


def all_rules() -> dict[str, Rule]:
    """Every rule, by name, once the rule modules are imported."""
    from conceptgraph.lint import rules  # noqa: F401  (importing registers them)

    return REGISTRY


def selected_rules(config: Config) -> list[Rule]:
    """The rules the configuration turns on, by name or family in ``select``/``ignore``.

    An empty ``select`` means every rule on by default; ``extend-select`` adds to either.
    """
    rules = all_rules()
    families = {r.family for r in rules.values()}
    by_path = [name for names in config.per_path_ignores.values() for name in names]
    for key in (*config.select, *config.extend_select, *config.ignore, *config.severity, *by_path):
        if key not in rules and (key not in families or key in config.severity):
            hint = nearest_hint(key, [*rules, *families])
            raise ConfigError(f"unknown rule {key!r}{hint}", config.source)

    def named(r: Rule, names: Collection[str]) -> bool:
        return r.name in names or r.family in names

    def chosen(r: Rule) -> bool:
        if named(r, config.extend_select):
            return True
        if config.select:
            return named(r, config.select)
        return r.default

    return [r for r in rules.values() if chosen(r) and not named(r, config.ignore)]


def nearest_hint(name: str, known: Iterable[str]) -> str:
    """A hint naming the known rule or family names closest to a misspelt one, if any are."""
    near = difflib.get_close_matches(name, sorted(set(known)), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(near)}?)" if near else ""


def lint(
    vault: Vault,
    only: Collection[str] | None = None,
    jobs: int | None = 1,
    *,
    rules: Sequence[Rule] | None = None,
) -> list[Finding]:
    """Run the configured rules over the vault; report only on the notes in ``only`` if given.

    ``jobs`` worker processes share the note rules (None: one per core). ``rules`` are the
    configuration's (:func:`selected_rules`) unless the caller has selected them already.
    """
    notes = [n for path, n in vault.notes.items() if only is None or path in only]
    rules = list(rules) if rules is not None else selected_rules(vault.config)
    return finish(vault, rules, run_rules(vault, rules, notes, only, jobs))


# Below this many notes, forking workers for the note rules costs more than it saves.
_PARALLEL_MIN_NOTES = 1000
# What forked rule workers inherit: the vault, the note rules, and the notes in chunks.
_forked: tuple[Vault, list[Rule], list[list[NoteRecord]]] | None = None


def run_rules(
    vault: Vault,
    rules: Iterable[Rule],
    notes: list[NoteRecord],
    only: Collection[str] | None = None,
    jobs: int | None = 1,
) -> list[Finding]:
    """The raw findings of ``rules``: note rules over ``notes``, vault rules over the vault.

    With more than one job, and a platform that forks, the note rules run in forked workers
    over chunks of the notes: they inherit the loaded vault rather than receive it.
    """
    rules = list(rules)
    workers = forking_workers(jobs)
    if workers <= 1 or len(notes) < _PARALLEL_MIN_NOTES:
        return _run_all(vault, rules, notes, only, progress.current())
    return _run_forked(vault, rules, notes, only, workers)


def forking_workers(jobs: int | None) -> int:
    """How many processes may share a run's checks (``jobs``, None: one per core); 1: none.

    Workers are forked from this process, which is safe (and the default) on Linux alone; and
    ``--traceback`` wants a rule's crash to come from this process.
    """
    if not sys.platform.startswith("linux") or RAISE_RULE_ERRORS.get():
        return 1
    return jobs if jobs is not None else (os.cpu_count() or 1)


def _run_all(
    vault: Vault,
    rules: list[Rule],
    notes: list[NoteRecord],
    only: Collection[str] | None,
    bar: progress.Progress | None = None,
) -> list[Finding]:
    findings: list[Finding] = []
    if bar is not None:
        bar.stage("Checking", len(rules))
    for active in rules:
        severity = vault.config.severity.get(active.name, active.severity)
        findings.extend(_run(active, severity, vault, notes, only))
        if bar is not None:
            bar.advance()
    return findings


def _run_forked(
    vault: Vault,
    rules: list[Rule],
    notes: list[NoteRecord],
    only: Collection[str] | None,
    workers: int,
) -> list[Finding]:
    global _forked
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    note_rules = [r for r in rules if r.scope is Scope.NOTE]
    vault_rules = [r for r in rules if r.scope is not Scope.NOTE]
    size = max(100, len(notes) // (workers * 8))
    chunks = [notes[i : i + size] for i in range(0, len(notes), size)]
    # The indexes every worker would otherwise build for itself (and, over notes not read yet,
    # by reading them all in a worker of its own).
    _ = vault.concepts, vault.aliases, vault.variants
    _forked = (vault, note_rules, chunks)
    findings: list[Finding] = []
    bar = progress.current()
    if bar is not None:
        bar.stage("Checking", len(notes))
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers - 1, mp_context=context) as pool:
            futures = [pool.submit(_check_chunk, index) for index in range(len(chunks))]
            # The vault rules here while the pool starts on the note rules' chunks.
            findings.extend(_run_all(vault, vault_rules, [], only))
            for found in share(futures, _check_chunk, [len(chunk) for chunk in chunks], bar):
                findings.extend(found)
    finally:
        _forked = None
    return findings


def _check_chunk(index: int) -> list[Finding]:
    assert _forked is not None, "a rule worker must be forked from run_rules"
    vault, note_rules, chunks = _forked
    return _run_all(vault, note_rules, chunks[index], None)


def finish(vault: Vault, rules: Iterable[Rule], findings: Iterable[Finding]) -> list[Finding]:
    """Findings as reported: those configuration and inline directives silence left out, sorted."""
    families = {r.name: r.family for r in rules}
    kept = [f for f in findings if not _silenced(f, families.get(f.rule, ""), vault)]
    kept.sort()
    return kept


def _silenced(finding: Finding, family: str, vault: Vault) -> bool:
    """Whether config per-path ignores or an inline directive turn this finding off."""
    names = (finding.rule, family)
    if path_ignored(finding.path, names, vault.config.per_path_ignores):
        return True
    if family != "text" and vault.config.is_template(finding.path):
        return True
    note = vault.notes.get(finding.path)
    if note is None or not note.directives:
        return False

    def covers(directive: Directive) -> bool:
        return not directive.rules or any(n in directive.rules for n in names)

    off = False
    for directive in note.directives:
        if not covers(directive):
            continue
        kind, line = directive.kind, directive.line
        if kind == "disable-file":
            return True
        if (kind == "disable-line" and line == finding.line) or (
            kind == "disable-next-line" and line + 1 == finding.line
        ):
            return True
        if line <= finding.line and kind in ("disable", "enable"):
            off = kind == "disable"
    return off


def path_ignored(path: str, names: Iterable[str], table: Mapping[str, Collection[str]]) -> bool:
    """Whether a per-path-ignores table turns off any of ``names`` (rule, family) at ``path``."""
    wanted = tuple(names)
    return any(
        fnmatchcase(path, pattern) and any(n in ignored for n in wanted)
        for pattern, ignored in table.items()
    )


def gathered(vault: Vault, active: Rule) -> dict[str, object]:
    """What a gathering rule takes of every note of the vault, by path; gathered once."""
    assert active.gather is not None, f"rule {active.name} does not gather"
    found = vault.gathered.get(active.name)
    if found is None:
        gather = active.gather
        found = {path: gather(note, vault) for path, note in vault.notes.items()}
        vault.gathered[active.name] = found
    return found


def _vault_hits(active: Rule, vault: Vault) -> Iterable[Hit]:
    if active.gather is not None:
        check_gathered: GatheredCheck = active.check  # type: ignore[assignment]
        return check_gathered(vault, gathered(vault, active))
    check_vault: VaultCheck = active.check  # type: ignore[assignment]
    return check_vault(vault)


def _run(
    active: Rule,
    severity: Severity,
    vault: Vault,
    notes: list[NoteRecord],
    only: Collection[str] | None,
) -> Iterator[Finding]:
    if active.scope is Scope.VAULT:
        try:
            stamped = [_stamp(active, severity, "", hit) for hit in _vault_hits(active, vault)]
        except Exception as exc:
            if RAISE_RULE_ERRORS.get():
                raise
            yield crash(active, "", exc)
            return
        yield from (f for f in stamped if only is None or f.path in only)
        return
    check_note: NoteCheck = active.check  # type: ignore[assignment]
    for note in notes:
        try:
            # Stamped inside the guard: a rule that yields something other than a Hit fails
            # here, as its own finding, not later in the sort of every rule's findings.
            stamped = [_stamp(active, severity, note.path, hit) for hit in check_note(note, vault)]
        except Exception as exc:
            if RAISE_RULE_ERRORS.get():
                raise
            yield crash(active, note.path, exc)
            continue
        yield from stamped


def crash(active: Rule, path: str, exc: Exception) -> Finding:
    """The finding a rule's internal error becomes, pointing at where it was raised."""
    # A bug in one rule must not hide the findings of every other rule: it becomes a finding.
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
    # One line, whatever the exception says: reporters print a finding a line.
    what = " ".join(f"{type(exc).__name__}: {exc}".split())
    message = f"internal error in rule {active.name}: {what}{where}; please report it"
    return Finding.at(path, Span.point(1), active.name, Severity.ERROR, message)


def _stamp(active: Rule, severity: Severity, path: str, hit: Hit) -> Finding:
    if not isinstance(hit, Hit) or not isinstance(hit.span, Span):
        raise TypeError(f"rule {active.name} yielded {type(hit).__name__}, not a Hit with a Span")
    span = hit.span
    if not all(type(n) is int and n >= 1 for n in (span.line, span.column)):
        raise ValueError(f"rule {active.name} yielded a position outside any file: {span}")
    return Finding.at(hit.path or path, span, active.name, severity, hit.message, hit.fix)
