"""The vault as the editor sees it: the notes on disk, with the unsaved text of open ones over them.

The unsaved text of a note stands in for its file (an overlay) and is never written anywhere.
After an edit, the edited note's findings are worked out at once (:meth:`Workspace.update`),
and what the edit may have changed elsewhere is said by an :class:`Update` for the caller to
check next (:meth:`Workspace.check`, :meth:`Workspace.check_vault_rules`): the notes whose
links lead to it when its headings or block ids changed, every note when a property that
rules of other notes read did (aliases, canonical flags, types, link properties), the vault
rules when anything they read changed. The digests that decide it are the lint cache's
(:func:`conceptgraph.lint.incremental.facts`), so the findings after each step are those
``conceptgraph lint`` gives for the same text on disk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from conceptgraph.config import Config, load_config
from conceptgraph.lint.engine import finish, run_rules, selected_rules
from conceptgraph.lint.incremental import facts
from conceptgraph.lint.rule import Rule, Scope
from conceptgraph.lint.run import lint_vault
from conceptgraph.model import Finding, NoteRecord
from conceptgraph.names import fold
from conceptgraph.note.parse import parse_note
from conceptgraph.vault.change import bucket, linking, refile
from conceptgraph.vault.concepts import concept_keys, note_aliases
from conceptgraph.vault.discovery import discover, is_note_path, is_read_path
from conceptgraph.vault.load import Vault
from conceptgraph.vault.read import NotesOnDemand, gc_paused, read_note

# The vault's indexes that follow from what note rules read of every note (frontmatter above
# all): worked out again after such an edit.
_INDEXES = ("aliases_by_note", "variants", "aliases", "concepts", "_note_names")
# The properties note rules read of other notes besides the concept key, the inverse pairs
# and link properties (see _crossing).
_READ_ACROSS = ("aliases", "canonical", "canonical_of", "type", "note_kind")


@dataclass(frozen=True, slots=True)
class FilesChanged:
    """Notes added and removed on disk, and the other notes left to check (vault rules too)."""

    added: list[str]
    removed: list[str]
    dependants: frozenset[str]


@dataclass(frozen=True, slots=True)
class Update:
    """What an edit of one note leaves to check: other notes' note rules, the vault rules."""

    path: str
    dependants: frozenset[str]
    vault_rules: bool


