"""Findings as the protocol's diagnostics: severity, rule and docs page as ``lint`` has them."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lsprotocol import types

from conceptgraph.lsp.positions import Lines
from conceptgraph.model import Finding, Severity, Span

SOURCE = "conceptgraph"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


def span_of(finding: Finding) -> Span:
    """Where a finding stands, as a span."""
    return Span(finding.line, finding.column, finding.end_line, finding.end_column)


@cache
def rule_page(rule: str) -> str | None:
    """The URI of a rule's docs page, ``docs/rules/<name>.md``, where it is on this machine."""
    # The pages are generated into the repository, not the package: a checkout has them, an
    # installed wheel does not, and then the diagnostic goes without a link.
    page = Path(__file__).resolve().parents[2] / "docs" / "rules" / f"{rule}.md"
    return page.as_uri() if page.is_file() else None


def diagnostic(finding: Finding, lines: Lines) -> types.Diagnostic:
    """One finding as a diagnostic."""
    page = rule_page(finding.rule)
    return types.Diagnostic(
        range=lines.range(span_of(finding)),
        message=finding.message,
        severity=_SEVERITY[finding.severity],
        code=finding.rule,
        code_description=types.CodeDescription(href=page) if page else None,
        source=SOURCE,
    )


def diagnostics(findings: list[Finding], lines: Lines) -> list[types.Diagnostic]:
    """A note's findings as diagnostics, in the order ``lint`` reports them."""
    return [diagnostic(f, lines) for f in findings]
