"""Report formats, --statistics, --output and --color: the reporters on real lint results and
the real ``conceptgraph lint`` command in a subprocess. SARIF is checked against the official
SARIF 2.1.0 schema (tests/data/README.md says where the file comes from)."""

import json
import os
import pty
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conceptgraph.api import lint_paths
from conceptgraph.cli import FORMATS
from conceptgraph.lint.engine import all_rules
from conceptgraph.lint.report import (
    REPORTERS,
    STATISTICS,
    ReportContext,
    color_wanted,
    finding_json,
    github_report,
    json_report,
    sarif_report,
    text_report,
    text_statistics,
)
from conceptgraph.model import Edit, Finding, Fix, Severity, Span
from tests.conftest import write_vault
from tests.test_cli import imported_by, run

SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def validate_sarif(text: str) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(text)
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    return log


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """A broken link (error), a link by alias with a fix (warning), an orphan (info), and a
    file name that needs percent-encoding in a URI."""
    return write_vault(
        tmp_path / "work" / "vault",
        {
            "a.md": "# A\n\nSee [[b]], [[nope]] and [[transition]].\n",
            "b.md": "---\naliases: [transition]\n---\n# B\n\nBack to [[a]] and [[my note é]].\n",
            "my note é.md": "# Mine\n\n[[a]] and [[50% off]]\n",
            "lonely.md": "# Lonely\n\nNo links here.\n",
        },
    )


def lines(text: str) -> list[str]:
    return text.splitlines()


# ------------------------------------------------------------------------------ text and json


def test_formats_offered_are_the_registered_reporters() -> None:
    assert set(FORMATS) == set(REPORTERS)
    assert set(STATISTICS) <= set(REPORTERS)


def test_text_and_json_ignore_where_the_vault_is(vault: Path) -> None:
    result = lint_paths([vault], jobs=1)
    context = ReportContext.create(
        result.findings, result.roots, rules=all_rules(), cwd=vault.parent.parent
    )
    # The public contract: vault-relative paths, and the same bytes with or without a context.
    assert text_report(result.findings, context) == text_report(result.findings)
    assert json_report(result.findings, context) == json_report(result.findings)
    assert {f["path"] for f in json.loads(json_report(result.findings, context))} == {
        "a.md",
        "lonely.md",
        "my note é.md",
    }


def test_text_colours_severity_and_dims_the_rule(vault: Path) -> None:
    result = lint_paths([vault], jobs=1)
    plain = text_report(result.findings)
    painted = text_report(result.findings, ReportContext(color=True))
    assert ANSI.sub("", painted) == plain
    assert "\x1b[31merror\x1b[0m \x1b[2mbroken-link\x1b[0m" in painted
    assert "\x1b[33mwarning\x1b[0m \x1b[2mlink-by-alias\x1b[0m" in painted
    assert "\x1b[34minfo\x1b[0m \x1b[2morphan-note\x1b[0m" in painted


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
def test_machine_formats_are_never_coloured(vault: Path, fmt: str) -> None:
    result = lint_paths([vault], jobs=1)
    context = ReportContext.create(result.findings, result.roots, rules=all_rules(), color=True)
    assert "\x1b" not in REPORTERS[fmt](result.findings, context)


@pytest.mark.parametrize(
    ("mode", "isatty", "environ", "expected"),
    [
        ("auto", True, {}, True),
        ("auto", False, {}, False),
        ("auto", True, {"NO_COLOR": "1"}, False),
        # no-color.org: an empty NO_COLOR does not count.
        ("auto", True, {"NO_COLOR": ""}, True),
        ("always", False, {"NO_COLOR": "1"}, True),
        ("never", True, {}, False),
    ],
)
def test_color_wanted(mode: str, isatty: bool, environ: dict[str, str], expected: bool) -> None:
    assert color_wanted(mode, isatty, environ) is expected


# ------------------------------------------------------------------------------------- SARIF


def finding(
    path: str,
    span: Span,
    rule: str = "broken-link",
    severity: Severity = Severity.ERROR,
    message: str = "m",
    fix: Fix | None = None,
) -> Finding:
    return Finding.at(path, span, rule, severity, message, fix)


