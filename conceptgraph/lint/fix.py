"""Safe fixes: a lint result -> notes rewritten where a rule knows the repair.

A fix is a tuple of edits, each a span of a note's lines (1-based, end exclusive, columns in
code points, line ends counted as in the file) and the text to put there. Fixing a note turns
every span into offsets of the text that was linted, applies the safe fixes that do not overlap
an earlier one (the next pass, or the next run, picks the others up), and writes the result
atomically. Only the bytes inside the edits change: the text is re-encoded as UTF-8, which is
what it was decoded from, and a UTF-8 byte order mark is written back when the file had one.

Before writing, the file is read again; if its text is no longer what was linted, it is left
alone and reported, so an editor's save between lint and fix is never clobbered. The check and
the swap are guarded (``conceptgraph.guard``): a save that lands between them is put back and
the note reported as not fixed.
"""

from __future__ import annotations

import bisect
import codecs
import difflib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from conceptgraph.api import LintResult, lint_paths
from conceptgraph.guard import CHANGED, Guard
from conceptgraph.model import LINE_BREAK, Finding, Fix, NoteRecord, ProblemKind
from conceptgraph.note.decode import decode
from conceptgraph.vault.load import Vault
from conceptgraph.vault.read import read_bytes

if TYPE_CHECKING:
    from conceptgraph.settings import Overrides

# Text read with replacement characters, or not read at all, would be written back damaged.
_UNFIXABLE = frozenset(
    {ProblemKind.ENCODING, ProblemKind.BINARY, ProblemKind.UNREADABLE, ProblemKind.OUTSIDE}
)
# A fix that makes another fix possible needs another pass; rules that keep undoing each
# other must not loop forever.
MAX_PASSES = 10
# Diffs split lines on LF only, as git does, so a CR stays visible inside its line.
_DIFF_LINE = re.compile(r"[^\n]*\n|[^\n]+$")


@dataclass(frozen=True, slots=True)
class FileFix:
    """What fixing one note changes: its text before and after, and the findings fixed."""

    root: Path
    path: str
    disk: Path
    before: str
    after: str
    rules: Mapping[str, int]
    deferred: int = 0

    @property
    def fixed(self) -> int:
        """How many findings the change repairs."""
        return sum(self.rules.values())


