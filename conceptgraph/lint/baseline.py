"""A baseline: the findings a vault had when it adopted the linter, so that only new ones fail.

``lint --write-baseline FILE`` records each finding by a fingerprint that survives lines
moving: its path (relative to the baseline file's folder, so the file works from any working
folder), its rule, and its message with any line or column number taken out. The message is
the finding's own text (the link target, the key, the section), so an edit elsewhere in the
note does not turn an old finding into a new one. Identical findings in one note are counted:
a third copy of a broken link that was there twice is new.

``lint --baseline FILE`` reports the findings the baseline does not account for, and counts
what it suppressed and which entries no longer match anything (stale: the finding was
fixed). Only entries the run could have found count as stale: an entry for a note or rule the
run did not lint is left alone, and ``--write-baseline`` keeps it when it rewrites the file.

The file is JSON, one entry a line, sorted: stable from run to run and small in a diff.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from conceptgraph.api import LintResult
from conceptgraph.atomic import write_atomic
from conceptgraph.errors import UsageError
from conceptgraph.model import Finding

FORMAT = "conceptgraph-baseline"
VERSION = 1

# "repeats the section on line 12", a YAML error's "line 3, column 5": where, not what.
_POSITION = re.compile(r"\b(lines?|columns?|col)\s+\d+(?:\s*[-,]\s*\d+)?", re.IGNORECASE)


class Entry(NamedTuple):
    """A finding's fingerprint: path (from the baseline's folder), rule and position-free text."""

    path: str
    rule: str
    message: str


@dataclass(frozen=True, slots=True)
class Applied:
    """A run's findings with a baseline laid over them."""

    findings: list[Finding]  # the new ones
    roots: list[Path]  # the vault root of each, index for index
    suppressed: int  # findings the baseline accounts for
    stale: int  # baseline entries (counted with their multiplicity) that matched nothing


@dataclass(frozen=True, slots=True)
class Written:
    """What ``write_baseline`` recorded."""

    findings: int  # findings recorded, each copy counted
    entries: int  # lines in the file
    pruned: int  # stale entries (with their multiplicity) dropped
    kept: int  # entries outside the run's reach, kept as they were


def fingerprint(finding: Finding, root: Path, base: Path) -> Entry:
    """The baseline entry of a finding of the vault at ``root``, for a file in folder ``base``."""
    path = os.path.relpath(root / finding.path, base) if finding.path else ""
    message = _POSITION.sub(lambda m: f"{m.group(1)} N", finding.message)
    return Entry(Path(path).as_posix() if path else "", finding.rule, message)