def test_sarif_of_a_real_vault_is_valid_with_rules_locations_and_fixes(vault: Path) -> None:
    result = lint_paths([vault], jobs=1)
    work = vault.parent
    context = ReportContext.create(result.findings, result.roots, rules=all_rules(), cwd=work)
    log = validate_sarif(sarif_report(result.findings, context))
    assert log["version"] == "2.1.0"
    (sarif_run,) = log["runs"]
    driver = sarif_run["tool"]["driver"]
    assert driver["name"] == "conceptgraph"
    assert "informationUri" not in driver
    assert sarif_run["columnKind"] == "unicodeCodePoints"
    assert "originalUriBaseIds" not in sarif_run

    by_id = {r["id"]: r for r in driver["rules"]}
    assert set(by_id) == set(all_rules())
    for name, rule in all_rules().items():
        meta = by_id[name]
        assert meta["shortDescription"]["text"] == rule.summary
        assert meta["fullDescription"]["text"] == rule.doc
        assert meta["help"]["text"] == rule.doc
        assert meta["help"]["markdown"].startswith(f"# {name}\n")
        level = {"error": "error", "warning": "warning", "info": "note"}[rule.severity.label]
        assert meta["defaultConfiguration"]["level"] == level

    results = sarif_run["results"]
    assert len(results) == len(result.findings)
    for res, f in zip(results, result.findings, strict=True):
        assert res["ruleId"] == f.rule
        assert driver["rules"][res["ruleIndex"]]["id"] == f.rule
        assert res["message"]["text"] == f.message
        (loc,) = res["locations"]
        region = loc["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == (f.line, f.column)
        assert (region["endLine"], region["endColumn"]) == (f.end_line, f.end_column)

    def where(res: dict[str, Any]) -> str:
        return str(res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])

    broken = next(
        r for r in results if r["ruleId"] == "broken-link" and "nope" in r["message"]["text"]
    )
    assert where(broken) == "vault/a.md"
    assert broken["level"] == "error"
    assert "fixes" not in broken
    # Paths are URI references: the space and the é are percent-encoded UTF-8.
    assert "vault/my%20note%20%C3%A9.md" in {where(r) for r in results}
    orphan = next(r for r in results if r["ruleId"] == "orphan-note")
    assert orphan["level"] == "note"

    alias = next(r for r in results if r["ruleId"] == "link-by-alias")
    (fix,) = alias["fixes"]
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "vault/a.md"}
    (replacement,) = change["replacements"]
    assert replacement["insertedContent"]["text"] == "[[b|transition]]"
    text = (vault / "a.md").read_text(encoding="utf-8").splitlines()
    deleted = replacement["deletedRegion"]
    assert deleted["startLine"] == deleted["endLine"] == 3
    assert text[2][deleted["startColumn"] - 1 : deleted["endColumn"] - 1] == "[[transition]]"


