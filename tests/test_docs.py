"""`conceptgraph rules` and the generated docs/rules pages."""

import json
from pathlib import Path

import pytest

from conceptgraph.lint.docs import GENERATED, generate, main, parse_doc, stale, write_docs
from conceptgraph.lint.engine import all_rules
from tests.test_cli import REPO, run

DOCS = REPO / "docs" / "rules"


def test_docs_rules_is_current_for_every_registered_rule(tmp_path: Path) -> None:
    # Regenerate into a fresh folder and compare file for file: a new or changed rule fails here
    # until `python -m conceptgraph.lint.docs` has been run and its output committed.
    assert main([str(tmp_path / "rules")]) == 0
    fresh = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "rules").iterdir()}
    committed = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}
    assert set(fresh) == {f"{name}.md" for name in all_rules()} | {"README.md"}
    missing = sorted(set(fresh) - set(committed))
    extra = sorted(set(committed) - set(fresh))
    different = sorted(n for n in set(fresh) & set(committed) if fresh[n] != committed[n])
    assert (missing, extra, different) == ([], [], []), "run: python -m conceptgraph.lint.docs"


def test_check_mode_reports_stale_pages_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "rules"
    assert main([str(folder)]) == 0
    assert main(["--check", str(folder)]) == 0
    page = folder / "broken-link.md"
    page.write_text(page.read_text(encoding="utf-8") + "hand edit\n", encoding="utf-8")
    (folder / "removed-rule.md").write_text(GENERATED + "\n# removed-rule\n", encoding="utf-8")
    (folder / "notes.md").write_text("hand-written, kept\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["--check", str(folder)]) == 1
    assert "broken-link.md: out of date" in capsys.readouterr().err
    assert page.read_text(encoding="utf-8").endswith("hand edit\n")
    assert stale(folder, all_rules()) == ["broken-link.md", "removed-rule.md"]
    assert write_docs(folder, all_rules()) == ["broken-link.md", "removed-rule.md"]
    assert not (folder / "removed-rule.md").exists()
    assert (folder / "notes.md").exists()
    assert stale(folder, all_rules()) == []


def test_a_page_has_every_section_of_its_docstring() -> None:
    pages = generate(all_rules())
    page = pages["link-by-alias.md"]
    assert page.startswith(GENERATED + "\n\n# link-by-alias\n")
    assert "| links | warning | yes |" in page
    for heading in ("## Why", "## Example", "## Instead", "## Fix"):
        assert f"\n{heading}\n" in page
    # reST ``code`` becomes Markdown `code`; literal examples are fenced.
    assert "Obsidian does not follow aliases: `[[transition]]` opens" in page
    assert "``[[" not in page
    assert "```markdown\n[[migration|transition]]\n```" in page
    index = pages["README.md"]
    for name, rule in all_rules().items():
        assert f"[`{name}`]({name}.md) | {rule.family} | {rule.severity.label} |" in index


def test_parse_doc_splits_at_the_section_lines() -> None:
    doc = parse_doc(
        "Flag x.\n\nMore about x.\nWhy: because\nit matters.\n"
        "Example:  bad\nInstead:  good\nFix: none. Reason."
    )
    assert doc.what == "Flag x.\n\nMore about x."
    assert doc.why == "because\nit matters."
    assert (doc.example, doc.instead, doc.fix) == ("bad", "good", "none. Reason.")


# ------------------------------------------------------------------------- conceptgraph rules


def test_rules_lists_every_rule_one_a_line_in_aligned_columns() -> None:
    result = run("rules")
    assert result.returncode == 0, result.stderr
    rules = all_rules()
    rows = result.stdout.splitlines()
    assert len(rows) == len(rules)
    seen = set()
    for row in rows:
        name, family, severity, fixable, *summary = row.split()
        rule = rules[name]
        assert (family, severity, fixable) == (
            rule.family,
            rule.severity.label,
            "yes" if rule.fixable else "no",
        )
        assert " ".join(summary) == " ".join(rule.summary.split())
        seen.add(name)
    assert seen == set(rules)
    # Aligned: the summary starts in the same column on every line.
    starts = {row.index(rules[row.split()[0]].summary) for row in rows}
    assert len(starts) == 1


def test_rules_json() -> None:
    result = run("rules", "--format", "json")
    assert result.returncode == 0
    listed = {r["name"]: r for r in json.loads(result.stdout)}
    assert set(listed) == set(all_rules())
    assert listed["mojibake"]["fixable"] is True
    fields = {"name", "family", "severity", "fixable", "summary", "doc", "default"}
    assert set(listed["mojibake"]) == fields
    assert listed["mojibake"]["default"] is True
    assert listed["disconnected-cluster"]["default"] is False


def test_rules_name_prints_the_whole_doc_with_a_header() -> None:
    result = run("rules", "broken-link")
    assert result.returncode == 0
    rule = all_rules()["broken-link"]
    first, blank, *body = result.stdout.splitlines()
    assert "broken-link" in first and "links" in first and "error" in first
    assert blank == ""
    assert "\n".join(body) == rule.doc.strip()
    for section in ("Why:", "Example:", "Instead:", "Fix:"):
        assert f"\n{section}" in result.stdout
    single = json.loads(run("rules", "broken-link", "-f", "json").stdout)
    assert single["name"] == "broken-link" and single["doc"] == rule.doc


def test_rules_family_lists_its_rules() -> None:
    result = run("rules", "text")
    assert result.returncode == 0
    names = {line.split()[0] for line in result.stdout.splitlines()}
    assert names == {n for n, r in all_rules().items() if r.family == "text"}


def test_unknown_rule_exits_2_with_close_matches() -> None:
    result = run("rules", "brokn-link")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "unknown rule 'brokn-link'" in result.stderr
    assert "broken-link" in result.stderr
    assert "Traceback" not in result.stderr
    nothing_close = run("rules", "zzzz")
    assert nothing_close.returncode == 2
    assert "conceptgraph rules" in nothing_close.stderr
