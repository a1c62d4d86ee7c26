"""Linting a vault again, reading and checking only what changed since the last run.

A note's findings depend on its own bytes and, through link resolution, aliases, headings and
the like, on what rules can see of every other note: its *facts* (see :func:`facts`) and the
list of files. Those make the vault digests. A note's cached findings are reused when its bytes
and the digest of what note rules read are both the ones they were worked out under; the
findings of vault rules when the digest of everything is, and none of the notes they point
into has changed (their positions would have moved). Anything else is worked
out again, so the findings are always those of a run without the cache (a test holds it to
that on every fixture vault and through a series of edits). A first run in a vault, which
reads every note, reads and checks them in workers that keep them (:mod:`.shards`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import marshal
import os
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from conceptgraph.config import Config
from conceptgraph.lint import parallel
from conceptgraph.lint.cache import Entry, Gathered, LintCache, Row, Stamp, cache_folder, run_key
from conceptgraph.lint.engine import finish, run_rules, selected_rules
from conceptgraph.lint.rule import Rule, Scope
from conceptgraph.model import Finding, NoteRecord
from conceptgraph.note.markdown.engine import parser_in_use
from conceptgraph.vault.discovery import Discovery, discover
from conceptgraph.vault.load import Vault
from conceptgraph.vault.read import NotesOnDemand, gc_paused, read_notes


@dataclass(frozen=True, slots=True)
class CachedLint:
    """The findings of one vault, and how much of the work the cache saved."""

    findings: list[Finding]
    vault: Vault
    read: int  # notes read and parsed in this run
    checked: int  # notes whose note rules ran in this run
    vault_rules: bool  # whether the vault rules ran


@dataclass(frozen=True, slots=True)
class VaultFindings:
    """What the vault rules reported, the vault digest it holds for, and the notes it is in."""

    context: bytes
    notes: frozenset[str]
    findings: list[Finding]


def facts(note: NoteRecord) -> bytes:
    """Digests of what rules can see of this note when they look at other notes (32 bytes).

    The first 16 bytes cover what note rules read of other notes: the frontmatter (aliases,
    type, canonical and canonical_of), the headings and block ids that links point at, and
    whether the file could be decoded. The last 16 cover everything vault rules read too: also
    sections, links and list items. Neither covers the text or the positions of body parts,
    so editing prose, or moving a paragraph, leaves both as they were; a link added to the
    body changes only the second. The frontmatter is taken whole, positions included: rules
    that compare notes point into it.
    """
    seen = (
        note.decoded,
        repr(note.frontmatter),
        [(h.level, h.text) for h in note.headings],
        [b.id for b in note.block_ids],
    )
    body = (
        [(s.title, s.level, s.parent) for s in note.sections],
        [
            (lk.target, lk.subpath, lk.display, lk.embed, lk.kind.value, lk.section, lk.raw)
            for lk in note.links
        ],
        [lk.frontmatter_key for lk in note.links],
        [(i.text, i.section, i.depth) for i in note.list_items],
    )
    # marshal, format 2, writes plain values three times faster than repr, and has no
    # back-references (the later formats' refer to objects met twice): equal values, equal bytes.
    first = hashlib.blake2b(marshal.dumps(seen, 2), digest_size=16).digest()
    return first + hashlib.blake2b(marshal.dumps(body, 2), digest_size=16).digest()


def outline(note: NoteRecord) -> NoteRecord:
    """What the vault rules read of a note: its record without text, list items, block ids.

    A third of the size of the record, without problems either, and quicker to load than to
    parse the note again.
    """
    return dataclasses.replace(note, text="", list_items=(), block_ids=(), problems=())


def _seen_by_note_rules(facts: bytes) -> bytes:
    return facts[:16]


def _digests(found: Discovery, facts_of: dict[str, bytes]) -> tuple[bytes, bytes, bytes]:
    """The vault digests: of what note rules read, of everything, and of the list of files.

    Note rules read less of other notes than vault rules do: a link added to one note's body
    leaves every other note's findings standing, and only the vault rules run again. What
    gathering rules take of a note follows from its bytes and the list of files alone.
    """
    files = hashlib.blake2b(
        repr((tuple(found.files), found.shadowed)).encode(), digest_size=16
    ).digest()
    seen: list[bytes] = [files]
    whole: list[bytes] = [files]
    for path in sorted(facts_of):
        name, facts = path.encode() + b"\0", facts_of[path]
        seen += (name, _seen_by_note_rules(facts))
        whole += (name, facts)
    # The list of files hashed once, the rest in one go: an update a note cost more than the
    # hashing (10,000 notes on every run).
    return (
        hashlib.blake2b(b"".join(seen), digest_size=16).digest(),
        hashlib.blake2b(b"".join(whole), digest_size=16).digest(),
        files,
    )


def lint_cached(
    root: Path,
    config: Config,
    jobs: int | None = None,
    folder: Path | None = None,
    *,
    rules: Sequence[Rule] | None = None,
    found: Discovery | None = None,
) -> CachedLint:
    """Lint the vault at ``root`` (resolved), with its cache in ``folder`` (or where it belongs).

    The findings are those of ``lint(load_vault(root, config))``. ``rules`` and ``found`` are
    the configuration's rules and the vault's discovery, where the caller has them already.
    """
    rules = list(rules) if rules is not None else selected_rules(config)
    functions = [f for r in rules for f in (r.check, r.gather) if f is not None]
    key = run_key(config, parser_in_use(), functions)
    cache = LintCache.open(folder or cache_folder(root), key)
    try:
        # The records live as long as the run, and rules make no reference cycles: the cyclic
        # collector would only walk them again and again.
        with gc_paused():
            return _lint(root, config, jobs, cache, rules, found)
    finally:
        cache.close()


@dataclass(frozen=True, slots=True)
class _Changes:
    """What a run finds on disk against the cache's rows (from which it removes the stale)."""

    stamps: dict[str, Stamp]  # every note that could be stat'ed
    parsed: dict[str, NoteRecord]  # every note read in this run
    fresh: dict[str, NoteRecord]  # those of them whose bytes are new to the cache
    touched: list[tuple[str, Stamp]]  # read again, same bytes: only their stamp moved
    kept: set[str]  # notes whose cached row stands