@dataclass(frozen=True, slots=True)
class Skip:
    """A note whose safe fixes were not applied, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: not fixed: {self.reason}"


@dataclass(frozen=True, slots=True)
class FixReport:
    """The notes a fix run changes (or would change) and the ones it had to leave alone."""

    files: tuple[FileFix, ...] = ()
    skipped: tuple[Skip, ...] = ()

    @property
    def fixed(self) -> int:
        """How many findings were repaired, over every file."""
        return sum(change.fixed for change in self.files)

    @property
    def rules(self) -> Counter[str]:
        """How many findings were repaired, by rule."""
        counts: Counter[str] = Counter()
        for change in self.files:
            counts.update(change.rules)
        return counts

    @property
    def deferred(self) -> int:
        """Fixes held back because they overlap an earlier fix in the same file."""
        return sum(change.deferred for change in self.files)

    def describe(self, verb: str = "Fixed") -> str:
        """One line for people: ``Fixed 3 findings in 2 files.``."""
        found, files = self.fixed, len(self.files)
        return (
            f"{verb} {found} finding{'s' if found != 1 else ''}"
            f" in {files} file{'s' if files != 1 else ''}."
        )


@dataclass(slots=True)
class _Planned:
    edits: list[tuple[int, int, str]] = field(default_factory=list)
    rules: Counter[str] = field(default_factory=Counter)
    deferred: int = 0


def plan_fixes(result: LintResult) -> FixReport:
    """What applying every safe fix in ``result`` would change. Nothing is written."""
    files: list[FileFix] = []
    skipped: list[Skip] = []
    for vault, path, findings in _group(result, skipped):
        note = vault.notes[path]
        planned = _plan_note(vault, note, findings, skipped)
        if planned is not None:
            files.append(planned)
    return FixReport(tuple(files), tuple(skipped))


def apply_fixes(result: LintResult) -> FixReport:
    """Apply every safe fix in ``result``, each note written atomically with its mode kept.

    A note whose text on disk is no longer the text that was linted is skipped, not written.
    """
    plan = plan_fixes(result)
    written: list[FileFix] = []
    skipped = list(plan.skipped)
    with Guard() as guard:
        for change in plan.files:
            reason = write_change(change, guard)
            if reason is None:
                written.append(change)
            else:
                skipped.append(Skip(change.path, reason))
    # Found once the batch is written: another program wrote the note while it was replaced.
    for change in list(written):
        reason = guard.refused.get(change.disk)
        if reason is not None:
            written.remove(change)
            skipped.append(Skip(change.path, reason))
    return FixReport(tuple(written), tuple(skipped))


def fix_paths(
    paths: Sequence[Path], jobs: int | None = None, overrides: Overrides | None = None
) -> tuple[FixReport, LintResult]:
    """Lint, apply the safe fixes, and lint again until no pass changes anything.

    Returns every change made (per note: the text first linted, the text last written, and the
    findings fixed over all passes) and the lint result of what is left.
    """
    result = lint_paths(paths, jobs, overrides=overrides)
    changes: dict[tuple[Path, str], FileFix] = {}
    skipped: dict[tuple[str, str], Skip] = {}
    for _ in range(MAX_PASSES):
        report = apply_fixes(result)
        for skip in report.skipped:
            skipped.setdefault((skip.path, skip.reason), skip)
        for change in report.files:
            key = (change.root, change.path)
            earlier = changes.get(key)
            if earlier is not None:
                rules = Counter(earlier.rules)
                rules.update(change.rules)
                change = FileFix(
                    change.root, change.path, change.disk, earlier.before, change.after, rules
                )
            changes[key] = change
        if not report.files:
            break
        result = lint_paths(paths, jobs, overrides=overrides)
    return FixReport(tuple(changes.values()), tuple(skipped.values())), result


def unified_diff(report: FixReport) -> str:
    """The changes as a unified diff, paths relative to the vault under ``a/`` and ``b/``.

    ``git apply`` and ``patch -p1`` run in the vault apply it.
    """
    out: list[str] = []
    for change in report.files:
        before = _DIFF_LINE.findall(change.before)
        after = _DIFF_LINE.findall(change.after)
        for line in difflib.unified_diff(before, after, f"a/{change.path}", f"b/{change.path}"):
            out.append(line)
            if not line.endswith("\n"):
                out.append("\n\\ No newline at end of file\n")
    return "".join(out)


def _group(result: LintResult, skipped: list[Skip]) -> Iterable[tuple[Vault, str, list[Finding]]]:
    """The findings with a safe fix, by the vault and note they are about."""
    by_root = {vault.root: index for index, vault in enumerate(result.vaults)}
    known_roots = len(result.roots) == len(result.findings)
    grouped: dict[tuple[int, str], list[Finding]] = {}
    for number, finding in enumerate(result.findings):
        if finding.fix is None or not finding.fix.safe or not finding.fix.edits:
            continue
        if known_roots:
            owners = [by_root[result.roots[number]]]
        else:
            # A result that does not say which vault each finding is from: a path that
            # several vaults hold cannot be told apart, so it is not guessed.
            owners = [i for i, vault in enumerate(result.vaults) if finding.path in vault.notes]
        if len(owners) > 1:
            reason = "several vaults hold this path and the result does not say which one"
            if Skip(finding.path, reason) not in skipped:
                skipped.append(Skip(finding.path, reason))
            continue
        if not owners or finding.path not in result.vaults[owners[0]].notes:
            continue
        grouped.setdefault((owners[0], finding.path), []).append(finding)
    for (index, path), findings in grouped.items():
        yield result.vaults[index], path, findings


def _plan_note(
    vault: Vault, note: NoteRecord, findings: list[Finding], skipped: list[Skip]
) -> FileFix | None:
    if not note.decoded or any(p.kind in _UNFIXABLE for p in note.problems):
        skipped.append(Skip(note.path, "the file is not clean UTF-8 text; fix its encoding first"))
        return None
    starts, ends = _line_offsets(note.text)
    planned = _Planned()
    for finding in sorted(findings):
        assert finding.fix is not None  # _group keeps only findings with a fix
        edits = _offsets(finding.fix, starts, ends)
        if edits is None:
            reason = f"{finding.rule} at {finding.line}:{finding.column}: fix outside the text"
            skipped.append(Skip(note.path, reason))
            continue
        new = _accept(planned.edits, edits)
        if new is None:
            planned.deferred += 1
            continue
        for edit in new:
            bisect.insort(planned.edits, edit)
        planned.rules[finding.rule] += 1
    after = _apply(note.text, planned.edits)
    if after == note.text:
        return None
    return FileFix(
        root=vault.root,
        path=note.path,
        disk=vault.disk_path(note.path),
        before=note.text,
        after=after,
        rules=dict(planned.rules),
        deferred=planned.deferred,
    )


def _line_offsets(text: str) -> tuple[list[int], list[int]]:
    """Where each line starts, and where its text ends (before its line end), as offsets."""
    starts = [0]
    ends: list[int] = []
    for match in LINE_BREAK.finditer(text):
        ends.append(match.start())
        starts.append(match.end())
    ends.append(len(text))
    return starts, ends


def _offsets(fix: Fix, starts: list[int], ends: list[int]) -> list[tuple[int, int, str]] | None:
    """The fix's edits as (start, end, replacement) offsets; None if a span is not in the text.

    A column may be one past a line's last character: the position of its line end, so that
    an edit can replace a line end, from ``(n, len + 1)`` to ``(n + 1, 1)``.
    """
    edits = []
    for edit in fix.edits:
        span = edit.span
        start = _offset(span.line, span.column, starts, ends)
        end = _offset(span.end_line, span.end_column, starts, ends)
        if start is None or end is None or end < start:
            return None
        edits.append((start, end, edit.replacement))
    return edits


def _offset(line: int, column: int, starts: list[int], ends: list[int]) -> int | None:
    if not 1 <= line <= len(starts) or column < 1:
        return None
    offset = starts[line - 1] + column - 1
    return offset if offset <= ends[line - 1] else None


def _accept(
    accepted: list[tuple[int, int, str]], edits: list[tuple[int, int, str]]
) -> list[tuple[int, int, str]] | None:
    """The edits of one fix not already accepted, or None if any overlaps another edit.

    ``accepted`` is sorted and free of overlaps. A fix is one repair: it is applied whole or
    deferred whole. An edit identical to an accepted one (two rules proposing the same repair)
    is already done. Two edits starting at the same offset conflict even when one is empty:
    which text comes first would be a guess.
    """
    new: list[tuple[int, int, str]] = []
    for edit in sorted(set(edits)):
        start, end, _ = edit
        index = bisect.bisect_left(accepted, edit)
        if index < len(accepted) and accepted[index] == edit:
            continue
        before = accepted[index - 1] if index > 0 else None
        after = accepted[index] if index < len(accepted) else None
        if new:
            before = max(before, new[-1]) if before is not None else new[-1]
        if before is not None and (before[0] == start or start < before[1]):
            return None
        if after is not None and (after[0] == start or after[0] < end):
            return None
        new.append(edit)
    return new


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    """``text`` with sorted, non-overlapping edits applied."""
    parts: list[str] = []
    position = 0
    for start, end, replacement in edits:
        parts.append(text[position:start])
        parts.append(replacement)
        position = end
    parts.append(text[position:])
    return "".join(parts)


def write_change(change: FileFix, guard: Guard) -> str | None:
    """Write one change if the file still holds the text that was linted; else say why not.

    Also what ``conceptgraph.edit`` writes its link rewrites through.
    """
    try:
        # Not Path.read_bytes: a FIFO put in the note's place since the lint would block it.
        data = read_bytes(change.disk)
    except OSError as exc:
        return f"cannot read it again: {exc.strerror or exc}"
    text, problems = decode(data)
    if text != change.before or problems:
        return CHANGED
    bom = codecs.BOM_UTF8 if data.startswith(codecs.BOM_UTF8) else b""
    try:
        # The read above only spares a temp file; the guard checks these bytes again, locked,
        # at the moment of the swap.
        return guard.replace(
            change.disk, data, bom + change.after.encode("utf-8"), inside=change.root
        )
    except OSError as exc:
        return f"cannot write it: {exc.strerror or exc}"
