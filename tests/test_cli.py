"""The real ``conceptgraph`` command, run as a subprocess, and the rule registry's documentation."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import conceptgraph
from conceptgraph.lint.engine import all_rules
from tests.conftest import FIXTURES, run_conceptgraph, write_vault

REPO = Path(__file__).parent.parent
NOTES = REPO / "notes"
HEAVY_IMPORTS = (
    "rdflib",
    "pyoxigraph",
    "pyshacl",
    "http.server",
    "aiohttp",
    "starlette",
    "uvicorn",
)


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_conceptgraph(*args, cwd=cwd, timeout=120)


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return write_vault(
        tmp_path / "clean",
        {"a.md": "# A\n\nSee [[b]].\n", "b.md": "# B\n\nBack to [[a]].\n"},
    )


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    return write_vault(
        tmp_path / "broken",
        {"a.md": "# A\n\nSee [[b]] and [[nope]].\n", "b.md": "# B\n\nBack to [[a]].\n"},
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert conceptgraph.__version__ in result.stdout
    assert result.stdout.startswith("conceptgraph")


def test_clean_vault_exits_0(clean: Path) -> None:
    result = run("lint", clean)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "No findings" in result.stderr


def test_broken_link_exits_1_with_a_located_line(broken: Path) -> None:
    result = run("lint", broken)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        "a.md:3:15: error broken-link link target 'nope' matches no note or file"
    ]


def test_lint_defaults_to_the_current_folder(broken: Path) -> None:
    result = run("lint", cwd=broken)
    assert result.returncode == 1
    assert result.stdout.startswith("a.md:3:15: error broken-link ")


def test_json_output_is_only_a_json_array(broken: Path) -> None:
    result = run("lint", "--format", "json", broken)
    assert result.returncode == 1
    findings = json.loads(result.stdout)
    assert isinstance(findings, list) and len(findings) == 1
    (finding,) = findings
    assert {"path", "line", "column", "rule", "severity", "message"} <= set(finding)
    assert (finding["path"], finding["line"], finding["column"]) == ("a.md", 3, 15)
    assert (finding["rule"], finding["severity"]) == ("broken-link", "error")
    assert "nope" in finding["message"]


def test_json_output_of_a_clean_vault_is_an_empty_array(clean: Path) -> None:
    result = run("lint", "-f", "json", clean)
    assert result.returncode == 0
    assert json.loads(result.stdout) == []


@pytest.fixture
def warnings_only(tmp_path: Path) -> Path:
    # A self-link is a warning, nothing else is wrong.
    return write_vault(
        tmp_path / "warn", {"a.md": "# A\n\n[[a]] [[b]]\n", "b.md": "# B\n\n[[a]]\n"}
    )


def test_fail_on_error_with_only_warnings_exits_0(warnings_only: Path) -> None:
    result = run("lint", "--fail-on", "error", warnings_only)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning self-link" in result.stdout


def test_default_fail_level_is_warning(warnings_only: Path) -> None:
    assert run("lint", warnings_only).returncode == 1
    assert run("lint", "--fail-on", "never", warnings_only).returncode == 0


def test_fail_on_from_config(warnings_only: Path) -> None:
    (warnings_only / "conceptgraph.toml").write_text('fail-on = "error"\n', encoding="utf-8")
    assert run("lint", warnings_only).returncode == 0


def test_one_note_is_linted_against_its_vault(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "vault",
        {
            ".obsidian/app.json": "{}",
            "top.md": "# Top\n\nSee [[sub/note]] and [[missing-from-top]].\n",
            "sub/note.md": "# Note\n\nSee [[top]], [[elsewhere]] and [[gone]].\n",
            "other/elsewhere.md": "# Elsewhere\n\n[[missing-from-elsewhere]]\n",
        },
    )
    result = run("lint", vault / "sub" / "note.md", cwd=tmp_path)
    assert result.returncode == 1
    # [[top]] and [[elsewhere]] resolve because the vault root is the folder with .obsidian/;
    # the other notes' broken links are not reported.
    assert result.stdout.splitlines() == [
        "sub/note.md:3:32: error broken-link link target 'gone' matches no note or file"
    ]


def test_missing_path_exits_2_without_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-vault"
    result = run("lint", missing)
    assert result.returncode == 2
    assert str(missing) in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_unknown_option_exits_2(clean: Path) -> None:
    result = run("lint", "--no-such-option", clean)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_bad_config_exits_2_naming_file_and_line(clean: Path) -> None:
    config = clean / "conceptgraph.toml"
    config.write_text("exclude = []\n\nbogus = 1\n", encoding="utf-8")
    result = run("lint", clean)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{config}:3:" in result.stderr, result.stderr
    assert "bogus" in result.stderr


def test_bad_config_on_its_first_line(clean: Path) -> None:
    config = clean / "conceptgraph.toml"
    config.write_text("bogus = 1\n", encoding="utf-8")
    result = run("lint", clean)
    assert result.returncode == 2
    assert f"{config}:1: bogus" in result.stderr


def test_invalid_toml_exits_2_naming_file_and_line(clean: Path) -> None:
    config = clean / "conceptgraph.toml"
    config.write_text("exclude = []\nselect = [\n", encoding="utf-8")
    result = run("lint", clean)
    assert result.returncode == 2
    assert str(config) in result.stderr
    assert "Traceback" not in result.stderr


def imported_by(*args: str | Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``conceptgraph ARGS`` under ``-X importtime``: its result and the modules it loaded."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "conceptgraph", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found = re.finditer(r"import time:\s+\d+\s+\|\s+\d+\s+\|\s+(\S+)", result.stderr)
    return result, {match.group(1) for match in found}


def test_lint_imports_no_rdf_and_no_http_stack(broken: Path) -> None:
    result, modules = imported_by("lint", broken)
    assert result.returncode == 1
    assert "conceptgraph.cli" in modules, "importtime output was not parsed"
    heavy = {m for m in modules if m.startswith(HEAVY_IMPORTS)}
    assert heavy == set()


@pytest.mark.parametrize(
    ("fmt", "unloaded"),
    [
        ("json", ("networkx", "pyoxigraph", "rdflib")),  # the whole graph, from its parts
        ("dot", ("pyoxigraph", "rdflib")),
        ("mermaid", ("pyoxigraph", "rdflib")),
    ],
)
def test_a_graph_export_loads_no_engine_it_does_not_use(
    fmt: str, unloaded: tuple[str, ...], tmp_path: Path
) -> None:
    # networkx alone took 0.1 s of a 0.2 s graph JSON export of notes/; Oxigraph 30 ms more.
    result, modules = imported_by("export", NOTES, "--format", fmt, "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "conceptgraph.export" in modules, "importtime output was not parsed"
    assert {m for m in modules if m.startswith(unloaded)} == set()
    assert (tmp_path / "out").stat().st_size > 1000


def test_the_repository_notes_are_clean() -> None:
    result = run("lint", NOTES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


# ------------------------------------------------------------------------------ rule registry

SECTIONS = ("Why:", "Example:", "Instead:", "Fix:")


@pytest.mark.parametrize("name", sorted(all_rules()), ids=str)
def test_rule_is_documented_and_has_a_fixture_folder(name: str) -> None:
    rule = all_rules()[name]
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", name)
    assert rule.summary, f"{name} has no docstring"
    for section in SECTIONS:
        assert re.search(rf"^{section}", rule.doc, re.MULTILINE), f"{name}: no {section}"
    fix = re.search(r"^Fix:\s*(\w+)", rule.doc, re.MULTILINE)
    assert fix is not None and fix.group(1) in ("safe", "unsafe", "none"), name
    # A rule that offers fixes says so in its Fix section, and one that does not says none.
    assert (fix.group(1) != "none") == rule.fixable, name
    folder = FIXTURES / rule.family / name
    assert folder.is_dir(), f"no fixture folder {folder.relative_to(REPO)}"
    assert any(folder.glob("*.md")), f"fixture folder {folder} holds no notes"


def test_every_fixture_folder_names_a_rule_of_its_family() -> None:
    rules = all_rules()

    def folders(parent: Path) -> list[Path]:
        # Hidden folders (tool caches) are not fixtures.
        return sorted(p for p in parent.iterdir() if p.is_dir() and not p.name.startswith("."))

    for family in folders(FIXTURES):
        for folder in folders(family):
            assert folder.name in rules, f"{folder} names no rule"
            assert rules[folder.name].family == family.name, folder


def test_each_vault_fails_at_its_own_level(warnings_only: Path, tmp_path: Path) -> None:
    # warnings_only allows warnings; a clean second vault with the default level must not
    # make its warnings fail the run.
    (warnings_only / "conceptgraph.toml").write_text('fail-on = "error"\n', encoding="utf-8")
    other = write_vault(tmp_path / "other", {"c.md": "# C\n\n[[d]]\n", "d.md": "# D\n\n[[c]]\n"})
    assert run("lint", warnings_only, other).returncode == 0
    # A warning in the vault that fails on warnings still fails the run.
    (other / "c.md").write_text("# C\n\n[[c]] [[d]]\n", encoding="utf-8")
    assert run("lint", warnings_only, other).returncode == 1