def _stamps(root: Path, found: Discovery) -> dict[str, Stamp]:
    """Every note's stamp; a note that cannot be stat'ed has none, and is read and reported."""
    stamps: dict[str, Stamp] = {}
    prefix = f"{root}{os.sep}"  # a Path per file would cost more than the stat itself
    for path, disk in found.notes:
        with contextlib.suppress(OSError):
            stamps[path] = Stamp.of(os.stat(prefix + disk))
    return stamps


def _changes(root: Path, found: Discovery, rows: dict[str, Row], jobs: int | None) -> _Changes:
    stamps = _stamps(root, found)
    unsure: list[tuple[str, str]] = []
    for path, disk in found.notes:
        row = rows.get(path)
        if row is None or path not in stamps or not row.vouches_for(stamps[path]):
            unsure.append((path, disk))

    parsed = {record.path: record for record in read_notes(root, unsure, jobs)}
    fresh = dict(parsed)
    touched: list[tuple[str, Stamp]] = []
    for path, record in list(fresh.items()):
        row = rows.get(path)
        if row is not None and record.digest and record.digest == row.digest:
            # Touched, or checked out again, but the same bytes: the cached row still holds.
            touched.append((path, stamps[path]))
            del fresh[path]
        elif row is not None:
            del rows[path]
    for record in found.broken:
        # A note read before that now cannot be stat'ed (a link its target was deleted
        # under) has a row that no longer vouches for it: the broken record stands instead.
        if record.path in rows and record.path not in stamps:
            del rows[record.path]
        if record.path not in fresh and record.path not in rows:
            fresh[record.path] = parsed[record.path] = record
    kept = {path for path in rows if path in stamps and path not in fresh}
    return _Changes(stamps, parsed, fresh, touched, kept)