def read_baseline(path: Path) -> Counter[Entry]:
    """The entries of a baseline file, each with its count."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such baseline (write one with --write-baseline)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the baseline: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}: not a baseline: {exc.msg}") from None
    if not isinstance(data, dict) or data.get(FORMAT) != VERSION:
        raise UsageError(f'{path}: not a baseline: no "{FORMAT}": {VERSION}')
    entries: Counter[Entry] = Counter()
    raw = data.get("findings")
    if not isinstance(raw, list):
        raise UsageError(f'{path}: not a baseline: "findings" must be a list')
    for index, item in enumerate(raw, 1):
        if not (
            isinstance(item, dict)
            and all(isinstance(item.get(key), str) for key in Entry._fields)
            and type(item.get("count", 1)) is int
            and item.get("count", 1) >= 1
        ):
            raise UsageError(
                f"{path}: baseline entry {index} needs path, rule and message (strings) "
                "and a count of 1 or more"
            )
        entries[Entry(item["path"], item["rule"], item["message"])] += item.get("count", 1)
    return entries


def apply_baseline(result: LintResult, path: Path) -> Applied:
    """The findings of ``result`` the baseline at ``path`` does not account for."""
    base = path.resolve().parent
    left = read_baseline(path)
    findings: list[Finding] = []
    roots: list[Path] = []
    suppressed = 0
    for finding, root in zip(result.findings, result.roots, strict=True):
        entry = fingerprint(finding, root, base)
        if left[entry] > 0:
            left[entry] -= 1
            suppressed += 1
        else:
            findings.append(finding)
            roots.append(root)
    reach = _Reach(result, base)
    stale = sum(count for entry, count in left.items() if count > 0 and reach.covers(entry))
    return Applied(findings, roots, suppressed, stale)


def write_baseline(result: LintResult, path: Path) -> Written:
    """Record the findings of ``result`` at ``path``, atomically.

    Entries of an existing baseline that the run could not have found (another note, a rule
    not selected) are kept; those it could have found and did not are pruned.
    """
    base = path.resolve().parent
    current = Counter(
        fingerprint(finding, root, base)
        for finding, root in zip(result.findings, result.roots, strict=True)
    )
    old: Counter[Entry] = read_baseline(path) if path.exists() else Counter()
    reach = _Reach(result, base)
    kept = Counter({entry: n for entry, n in old.items() if not reach.covers(entry)})
    pruned = sum(max(n - current[entry], 0) for entry, n in old.items() if reach.covers(entry))
    entries = current + kept
    try:
        write_atomic(path, dump(entries).encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return Written(current.total(), len(entries), pruned, len(kept))


def dump(entries: Mapping[Entry, int]) -> str:
    """A baseline file's text: sorted, one entry a line, the same bytes for the same entries."""
    lines = [
        json.dumps(
            {"path": e.path, "rule": e.rule, "message": e.message, "count": entries[e]},
            ensure_ascii=False,
        )
        for e in sorted(entries)
    ]
    body = ",\n    ".join(lines)
    findings = f"[\n    {body}\n  ]" if lines else "[]"
    return f'{{\n  "{FORMAT}": {VERSION},\n  "findings": {findings}\n}}\n'


class _Reach:
    """Which entries a run could have found: a note it linted, a rule it ran there."""

    def __init__(self, result: LintResult, base: Path) -> None:
        from conceptgraph.lint.engine import selected_rules

        self._vaults: list[tuple[Path, frozenset[str] | None, frozenset[str]]] = []
        for vault in result.vaults:
            only = result.linted.get(vault.root)
            # Named by their names on disk; findings use the vault's (NFC) names.
            named = None if only is None else frozenset(_nfc(p) for p in only)
            rules = frozenset(r.name for r in selected_rules(vault.config))
            self._vaults.append((vault.root, named, rules))
        self._base = base

    def covers(self, entry: Entry) -> bool:
        if not entry.path:
            return False  # a finding about no file (a crashed vault rule) is never stale
        where = Path(os.path.normpath(self._base / entry.path))
        for root, named, rules in self._vaults:
            if where.is_relative_to(root):
                inside = _nfc(where.relative_to(root).as_posix())
                return entry.rule in rules and (named is None or inside in named)
        return False


def _nfc(path: str) -> str:
    return unicodedata.normalize("NFC", Path(path).as_posix())


def summary(applied: Applied, path: Path) -> str:
    """One line for stderr: what the baseline suppressed, and what of it is stale."""
    stale = ""
    if applied.stale:
        s = "y" if applied.stale == 1 else "ies"
        stale = f"; {applied.stale} entr{s} no longer match (--write-baseline prunes them)"
    n = applied.suppressed
    return f"Baseline {path}: {n} finding{'' if n == 1 else 's'} suppressed{stale}."


def describe_written(written: Written, path: Path) -> str:
    """One line for stderr after ``--write-baseline``."""
    extra = []
    if written.pruned:
        extra.append(f"{written.pruned} stale pruned")
    if written.kept:
        extra.append(f"{written.kept} entries of notes or rules not linted kept")
    more = f" ({', '.join(extra)})" if extra else ""
    return f"Wrote {path}: {written.findings} findings in {written.entries} entries{more}."
