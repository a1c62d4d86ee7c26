"""The links family: the fixture vaults under tests/fixtures/links/, one folder a rule.

The tests below add what a marker cannot say: the fixes link-to-non-canonical offers, as the
JSON reporter writes them.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from conceptgraph.lint.report import json_report
from tests.conftest import FIXTURES, check_fixture, fixture_vaults, lint_fixture


@pytest.mark.parametrize("vault", list(fixture_vaults("links")), ids=lambda p: p.name)
def test_links_rule(vault: Path, request: pytest.FixtureRequest) -> None:
    check_fixture(vault, vault.name, request.config.getoption("--update-expected"))


NON_CANONICAL = FIXTURES / "links" / "link-to-non-canonical"


def _non_canonical_json() -> dict[tuple[str, int], dict[str, Any]]:
    findings = [f for f in lint_fixture(NON_CANONICAL) if f.rule == "link-to-non-canonical"]
    return {(item["path"], item["line"]): item for item in json.loads(json_report(findings))}


def _apply(path: str, fix: dict[str, Any]) -> tuple[str, str]:
    """The text a one-line fix replaces, and the line as it reads after the fix."""
    edits = fix["edits"]
    assert isinstance(edits, list) and len(edits) == 1, fix
    edit = edits[0]
    assert edit["line"] == edit["end_line"], fix
    line = (NON_CANONICAL / path).read_text(encoding="utf-8").splitlines()[edit["line"] - 1]
    start, end = edit["column"] - 1, edit["end_column"] - 1
    return line[start:end], line[:start] + edit["replacement"] + line[end:]


@pytest.mark.parametrize(
    ("line", "written", "fixed"),
    [
        (12, "[[transition]]", "[[migration|transition]]"),
        (13, "[[transition|moving on]]", "[[migration|moving on]]"),
        (24, "[[transition\\|in a table]]", "[[migration\\|in a table]]"),
    ],
)
def test_link_to_non_canonical_fix_keeps_the_words_shown(
    line: int, written: str, fixed: str
) -> None:
    item = _non_canonical_json()[("index.md", line)]
    fix = item["fix"]
    assert isinstance(fix, dict), item
    assert fix["safe"] is True
    assert fix["description"] == f"write {fixed}"
    replaced, after = _apply("index.md", fix)
    assert replaced == written
    assert fixed in after


def test_link_to_non_canonical_fixes_a_markdown_link() -> None:
    # The docstring: "Fix: safe when the variant's canonical_of names a canonical note".
    item = _non_canonical_json()[("index.md", 16)]
    fix = item["fix"]
    assert isinstance(fix, dict), f"no fix for a markdown link to a variant: {item}"
    _, after = _apply("index.md", fix)
    assert "[markdown](migration.md)" in after


@pytest.mark.parametrize(
    ("path", "line"),
    [("index.md", 17), ("index.md", 18), ("index.md", 19), ("index.md", 20), ("plain.md", 3)],
)
def test_link_to_non_canonical_without_a_canonical_note_has_no_fix(path: str, line: int) -> None:
    item = _non_canonical_json()[(path, line)]
    assert item["fix"] is None, item
    assert item["message"].endswith("is not canonical (canonical: false)")