def _still_holds(before: object, whole: bytes, fresh: Mapping[str, NoteRecord]) -> bool:
    """Whether the vault rules' findings of the run before are this vault's too.

    They are stored as reported, with the notes the raw findings point into: silencing them
    depends on those notes' directives, unchanged as long as none of them was edited.
    """
    return (
        isinstance(before, VaultFindings)
        and before.context == whole
        and before.notes.isdisjoint(fresh)
    )


def _vault_findings(
    vault: Vault,
    notes: NotesOnDemand,
    cache: LintCache,
    rows: dict[str, Row],
    whole: bytes,
    rules: list[Rule],
    vault_rules: list[Rule],
    kept_gatherings: Mapping[str, tuple[bytes, dict[str, object]]] | None,
) -> tuple[VaultFindings, set[str] | None]:
    """The vault rules' findings worked out again, and the notes gathered anew (None: all).

    From what the rules gathered of each note, kept from earlier runs where the note is
    unchanged, if every vault rule gathers; otherwise over the notes read and the others'
    outlines.
    """
    anew = None
    if kept_gatherings is not None and all(r.gather is not None for r in vault_rules):
        anew = _regather(vault, notes, rows, vault_rules, kept_gatherings)
    if anew is not None:
        raw = run_rules(vault, vault_rules, [])
        # Silencing a finding reads its note's directives: outlines hold them.
        pointed = {f.path for f in raw} & notes.unread()
        with notes.outlined(_outlines(cache, rows, pointed)):
            return _as_vault_findings(vault, rules, raw, whole), anew
    # Rules of the package's own read nothing an outline lacks; another's might.
    own = all(r.check.__module__.startswith("conceptgraph.") for r in vault_rules)
    unread = notes.unread()
    outlines = _outlines(cache, rows, unread) if own else {}
    # The vault rules read every note: those without an outline all at once, in parallel,
    # rather than one by one as a rule asks for them.
    notes.read_all(unread - outlines.keys())
    with notes.outlined(outlines):
        raw = run_rules(vault, vault_rules, [])
        found = _as_vault_findings(vault, rules, raw, whole)
    for path in outlines:
        vault.forget(path)
    return found, None


def _outlines(cache: LintCache, rows: Mapping[str, Row], paths: set[str]) -> dict[str, NoteRecord]:
    return cache.outlines({p: rows[p].digest for p in paths}) if paths else {}


def _regather(
    vault: Vault,
    notes: NotesOnDemand,
    rows: Mapping[str, Row],
    vault_rules: list[Rule],
    kept: Mapping[str, tuple[bytes, dict[str, object]]],
) -> set[str] | None:
    """Fill ``vault.gathered``: kept gatherings of unchanged notes, the rest gathered anew.

    Returns the notes gathered anew; None, with nothing filled, when a rule's gathering fails.
    """
    names = {r.name for r in vault_rules}
    stale = []
    for path in notes.unread():
        found = kept.get(path)
        if found is None or found[0] != rows[path].digest or not names <= found[1].keys():
            stale.append(path)
    notes.read_all(stale)
    unread = notes.unread()
    try:
        for active in vault_rules:
            gather, name = active.gather, active.name
            assert gather is not None
            vault.gathered[name] = {
                path: kept[path][1][name] if path in unread else gather(notes[path], vault)
                for path in notes.paths()
            }
    except Exception:
        # A rule's bug: the engine, gathering afresh, reports it as that rule's finding.
        vault.gathered.clear()
        return None
    return {path for path in notes.paths() if path not in unread}