def test_sarif_for_a_vault_outside_the_working_folder_uses_a_base_id(
    tmp_path: Path, vault: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other = write_vault(tmp_path / "second", {"x.md": "# X\n\n[[gone]]\n"})
    result = lint_paths([vault, other], jobs=1)
    context = ReportContext.create(result.findings, result.roots, rules=all_rules(), cwd=elsewhere)
    sarif_run = validate_sarif(sarif_report(result.findings, context))["runs"][0]
    bases = sarif_run["originalUriBaseIds"]
    assert bases == {
        "VAULT": {"uri": vault.resolve().as_uri() + "/"},
        "VAULT2": {"uri": other.resolve().as_uri() + "/"},
    }
    artifacts = [
        r["locations"][0]["physicalLocation"]["artifactLocation"] for r in sarif_run["results"]
    ]
    assert {"uri": "a.md", "uriBaseId": "VAULT"} in artifacts
    assert {"uri": "x.md", "uriBaseId": "VAULT2"} in artifacts


def test_sarif_edge_cases_stay_valid() -> None:
    unsafe = Fix(
        "rewrite two lines",
        (Edit(Span(2, 1, 4, 3), "x\ny"), Edit(Span.point(9, 1), "inserted")),
        safe=False,
    )
    findings = [
        # A crashed vault rule: no file, so no location.
        finding("", Span.point(1), rule="orphan-note", message="internal error"),
        # No end recorded (end 0), spanning lines, and a rule nobody registered.
        Finding("n.md", 3, 2, "unknown-rule", Severity.WARNING, "no end"),
        finding("sub/n#1.md", Span(2, 5, 4, 1), fix=unsafe, message="100% wrong\nreally"),
    ]
    log = validate_sarif(sarif_report(findings, ReportContext(rules=all_rules())))
    crashed, endless, spanning = log["runs"][0]["results"]
    assert "locations" not in crashed
    assert "ruleIndex" not in endless
    assert endless["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 3,
        "startColumn": 2,
    }
    loc = spanning["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "sub/n%231.md"}
    assert loc["region"] == {"startLine": 2, "startColumn": 5, "endLine": 4, "endColumn": 1}
    (fix,) = spanning["fixes"]
    assert fix["properties"] == {"safe": False}
    first, second = fix["artifactChanges"][0]["replacements"]
    assert first["deletedRegion"] == {
        "startLine": 2,
        "startColumn": 1,
        "endLine": 4,
        "endColumn": 3,
    }
    assert second["deletedRegion"] == {
        "startLine": 9,
        "startColumn": 1,
        "endLine": 9,
        "endColumn": 1,
    }


def test_sarif_of_no_findings_is_a_valid_empty_run() -> None:
    log = validate_sarif(sarif_report([], ReportContext(rules=all_rules())))
    assert log["runs"][0]["results"] == []


def test_the_schema_rejects_what_it_should() -> None:
    # Guard against a schema that accepts anything: a result needs a message.
    log = json.loads(sarif_report([], ReportContext()))
    log["runs"][0]["results"] = [{"ruleId": "x"}]
    with pytest.raises(AssertionError, match="message"):
        validate_sarif(json.dumps(log))


# ------------------------------------------------------------------------------------ github


def test_github_annotations_escape_messages_and_properties() -> None:
    findings = [
        finding("a,b:c.md", Span(3, 5, 3, 9), message="50% done\r\nnext: line, more"),
        finding("n.md", Span(2, 4, 5, 1), rule="self-link", severity=Severity.WARNING),
        finding("n.md", Span.point(7), rule="orphan-note", severity=Severity.INFO),
        finding("", Span.point(1), message="no file"),
    ]
    assert lines(github_report(findings)) == [
        "::error file=a%2Cb%3Ac.md,line=3,col=5,endLine=3,endColumn=8,"
        "title=conceptgraph(broken-link)::50%25 done%0D%0Anext: line, more",
        "::warning file=n.md,line=2,endLine=5,title=conceptgraph(self-link)::m",
        "::notice file=n.md,line=7,col=1,endLine=7,endColumn=1,title=conceptgraph(orphan-note)::m",
        "::error title=conceptgraph(broken-link)::no file",
    ]


# -------------------------------------------------------------------------------- statistics


def test_statistics_count_per_rule_most_frequent_first() -> None:
    findings = [
        finding("a.md", Span.point(1), rule="self-link", severity=Severity.WARNING),
        finding("a.md", Span.point(2)),
        finding("b.md", Span.point(2)),
        finding("c.md", Span.point(1), rule="orphan-note", severity=Severity.INFO),
        finding("d.md", Span.point(1), rule="orphan-note", severity=Severity.INFO),
        finding("e.md", Span.point(1), rule="orphan-note", severity=Severity.INFO),
    ] + [finding(f"{n}.md", Span.point(1)) for n in range(8)]
    assert lines(text_statistics(findings)) == [
        "broken-link  10  error",
        "orphan-note   3  info",
        "self-link     1  warning",
    ]
    assert json.loads(STATISTICS["json"](findings)) == [
        {"rule": "broken-link", "count": 10, "severity": "error"},
        {"rule": "orphan-note", "count": 3, "severity": "info"},
        {"rule": "self-link", "count": 1, "severity": "warning"},
    ]
    assert text_statistics([]) == ""
    painted = text_statistics(findings, ReportContext(color=True))
    assert ANSI.sub("", painted) == text_statistics(findings)


# ------------------------------------------------------------------------ the command itself


def test_cli_sarif_is_schema_valid_with_paths_from_the_working_folder(vault: Path) -> None:
    result = run("lint", "--format", "sarif", "vault", cwd=vault.parent)
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    log = validate_sarif(result.stdout)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert "vault/a.md" in uris


def test_cli_sarif_of_every_fixture_vault_is_schema_valid() -> None:
    fixtures = Path(__file__).parent / "fixtures"
    vaults = sorted(p for p in fixtures.glob("*/*") if p.is_dir())
    result = run("lint", "--format", "sarif", *vaults, cwd=fixtures.parent.parent)
    assert result.returncode == 1, result.stderr
    log = validate_sarif(result.stdout)
    assert log["runs"][0]["results"]
    assert "originalUriBaseIds" not in log["runs"][0]


def test_cli_github_format(vault: Path) -> None:
    result = run("lint", "-f", "github", "--fail-on", "never", "vault", cwd=vault.parent)
    assert result.returncode == 0
    assert result.stderr == ""
    assert (
        "::error file=vault/a.md,line=3,col=12,endLine=3,endColumn=19,"
        "title=conceptgraph(broken-link)::link target 'nope' matches no note or file"
    ) in lines(result.stdout)
    assert all(
        line.startswith(("::error ", "::warning ", "::notice ")) for line in lines(result.stdout)
    )


def test_cli_statistics(vault: Path) -> None:
    result = run("lint", "--statistics", vault)
    assert result.returncode == 1
    rows = [line.split() for line in lines(result.stdout)]
    assert ["broken-link", "2", "error"] in rows
    assert ["orphan-note", "1", "info"] in rows
    assert "Found" in result.stderr
    as_json = json.loads(run("lint", "--statistics", "-f", "json", vault).stdout)
    assert {"rule": "link-by-alias", "count": 1, "severity": "warning"} in as_json


def test_cli_statistics_with_a_format_that_cannot_exits_2(vault: Path) -> None:
    result = run("lint", "--statistics", "-f", "sarif", vault)
    assert result.returncode == 2
    assert "--statistics" in result.stderr
    assert result.stdout == ""


def test_cli_output_writes_the_file_and_only_the_summary_to_stderr(vault: Path) -> None:
    out = vault.parent / "report.sarif"
    out.write_text("old report\n", encoding="utf-8")
    out.chmod(0o640)
    result = run("lint", "-f", "sarif", "--output", out, "vault", cwd=vault.parent)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Found ")
    assert validate_sarif(out.read_text(encoding="utf-8")) == json.loads(
        run("lint", "-f", "sarif", "vault", cwd=vault.parent).stdout
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert sorted(p.name for p in vault.parent.iterdir()) == ["report.sarif", "vault"]


def test_cli_output_quiet_prints_nothing(vault: Path) -> None:
    out = vault.parent / "report.txt"
    result = run("lint", "-q", "-o", out, vault)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", "")
    assert out.read_text(encoding="utf-8").startswith("a.md:3:")


def test_cli_output_into_a_missing_folder_exits_2(vault: Path) -> None:
    out = vault.parent / "no-such-folder" / "report.txt"
    result = run("lint", "-o", out, vault)
    assert result.returncode == 2
    assert f"cannot write {out}" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_color_always_never_and_auto_on_a_pipe(vault: Path) -> None:
    always = run("lint", "--color", "always", vault)
    assert "\x1b[31merror\x1b[0m" in always.stdout
    assert ANSI.sub("", always.stdout) == run("lint", "--color", "never", vault).stdout
    assert "\x1b" not in run("lint", vault).stdout
    assert "\x1b" not in run("lint", "--color", "always", "-f", "json", vault).stdout


def run_on_a_tty(*args: str | Path, env: dict[str, str]) -> str:
    """Run the command with stdout on a pseudo-terminal; return what it printed there."""
    primary, secondary = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "conceptgraph", *map(str, args)],
            stdout=secondary,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=120)
    finally:
        os.close(primary)
    return b"".join(chunks).decode("utf-8")


def test_cli_color_auto_on_a_terminal_unless_no_color(vault: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert "\x1b[31merror\x1b[0m" in run_on_a_tty("lint", vault, env=env)
    assert "\x1b[" not in run_on_a_tty("lint", vault, env={**env, "NO_COLOR": "1"})


# The language server's stack (conceptgraph server) is no part of a lint run either.
_HEAVY = ("rdflib", "http", "jsonschema", "requests", "pygls", "lsprotocol", "conceptgraph.lsp")


@pytest.mark.parametrize("fmt", ["text", "sarif", "github"])
def test_ci_formats_stay_light(vault: Path, fmt: str) -> None:
    _, modules = imported_by("lint", "-f", fmt, vault)
    assert "conceptgraph.lint.report" in modules
    assert not {m for m in modules if m.startswith(_HEAVY)}


_TEXT = st.text(alphabet='ab"\\\n\t\x00\x1f\u2028é😀<>&/', max_size=6)
_FINDINGS = st.builds(
    Finding,
    path=_TEXT,
    line=st.integers(0, 10**9),
    column=st.integers(0, 10**9),
    rule=_TEXT,
    severity=st.sampled_from(list(Severity)),
    message=_TEXT,
    end_line=st.integers(0, 10**9),
    end_column=st.integers(0, 10**9),
    fix=st.none()
    | st.builds(
        Fix,
        description=_TEXT,
        edits=st.lists(
            st.builds(Edit, span=st.builds(Span, *[st.integers(1, 99)] * 4), replacement=_TEXT),
            max_size=2,
        ).map(tuple),
        safe=st.booleans(),
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FINDINGS, max_size=4))
def test_json_is_json_dumps_of_the_findings_fields(findings: list[Finding]) -> None:
    # json_report fills findings without a fix into a template: the text must still be what
    # json.dumps writes of the public fields, byte for byte.
    expected = json.dumps([finding_json(f) for f in findings], ensure_ascii=False, indent=2)
    assert json_report(findings) == expected + "\n"
