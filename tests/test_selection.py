"""Rule selection and configuration on the command line, as ruff spells them (issue 27).

Every test runs the real ``conceptgraph`` command on a vault written to disk.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_conceptgraph, write_vault
from tests.test_shacl import VIOLATING

# a.md: a broken link and mojibake; b.md: a broken link; c.md: nothing links here.
FILES = {
    "a.md": "# A\n\nSee [[b]] and [[nope]]. A caf\u00c3\u00a9 here.\n",
    "b.md": "# B\n\nBack to [[a]], on to [[gone]].\n",
    "c.md": "# C\n\nAlone.\n",
}


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_conceptgraph(*args, cwd=cwd)


def found(*args: str | Path) -> set[tuple[str, str]]:
    """(path, rule) of each finding of ``lint --format json`` with ``args``."""
    result = run("lint", "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    return {(f["path"], f["rule"]) for f in json.loads(result.stdout)}


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_vault(tmp_path / "vault", FILES)


def test_select_and_ignore_by_name_and_family(vault: Path) -> None:
    everything = found(vault)
    assert everything == {
        ("a.md", "broken-link"),
        ("a.md", "mojibake"),
        ("b.md", "broken-link"),
        ("c.md", "orphan-note"),
    }
    assert found(vault, "--select", "broken-link") == {
        ("a.md", "broken-link"),
        ("b.md", "broken-link"),
    }
    links = found(vault, "--select", "links")
    assert links and all(rule in ("broken-link", "orphan-note") for _, rule in links)
    # Comma-separated and repeated mean the same; an ignore wins over a select.
    assert found(vault, "--select", "broken-link,mojibake", "--ignore", "links") == {
        ("a.md", "mojibake")
    }
    assert found(vault, "--select", "links", "--extend-ignore", "orphan-note") == {
        ("a.md", "broken-link"),
        ("b.md", "broken-link"),
    }
    assert found(vault, "--select", "text", "--extend-select", "orphan-note") == {
        ("a.md", "mojibake"),
        ("c.md", "orphan-note"),
    }
    assert found(vault, "--ignore", "broken-link") == {
        f for f in everything if f[1] != "broken-link"
    }


def test_command_line_selection_is_laid_over_the_config_file(vault: Path) -> None:
    (vault / "conceptgraph.toml").write_text('ignore = ["broken-link"]\n', encoding="utf-8")
    assert not {rule for _, rule in found(vault)} & {"broken-link"}
    # --extend-select brings back what the file turns off; --select replaces the file's pick.
    assert ("b.md", "broken-link") in found(vault, "--extend-select", "broken-link")
    assert found(vault, "--select", "broken-link") == {
        ("a.md", "broken-link"),
        ("b.md", "broken-link"),
    }
    assert found(vault, "--isolated", "--select", "broken-link") == found(
        vault, "--select", "broken-link"
    )
    assert ("b.md", "broken-link") in found(vault, "--isolated")


def test_per_file_ignores_replace_the_file_table(vault: Path) -> None:
    (vault / "conceptgraph.toml").write_text(
        '[per-path-ignores]\n"a.md" = ["broken-link"]\n', encoding="utf-8"
    )
    assert ("a.md", "broken-link") not in found(vault)
    given = found(vault, "--per-file-ignores", "b*.md:links,structure")
    assert ("a.md", "broken-link") in given
    assert not [f for f in given if f[0] == "b.md"]


def test_unknown_names_exit_2_with_the_nearest(vault: Path, tmp_path: Path) -> None:
    result = run("lint", vault, "--select", "brokn-link")
    assert result.returncode == 2
    assert "--select: unknown rule or family 'brokn-link'" in result.stderr
    assert "did you mean broken-link" in result.stderr
    assert "Traceback" not in result.stderr
    result = run("lint", vault, "--per-file-ignores", "*.md:orphan-notes")
    assert result.returncode == 2 and "orphan-note" in result.stderr
    result = run("lint", vault, "--per-file-ignores", "no-colon")
    assert result.returncode == 2 and "GLOB:RULE" in result.stderr
    # The same hint for a misspelt name in the config file, which names the file.
    (vault / "conceptgraph.toml").write_text('select = ["mojibak"]\n', encoding="utf-8")
    result = run("lint", vault)
    assert result.returncode == 2
    assert "conceptgraph.toml" in result.stderr and "did you mean mojibake" in result.stderr


def test_config_values_and_files_override(vault: Path, tmp_path: Path) -> None:
    (vault / "conceptgraph.toml").write_text('fail-on = "never"\n', encoding="utf-8")
    assert run("lint", vault).returncode == 0
    assert run("lint", vault, "--config", 'fail-on = "error"').returncode == 1
    # A dotted key sets one entry of a table; the rest of the table stays.
    result = run(
        "lint", vault, "--select", "broken-link", "--config", 'severity.broken-link = "info"'
    )
    assert result.returncode == 0, result.stdout
    assert "info broken-link" in result.stdout
    other = tmp_path / "strict.toml"
    other.write_text('fail-on = "info"\nignore = ["broken-link"]\n', encoding="utf-8")
    result = run("lint", vault, "--config", other, "--format", "json")
    assert result.returncode == 1
    assert "broken-link" not in {f["rule"] for f in json.loads(result.stdout)}
    for bad, says in [
        (["--config", "fail-on = 3"], "--config 'fail-on = 3'"),
        (["--config", "nosuch = 1"], "unknown setting"),
        (["--config", "missing.toml"], "no such file"),
        (["--config", "a = = b"], "neither a file nor TOML"),
        (["--config", other, "--isolated"], "--isolated"),
    ]:
        result = run("lint", vault, *bad)
        assert result.returncode == 2, bad
        assert says in result.stderr, (bad, result.stderr)


def test_exit_zero(vault: Path) -> None:
    result = run("lint", vault, "--exit-zero")
    assert result.returncode == 0
    assert "broken-link" in result.stdout
    assert run("lint", vault, "--exit-zero", "--select", "nope").returncode == 2


def test_show_settings_says_where_each_value_came_from(vault: Path) -> None:
    (vault / "conceptgraph.toml").write_text('exclude = ["c.md"]\n', encoding="utf-8")
    result = run(
        "lint",
        vault,
        "--show-settings",
        "--select",
        "broken-link,mojibake",
        "--config",
        'fail-on = "error"',
    )
    assert result.returncode == 0, result.stderr
    lines = {line.split(" = ")[0]: line for line in result.stdout.splitlines()}
    config = str((vault / "conceptgraph.toml").resolve())
    assert lines["exclude"].endswith(f"# {config}")
    assert lines["fail-on"] == """fail-on = "error"  # --config 'fail-on = "error"'"""
    assert lines["select"] == 'select = ["broken-link", "mojibake"]  # --select'
    assert lines["line-endings"].endswith("# default")
    assert "# rules that run (2): broken-link, mojibake" in result.stdout
    assert result.stdout.splitlines()[0] == f"# vault: {vault.resolve()}"
    # Nothing is linted.
    assert "nope" not in result.stdout