def _gathered(
    vault: Vault,
    digests: Mapping[str, bytes],
    files_key: bytes,
    kept: Mapping[str, tuple[bytes, dict[str, object]]] | None,
    anew: Collection[str] | None = None,
) -> Gathered:
    """What this run gathered that the cache lacks, each note's with the hash of its bytes.

    ``anew``, if given, are the only notes not gathered from what the cache kept.
    """
    by_path: dict[str, dict[str, object]] = {}
    for name, gathered in vault.gathered.items():
        for path in gathered if anew is None else anew:
            by_path.setdefault(path, {})[name] = gathered[path]
    new: list[tuple[str, bytes, dict[str, object]]] = []
    for path, by_rule in by_path.items():
        digest = digests[path]
        # An unreadable note has no hash, and is read again next time anyway.
        if digest and (kept is None or kept.get(path) != (digest, by_rule)):
            new.append((path, digest, by_rule))
    return Gathered(files_key, new, restart=kept is None)


def _as_vault_findings(
    vault: Vault, rules: list[Rule], raw: list[Finding], whole: bytes
) -> VaultFindings:
    return VaultFindings(whole, frozenset(f.path for f in raw), finish(vault, rules, raw))


def _reported(
    vault: Vault,
    rules: list[Rule],
    raw: list[Finding],
    kept: Mapping[str, list[Finding]],
    from_vault: VaultFindings,
) -> tuple[dict[str, list[Finding]], list[Finding]]:
    """The note rules' findings by note (``kept`` ones and those of ``raw``), and every one.

    Every finding of the run, sorted, is those and the vault rules'.
    """
    by_note = dict(kept)
    for finding in finish(vault, rules, raw):
        by_note.setdefault(finding.path, []).append(finding)
    findings = [f for path_findings in by_note.values() for f in path_findings]
    findings.extend(from_vault.findings)
    findings.sort()
    return by_note, findings


