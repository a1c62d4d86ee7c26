"""Reporters: findings -> text. Each is registered by name; they only format.

A reporter is called as ``reporter(findings, context)``. The ``ReportContext`` carries what the
findings alone do not say: which vault each one came from (their paths are vault-relative),
the folder the user ran in, the rule registry, and whether to colour. ``text`` and ``json`` print
vault-relative paths whatever the context says; ``sarif`` and ``github`` print paths relative to
the working folder when the vault lies under it, because that is what CI resolves files against.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

from conceptgraph import __version__, jsontext
from conceptgraph.model import Finding, Fix, Severity

if TYPE_CHECKING:
    from conceptgraph.lint.rule import Rule


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding's file is, as a reporter should print it.

    ``path`` is POSIX and relative to the working folder when ``base`` is None, else relative to
    the vault root ``base`` (a vault outside the working folder).
    """

    path: str
    base: Path | None = None


@dataclass(frozen=True, slots=True)
class ReportContext:
    """What a reporter may need besides the findings; the default knows nothing and colours nothing.

    ``roots`` maps ``id(finding)`` to the finding and its vault root; build it with ``create``.
    """

    rules: Mapping[str, Rule] = field(default_factory=dict)
    cwd: Path | None = None
    color: bool = False
    roots: Mapping[int, tuple[Finding, Path]] = field(default_factory=dict)
    # With lint --baseline: the file, and how many findings it suppressed and entries went stale.
    baseline: Mapping[str, object] | None = None

    @classmethod
    def create(
        cls,
        findings: Sequence[Finding],
        roots: Sequence[Path],
        *,
        rules: Mapping[str, Rule] | None = None,
        cwd: Path | None = None,
        color: bool = False,
        baseline: Mapping[str, object] | None = None,
    ) -> ReportContext:
        """A context for ``findings``, where ``roots[i]`` is the vault root of ``findings[i]``.

        Without roots, every path is reported relative to its vault.
        """
        if roots and len(roots) != len(findings):
            raise ValueError(f"{len(findings)} findings but {len(roots)} vault roots")
        # Equal lengths were checked above; no roots at all means none are known.
        located = {id(f): (f, root) for f, root in zip(findings, roots, strict=False)}
        return cls(rules or {}, cwd, color, located, baseline)

    def root(self, finding: Finding) -> Path | None:
        """The vault root the finding's path is relative to, if known."""
        entry = self.roots.get(id(finding))
        return entry[1] if entry is not None and entry[0] is finding else None

    def location(self, finding: Finding) -> Location | None:
        """Where to say the finding is; None for a finding about no file (a crashed vault rule)."""
        if not finding.path:
            return None
        root = self.root(finding)
        if root is None:
            return Location(finding.path)
        if self.cwd is not None and root.is_relative_to(self.cwd):
            return Location((root / finding.path).relative_to(self.cwd).as_posix())
        return Location(finding.path, root)


class Reporter(Protocol):
    """Formats findings for one ``--format``."""

    def __call__(self, findings: Sequence[Finding], context: ReportContext = ..., /) -> str:
        """The whole report, ready to write."""
        ...


REPORTERS: dict[str, Reporter] = {}
# Reporters for ``--statistics``: one row per rule instead of one per finding.
STATISTICS: dict[str, Reporter] = {}

_NO_CONTEXT = ReportContext()


def register_reporter(
    name: str, registry: dict[str, Reporter] | None = None
) -> Callable[[Reporter], Reporter]:
    """Make a reporter available as ``--format name`` (in ``registry``, by default REPORTERS)."""
    target = REPORTERS if registry is None else registry

    def register(reporter: Reporter) -> Reporter:
        target[name] = reporter
        return reporter

    return register


# ------------------------------------------------------------------------------------ colour

_SEVERITY_COLOR = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "34"}