class Workspace:
    """One vault, loaded whole and kept current with the editor's unsaved text."""

    def __init__(self, root: Path, config: Config | None = None, jobs: int | None = None) -> None:
        self.root = root.resolve()
        self.config = config if config is not None else load_config(self.root)
        self.rules: list[Rule] = selected_rules(self.config)
        self.note_rules = [r for r in self.rules if r.scope is Scope.NOTE]
        self.vault_rules = [r for r in self.rules if r.scope is Scope.VAULT]
        self.overlays: dict[str, str] = {}
        self._jobs = jobs
        self.vault, self._note_findings, self._vault_findings = self._load()

    def _load(self) -> tuple[Vault, dict[str, list[Finding]], dict[str, list[Finding]]]:
        # The CLI's own run, its cache included: a warm start reads and checks nothing.
        found, vault = lint_vault(self.root, self.config, None, self._jobs, cache=True)
        names = {r.name for r in self.vault_rules}
        by_note = _by_path(f for f in found if f.rule not in names)
        by_vault = _by_path(f for f in found if f.rule in names)
        for path, text in self.overlays.items():
            if path in vault.notes:
                vault.notes[path] = parse_note(path, text.encode("utf-8"))
        return vault, by_note, by_vault

    def warm(self) -> None:
        """Read every note the lint run did not, and build the indexes edits and requests use.

        Apart from loading, so that the first diagnostics need not wait for it.
        """
        vault = self.vault
        if not isinstance(vault.notes, dict):
            with gc_paused():
                # Completion and references read every note: read those the cache stood for.
                vault.notes = {path: vault.notes[path] for path in list(vault.notes)}
        _ = vault.backlinks, vault.concepts, vault.aliases, vault.variants

    def prefetch(self, paths: Iterable[str]) -> None:
        """Read these notes now, in parallel, not one by one as they are asked for."""
        if isinstance(self.vault.notes, NotesOnDemand):
            self.vault.notes.read_all(paths)

    def with_findings(self) -> set[str]:
        """The notes that have findings."""
        return self._note_findings.keys() | self._vault_findings.keys()

    def reload(self) -> None:
        """Discover and check the vault again: files were added, removed or renamed on disk."""
        self.vault, self._note_findings, self._vault_findings = self._load()
        self.warm()
        if self.overlays:
            self.check(set(self.vault.notes))
            self.check_vault_rules()

    def refile(self) -> FilesChanged | None:
        """Take in the notes added to or removed from the vault on disk, without loading it again.

        The new notes are checked at once; the other notes whose findings the change may alter
        are returned, for the caller to check next, then the vault rules. None when the change
        is not one this follows (the notes not all read yet, a file that cannot be looked at):
        :meth:`reload` then.
        """
        vault = self.vault
        found = discover(self.root, self.config)
        before = set(vault.files)
        if not isinstance(vault.notes, dict) or found.broken or vault.notes.keys() - before:
            return None
        added = sorted(found.files.keys() - before)
        removed = sorted(before - found.files.keys())
        read = {p: read_note(self.root, p, found.files[p]) for p in added if is_read_path(p)}
        gone = [vault.notes[path] for path in removed if path in vault.notes]
        changed = [*gone, *read.values()]
        names = {bucket(path) for path in (*added, *removed)}
        names |= {fold(alias) for note in changed for alias in note_aliases(note)}
        # Their links may lead elsewhere now: their part of the backlinks goes, to come back.
        redirected = linking(vault.notes, names) - set(removed)
        backlinks = vault.backlinks
        for note in [*gone, *(vault.notes[p] for p in redirected)]:
            for _, where in vault.resolved(note):
                if where.path is not None:
                    backlinks.get(where.path, set()).discard(note.path)
        for path in removed:
            backlinks.pop(path, None)
            self.overlays.pop(path, None)
            self._note_findings.pop(path, None)
        refile(vault, found, read)
        for name in _INDEXES:
            vault.__dict__.pop(name, None)
        for path in redirected:
            vault.forget(path)
        for path in [*read, *redirected]:
            note = vault.notes[path]
            for _, where in vault.resolved(note):
                if where.path is not None and where.path != path:
                    backlinks[where.path].add(path)
            self._regather(note)
        for kept in vault.gathered.values():
            for path in removed:
                kept.pop(path, None)
        self.check(read)
        dependants = redirected | self._named_alike(names, changed)
        return FilesChanged(sorted(read), removed, frozenset(dependants - read.keys()))

    def _named_alike(self, names: set[str], changed: list[NoteRecord]) -> set[str]:
        """The notes that read the vault's names, whose findings these notes may change.

        Besides the notes whose links lead elsewhere now, which the caller has.
        """
        vault = self.vault
        if any(lk.frontmatter_key for note in changed for lk in note.links):
            # Its links in properties (canonical_of, inverse pairs) are read by the notes they
            # name and the notes that name those: as for such an edit, every note.
            vault._negations.clear()
            return set(vault.notes)
        keys = {k for note in changed for k in concept_keys(note.path, note_aliases(note))}
        # Files of the same base name (a case collision; how links to them are written), and
        # the notes linking to a variant of one of them (the link is rewritten to name it).
        alike = {path for path in vault.notes if bucket(path) in names}
        for variant in vault.variants:
            if vault.canonical_of(vault.notes[variant])[1] in alike:
                alike |= vault.backlinks.get(variant, set())
        # The names a broken link is told it may have meant are the vault's note names.
        alike |= {
            path
            for path, found in self._note_findings.items()
            if any(f.rule == "broken-link" for f in found)
        }
        # A concept name comes with a file name or alias: the notes that carry it too, or
        # negate it.
        for key in keys:
            alike |= set(vault.concepts.get(key, ()))
        # What the other negations name is as it was (kept: working them out is costly); a
        # linked one's note is among those whose links lead elsewhere now, and forgotten.
        for note in vault.notes.values():
            if "negation" in vault.section_kinds(note) and any(
                named.key in keys for named in vault.negations(note)
            ):
                alike.add(note.path)
                vault._negations.pop(note.path, None)
        return alike

    def path_of(self, file: Path) -> str | None:
        """The vault path of a file on disk, if it is a note of this vault."""
        try:
            relative = file.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None
        disk = {d: p for p, d in self.vault.disk.items()}
        path = disk.get(relative, relative)
        return path if path in self.vault.notes and is_note_path(path) else None

    def findings(self, path: str) -> list[Finding]:
        """The findings in one note, as ``conceptgraph lint`` reports them."""
        found = [*self._note_findings.get(path, ()), *self._vault_findings.get(path, ())]
        found.sort()
        return found

    def text(self, path: str) -> str:
        """A note's text: the unsaved one where the editor has it."""
        return self.overlays.get(path, self.vault.notes[path].text)

    def update(self, path: str, text: str | None) -> Update:
        """Take a note's unsaved text (None: its file's again) and check that note.

        Returns what else the edit may have changed, for :meth:`check` and
        :meth:`check_vault_rules`.
        """
        vault = self.vault
        old = vault.notes[path]
        if text is None:
            self.overlays.pop(path, None)
            new = read_note(self.root, path, vault.disk.get(path))
        else:
            self.overlays[path] = text
            new = parse_note(path, text.encode("utf-8"))
        before, after = facts(old), facts(new)
        # Names, aliases, canonical flags and types come from the frontmatter (and whether it
        # reads): an edit of any other property is this note's alone.
        frontmatter = self._crossing(old) != self._crossing(new)
        self._replace(old, new, frontmatter)
        self.check([path])
        dependants: set[str] = set()
        if before[:16] != after[:16]:
            # Headings and block ids are read through links to them alone.
            dependants = set(vault.notes) if frontmatter else set(vault.backlinks.get(path, ()))
            dependants.discard(path)
        # Vault rules' findings point into notes: positions in the edited one may have moved
        # even where nothing they read changed, and its directives may silence others.
        again = before != after or path in self._vault_findings or old.directives != new.directives
        return Update(path, frozenset(dependants), again)

    def _crossing(self, note: NoteRecord) -> tuple[object, ...]:
        """What note rules of other notes read of this note's frontmatter.

        Values, not positions: a note rule reports in its own note, and the vault rules, which
        do point into others, run again after any change of the frontmatter (``Update``).
        """
        front = note.frontmatter
        if front is None:
            return (note.decoded, None)
        keys = (*_READ_ACROSS, self.config.concept_key, *self.config.inverses)
        keys += tuple(self.config.inverses.values())
        return (
            note.decoded,
            [(key, repr(front.data.get(key))) for key in keys],
            [(lk.frontmatter_key, lk.raw) for lk in note.links if lk.frontmatter_key],
        )

    def _replace(self, old: NoteRecord, new: NoteRecord, indexes: bool) -> None:
        vault, path = self.vault, old.path
        backlinks = vault.__dict__.get("backlinks")
        if backlinks is not None:
            for _, found in vault.resolved(old):
                if found.path is not None:
                    backlinks.get(found.path, set()).discard(path)
        vault.notes[path] = new
        vault.forget(path)
        if indexes:
            for name in _INDEXES:
                vault.__dict__.pop(name, None)
            # What each negation names follows from the concept index just dropped.
            vault._negations.clear()
        if backlinks is not None:
            for _, found in vault.resolved(new):
                if found.path is not None and found.path != path:
                    backlinks[found.path].add(path)
        self._regather(new)

    def _regather(self, note: NoteRecord) -> None:
        """What the vault rules gather of a note, gathered again."""
        vault = self.vault
        for active in self.vault_rules:
            kept = vault.gathered.get(active.name)
            if kept is None or active.gather is None:
                continue
            try:
                kept[note.path] = active.gather(note, vault)
            except Exception:
                # Gathered afresh by the engine, which makes a rule's crash its finding.
                del vault.gathered[active.name]

    def check(self, paths: Iterable[str]) -> None:
        """Run the note rules over these notes again."""
        notes = [self.vault.notes[p] for p in paths if p in self.vault.notes]
        for note in notes:
            self._note_findings.pop(note.path, None)
        raw = run_rules(self.vault, self.note_rules, notes)
        self._note_findings.update(_by_path(finish(self.vault, self.rules, raw)))

    def check_vault_rules(self) -> None:
        """Run the vault rules again."""
        raw = run_rules(self.vault, self.vault_rules, [])
        self._vault_findings = _by_path(finish(self.vault, self.rules, raw))


def _by_path(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        grouped[finding.path].append(finding)
    return dict(grouped)
