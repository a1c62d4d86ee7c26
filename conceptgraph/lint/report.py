"""Reporters: findings -> text. Each is registered by name; they only format."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence

from conceptgraph.model import Finding, Fix

Reporter = Callable[[Sequence[Finding]], str]
REPORTERS: dict[str, Reporter] = {}


def register_reporter(name: str) -> Callable[[Reporter], Reporter]:
    """Make a reporter available as ``--format name``."""

    def register(reporter: Reporter) -> Reporter:
        REPORTERS[name] = reporter
        return reporter

    return register


@register_reporter("text")
def text_report(findings: Sequence[Finding]) -> str:
    """One line a finding: ``path:line:col: severity rule message``."""
    return "".join(
        f"{f.path}:{f.line}:{f.column}: {f.severity.label} {f.rule} {f.message}\n" for f in findings
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


@register_reporter("json")
def json_report(findings: Sequence[Finding]) -> str:
    """A JSON array of findings, and nothing else."""
    return json.dumps([finding_json(f) for f in findings], ensure_ascii=False, indent=2) + "\n"


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