def color_wanted(mode: str, isatty: bool, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether ``--color mode`` colours: ``auto`` on a terminal unless NO_COLOR is set."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    # no-color.org: any non-empty NO_COLOR turns colour off.
    return isatty and not environ.get("NO_COLOR")


def _paint(text: str, code: str, on: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if on else text


def _severity(severity: Severity, on: bool) -> str:
    return _paint(severity.label, _SEVERITY_COLOR[severity], on)


def _rule(name: str, on: bool) -> str:
    return _paint(name, "2", on)


# -------------------------------------------------------------------------------- text, json


# Control characters (a newline, an escape sequence) and bidirectional controls in a file name
# or a message would split a finding's line or drive the terminal: the text format shows them
# as escapes. C0, DEL, C1, and the bidi embeddings, overrides, isolates and marks.
_UNPRINTABLE = {
    code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    for code in (
        *range(0x20),
        *range(0x7F, 0xA0),
        0x061C,
        0x200E,
        0x200F,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        0x2028,
        0x2029,
    )
}


def _printable(text: str) -> str:
    return text.translate(_UNPRINTABLE) if not text.isprintable() else text


@register_reporter("text")
def text_report(findings: Sequence[Finding], context: ReportContext = _NO_CONTEXT, /) -> str:
    """One line a finding: ``path:line:col: severity rule message``."""
    on = context.color
    return "".join(
        f"{_printable(f.path)}:{f.line}:{f.column}: {_severity(f.severity, on)} "
        f"{_rule(f.rule, on)} {_printable(f.message)}\n"
        for f in findings
    )


def _fix_json(fix: Fix) -> dict[str, object]:
    return {
        "description": fix.description,
        "safe": fix.safe,
        "edits": [
            {
                "line": edit.span.line,
                "column": edit.span.column,
                "end_line": edit.span.end_line,
                "end_column": edit.span.end_column,
                "replacement": edit.replacement,
            }
            for edit in fix.edits
        ],
    }


def finding_json(finding: Finding) -> dict[str, object]:
    """A finding as a JSON object; the field names are a public contract."""
    return {
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "rule": finding.rule,
        "severity": finding.severity.label,
        "message": finding.message,
        "fix": _fix_json(finding.fix) if finding.fix is not None else None,
    }


def _dump(data: object) -> str:
    return jsontext.dumps(data) + "\n"


@register_reporter("json")
def json_report(findings: Sequence[Finding], context: ReportContext = _NO_CONTEXT, /) -> str:
    """A JSON array of findings, and nothing else.

    The text of ``jsontext.dumps([finding_json(f) for f in findings])``, each finding filled
    into a template (a re-lint after an edit prints every finding of the vault again).
    """
    if not findings:
        return "[]\n"
    return "[\n  " + ",\n  ".join(map(_finding_text, findings)) + "\n]\n"


def _finding_text(f: Finding) -> str:
    """``finding_json(f)`` as written one level into the list; its fields' types checked."""
    encode = encode_basestring
    line, column, end_line, end_column = f.line, f.column, f.end_line, f.end_column
    fix = "null" if f.fix is None else _fix_text(f.fix)
    if fix is None or not type(line) is type(column) is type(end_line) is type(end_column) is int:
        return jsontext.dumps(finding_json(f), depth=1)
    return (
        f'{{\n    "path": {encode(f.path)},\n    "line": {line},\n    "column": {column},'
        f'\n    "end_line": {end_line},\n    "end_column": {end_column},\n    "rule": '
        f'{encode(f.rule)},\n    "severity": {encode(f.severity.label)},\n    "message": '
        f'{encode(f.message)},\n    "fix": {fix}\n  }}'
    )


def _fix_text(fix: Fix) -> str | None:
    """``_fix_json(fix)`` as written two levels in; None if a field is not of its type."""
    encode = encode_basestring
    edits = []
    for edit in fix.edits:
        line, column, end_line, end_column = edit.span
        if not type(line) is type(column) is type(end_line) is type(end_column) is int:
            return None
        edits.append(
            f'{{\n          "line": {line},\n          "column": {column},\n          '
            f'"end_line": {end_line},\n          "end_column": {end_column},\n          '
            f'"replacement": {encode(edit.replacement)}\n        }}'
        )
    if type(fix.safe) is not bool:
        return None
    listed = "[\n        " + ",\n        ".join(edits) + "\n      ]" if edits else "[]"
    return (
        f'{{\n      "description": {encode(fix.description)},\n      "safe": '
        f'{"true" if fix.safe else "false"},\n      "edits": {listed}\n    }}'
    )


# ------------------------------------------------------------------------------------- SARIF

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _sarif_rule(rule: Rule) -> dict[str, object]:
    from conceptgraph.lint.docs import rule_markdown

    return {
        "id": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.doc},
        # Code scanning shows the Markdown help beside each alert; the text is for the rest.
        "help": {"text": rule.doc, "markdown": rule_markdown(rule)},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
        "properties": {"family": rule.family, "fixable": rule.fixable, "tags": [rule.family]},
    }


def _sarif_region(line: int, column: int, end_line: int, end_column: int) -> dict[str, int]:
    region = {"startLine": line, "startColumn": max(column, 1)}
    # An end of 0 means the finding never set one (a point); SARIF ends are exclusive, as ours.
    if end_line >= line and end_column >= 1:
        region |= {"endLine": end_line, "endColumn": end_column}
    return region


class _SarifBases:
    """The ``uriBaseId`` of each vault outside the working folder, and its file URI."""

    def __init__(self) -> None:
        self.ids: dict[Path, str] = {}

    def artifact(self, where: Location) -> dict[str, str]:
        artifact = {"uri": quote(where.path, safe="/")}
        if where.base is not None:
            if where.base not in self.ids:
                n = len(self.ids) + 1
                self.ids[where.base] = "VAULT" if n == 1 else f"VAULT{n}"
            artifact["uriBaseId"] = self.ids[where.base]
        return artifact

    def original(self) -> dict[str, object]:
        # A base URI must end in a slash, or the last folder would be replaced, not extended.
        return {key: {"uri": root.as_uri().rstrip("/") + "/"} for root, key in self.ids.items()}


def _sarif_fix(fix: Fix, artifact: dict[str, str]) -> dict[str, object]:
    return {
        "description": {"text": fix.description},
        "artifactChanges": [
            {
                "artifactLocation": artifact,
                "replacements": [
                    {
                        "deletedRegion": _sarif_region(
                            edit.span.line,
                            edit.span.column,
                            edit.span.end_line,
                            edit.span.end_column,
                        ),
                        "insertedContent": {"text": edit.replacement},
                    }
                    for edit in fix.edits
                ],
            }
        ],
        "properties": {"safe": fix.safe},
    }


@register_reporter("sarif")
def sarif_report(findings: Sequence[Finding], context: ReportContext = _NO_CONTEXT, /) -> str:
    """A SARIF 2.1.0 log: one run, every registered rule's metadata, the findings as results."""
    rules = list(context.rules.values())
    index = {rule.name: i for i, rule in enumerate(rules)}
    bases = _SarifBases()
    results: list[dict[str, object]] = []
    for f in findings:
        result: dict[str, object] = {"ruleId": f.rule}
        if f.rule in index:
            result["ruleIndex"] = index[f.rule]
        result |= {"level": _SARIF_LEVEL[f.severity], "message": {"text": f.message}}
        if context.baseline is not None:
            result["baselineState"] = "new"  # what the baseline accounts for is left out
        where = context.location(f)
        if where is not None:
            artifact = bases.artifact(where)
            physical: dict[str, object] = {"artifactLocation": artifact}
            if f.line >= 1:
                physical["region"] = _sarif_region(f.line, f.column, f.end_line, f.end_column)
            result["locations"] = [{"physicalLocation": physical}]
            if f.fix is not None and f.fix.edits:
                result["fixes"] = [_sarif_fix(f.fix, artifact)]
        results.append(result)
    run: dict[str, object] = {
        "tool": {
            "driver": {
                "name": "conceptgraph",
                "version": __version__,
                "rules": [_sarif_rule(rule) for rule in rules],
            }
        },
        # Our columns count characters (code points), not SARIF's default UTF-16 units.
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if bases.ids:
        run["originalUriBaseIds"] = bases.original()
    if context.baseline is not None:
        run["properties"] = {"baseline": dict(context.baseline)}
    return _dump({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]})


# ------------------------------------------------------------------------------------ github

_GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _github_data(text: str) -> str:
    """Escape a workflow command's message: the runner decodes %25, %0D and %0A."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    """Escape a property value, where ``,`` ends the value and ``:`` the property list."""
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


@register_reporter("github")
def github_report(findings: Sequence[Finding], context: ReportContext = _NO_CONTEXT, /) -> str:
    """GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` a finding.

    Columns go only on one-line findings (GitHub refuses them across lines), and the end
    column is the last character's, inclusive, as GitHub counts.
    """
    lines = []
    for f in findings:
        props: list[tuple[str, str]] = []
        where = context.location(f)
        if where is not None:
            props.append(("file", where.path))
            if f.line >= 1:
                end_line = max(f.end_line, f.line)
                props.append(("line", str(f.line)))
                if end_line == f.line:
                    end_column = max(f.end_column - 1, f.column)
                    props += [("col", str(f.column)), ("endLine", str(end_line))]
                    props.append(("endColumn", str(end_column)))
                else:
                    props.append(("endLine", str(end_line)))
        props.append(("title", f"conceptgraph({f.rule})"))
        joined = ",".join(f"{key}={_github_property(value)}" for key, value in props)
        lines.append(f"::{_GITHUB_COMMAND[f.severity]} {joined}::{_github_data(f.message)}\n")
    return "".join(lines)


# -------------------------------------------------------------------------------- statistics


def _counts(findings: Sequence[Finding]) -> list[tuple[str, int, Severity]]:
    """(rule, count, severity) rows, most frequent first.

    A rule configured to different severities in two vaults gets a row for each.
    """
    counts = Counter((f.rule, f.severity) for f in findings)
    rows = [(rule, count, severity) for (rule, severity), count in counts.items()]
    rows.sort(key=lambda row: (-row[1], row[0], -row[2]))
    return rows


@register_reporter("text", STATISTICS)
def text_statistics(findings: Sequence[Finding], context: ReportContext = _NO_CONTEXT, /) -> str:
    """One aligned line a rule: ``rule  count  severity``, most frequent first."""
    rows = _counts(findings)
    if not rows:
        return ""
    name_width = max(len(rule) for rule, _, _ in rows)
    count_width = max(len(str(count)) for _, count, _ in rows)
    on = context.color
    return "".join(
        f"{_rule(rule.ljust(name_width), on)}  {count:>{count_width}}  {_severity(sev, on)}\n"
        for rule, count, sev in rows
    )


@register_reporter("json", STATISTICS)
def json_statistics(findings: Sequence[Finding], context: ReportContext = _NO_CONTEXT, /) -> str:
    """A JSON array of ``{"rule", "count", "severity"}``, most frequent first."""
    return _dump(
        [
            {"rule": rule, "count": count, "severity": severity.label}
            for rule, count, severity in _counts(findings)
        ]
    )


# ----------------------------------------------------------------------------------- summary


def summary(findings: Sequence[Finding], notes: int) -> str:
    """A one-line count of the findings by severity."""
    if not findings:
        return f"No findings in {notes} notes."
    counts = Counter(f.severity.label for f in findings)
    parts = ", ".join(
        f"{counts[label]} {label}{'s' if counts[label] != 1 and label != 'info' else ''}"
        for label in ("error", "warning", "info")
        if counts[label]
    )
    total = len(findings)
    return f"Found {total} finding{'s' if total != 1 else ''} ({parts}) in {notes} notes."