def _lint(
    root: Path,
    config: Config,
    jobs: int | None,
    cache: LintCache,
    rules: list[Rule],
    found: Discovery | None,
) -> CachedLint:
    started = time.time_ns()  # the wall clock, as files' mtimes are
    if found is None:
        found = discover(root, config)
    rows = cache.rows()
    # A first run in this vault reads every note: workers that keep them check them too. (Not
    # a first run after an upgrade, which writes the outlines of every note as well.)
    if not rows and not cache.used_before:
        linted = parallel.lint_in_workers(root, config, found, rules, jobs, facts)
        if linted is not None:
            return _cached_from_workers(linted, config, cache, rules, found, started)
    known = set(rows)
    changes = _changes(root, found, rows, jobs)
    stamps, parsed, fresh, touched = changes.stamps, changes.parsed, changes.fresh, changes.touched
    kept = changes.kept

    facts_of = {path: rows[path].facts for path in kept}
    facts_of.update((path, facts(record)) for path, record in fresh.items())
    context, whole, files_key = _digests(found, facts_of)

    notes = NotesOnDemand(parsed, {path: found.files[path] for path in kept}, root, jobs)
    vault = Vault.found(root, config, found, notes)
    note_rules = [r for r in rules if r.scope is Scope.NOTE]
    vault_rules = [r for r in rules if r.scope is Scope.VAULT]

    # Findings stand where the note and the vault digest are both those they were found under.
    current: dict[str, list[Finding]] = {}
    for path in kept:
        if rows[path].context == context:
            stored = rows[path].findings()
            if stored is not None:
                current[path] = stored
    checking = sorted(fresh.keys() | (kept - current.keys()))
    indexes = cache.get("indexes") if checking else None
    injected = False
    if isinstance(indexes, tuple) and len(indexes) == 4 and indexes[0] == context:
        # Names, aliases and canonical flags of every note are facts: the same digest, the
        # same indexes. Without them the first rule to ask would read every note.
        _, vault.__dict__["concepts"], vault.__dict__["aliases"], vault.__dict__["variants"] = (
            indexes
        )
        injected = True
    notes.read_all(checking)
    before = cache.get("vault-findings")
    again = not _still_holds(before, whole, fresh)
    # With every note read (a first run, say), the vault rules run beside the note rules: in
    # this process while workers take the note rules.
    together = again and not notes.unread()
    running = note_rules + vault_rules if together else note_rules
    kept_gatherings = None
    anew: set[str] | None = None
    raw = run_rules(vault, running, [notes[path] for path in checking], jobs=jobs)
    if together:
        names = {r.name for r in vault_rules}
        from_vault = _as_vault_findings(vault, rules, [f for f in raw if f.rule in names], whole)
        raw = [f for f in raw if f.rule not in names]
    elif again:
        kept_gatherings = cache.gatherings(files_key) or None
        from_vault, anew = _vault_findings(
            vault, notes, cache, rows, whole, rules, vault_rules, kept_gatherings
        )
    else:
        assert isinstance(before, VaultFindings)
        from_vault = before
    by_note, findings = _reported(vault, rules, raw, current, from_vault)

    moved = dict(touched)
    entries = [
        Entry(
            path,
            stamps[path],
            started if path in fresh or path in moved else rows[path].checked_ns,
            fresh[path].digest if path in fresh else rows[path].digest,
            facts_of[path],
            context,
            by_note.get(path, []),
        )
        for path in sorted(fresh.keys() | (kept - current.keys()) | moved.keys())
        # A note discovery could not read has no stamp, and one unreadable now no digest:
        # neither is cached, so both are looked at again next time.
        if path in stamps and (path not in fresh or fresh[path].digest)
    ]
    gone = [path for path in known if path not in stamps]
    blobs: dict[str, object] = {}
    if from_vault is not before:
        blobs["vault-findings"] = from_vault
    gathered = None
    if vault.gathered:
        wanted = rows.keys() if anew is None else anew
        digests = {path: rows[path].digest for path in wanted if path in rows}
        digests.update((note.path, note.digest) for note in notes.parsed())
        gathered = _gathered(vault, digests, files_key, kept_gatherings, anew)
    if not injected and (not current or "concepts" in vault.__dict__):
        blobs["indexes"] = (context, vault.concepts, vault.aliases, vault.variants)
    # Outlines of the notes read whole in this run, unless the cache has them already. Not on
    # the first run in a vault, which may be the only one (CI, a fresh clone): it would only
    # pay. The first after an upgrade or a change of configuration does write them.
    read_whole = (
        [n for n in notes.parsed() if n.digest and n.path in stamps] if cache.used_before else []
    )
    have = cache.outline_digests({n.path for n in read_whole}) if read_whole else {}
    new_outlines = [outline(n) for n in read_whole if have.get(n.path) != n.digest]
    if entries or gone or blobs or new_outlines or (gathered and gathered.rows):
        cache.write(entries, gone, blobs, new_outlines, gathered)
    return CachedLint(findings, vault, notes.read, len(checking), from_vault is not before)


def _cached_from_workers(
    linted: parallel.Linted,
    config: Config,
    cache: LintCache,
    rules: list[Rule],
    found: Discovery,
    started: int,
) -> CachedLint:
    """``_lint`` of a vault none of whose notes the cache knows, checked in keeping workers."""
    read, vault = linted.read, linted.vault
    # Each stat'ed as it was read, in the workers: not all of them here before they start.
    stamps = read.stamps
    context, whole, files_key = _digests(found, read.facts)
    from_vault = _as_vault_findings(vault, rules, linted.vault_findings, whole)
    by_note, findings = _reported(vault, rules, linted.note_findings, {}, from_vault)

    digests = read.digests
    entries = [
        Entry(
            path,
            stamps[path],
            started,
            digests[path],
            read.facts[path],
            context,
            by_note.get(path, []),
        )
        for path in digests
        if path in stamps and digests[path]  # as in _lint: neither is cached
    ]
    blobs: dict[str, object] = {
        "vault-findings": from_vault,
        "indexes": (context, vault.concepts, vault.aliases, vault.variants),
    }
    gathered = _gathered(vault, digests, files_key, None) if vault.gathered else None
    # Every note's row: the run need not wait for them to be written.
    cache.write_apart(entries, [], blobs, [], gathered)
    return CachedLint(findings, linted.later, len(digests), len(digests), True)