def test_show_files_lists_what_would_be_linted(vault: Path, tmp_path: Path) -> None:
    (vault / "conceptgraph.toml").write_text('exclude = ["c.md"]\n', encoding="utf-8")
    (vault / "picture.png").write_bytes(b"\x89PNG")
    result = run("lint", "vault", "--show-files", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["vault/a.md", "vault/b.md"]
    assert run("lint", "vault", "--show-files", "--isolated", cwd=tmp_path).stdout.split() == [
        "vault/a.md",
        "vault/b.md",
        "vault/c.md",
    ]
    result = run("lint", "vault/b.md", "--show-files", cwd=tmp_path)
    assert result.stdout.splitlines() == ["vault/b.md"]


def test_the_cache_never_answers_for_another_selection(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCEPTGRAPH_CACHE_DIR", str(tmp_path / "caches"))
    selections = [
        [],
        ["--select", "broken-link"],
        [],
        ["--ignore", "links"],
        ["--per-file-ignores", "a.md:broken-link"],
        ["--select", "broken-link"],
        [],
    ]
    for selection in selections:
        assert found(vault, *selection) == found(vault, "--no-cache", *selection), selection
    assert (tmp_path / "caches").exists()


def test_shacl_selects_among_its_findings(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "violating", VIOLATING)

    def rules(*args: str) -> set[str]:
        result = run("shacl", vault, "--format", "json", *args)
        assert result.returncode in (0, 1), result.stderr
        return {f["rule"] for f in json.loads(result.stdout)}

    everything = rules()
    assert {"shacl-datatype", "shacl-class"} <= everything
    assert rules("--select", "shacl-datatype") == {"shacl-datatype"}
    assert rules("--ignore", "shacl-datatype") == everything - {"shacl-datatype"}
    assert rules("--ignore", "shacl") == set()
    assert rules("--per-file-ignores", "alpha.md:shacl") == everything - {
        "shacl-datatype",
        "shacl-disjoint",
    }
    result = run("shacl", vault, "--select", "shacl-datatyp")
    assert result.returncode == 2 and "did you mean shacl-datatype" in result.stderr
    assert run("shacl", vault, "--exit-zero").returncode == 0
    shown = run("shacl", vault, "--show-files")
    assert sorted(Path(line).name for line in shown.stdout.split()) == sorted(VIOLATING)
