from pathlib import Path

import pytest

from conceptgraph.api import lint_paths
from conceptgraph.config import load_config
from conceptgraph.errors import ConfigError
from conceptgraph.model import Severity


def _vault(tmp_path: Path, toml: str, where: str = "conceptgraph.toml") -> Path:
    (tmp_path / where).write_text(toml, encoding="utf-8")
    (tmp_path / "a.md").write_text("# A\n\n[[missing]]\n", encoding="utf-8")
    return tmp_path


def test_defaults_when_there_is_no_file(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.source is None
    assert config.fail_on is Severity.WARNING
    assert config.edge_kind("Structural  Dependencies") == "dependency"
    assert config.sections_required("mechanism")[0] == "Definition"


def test_pyproject_table_above_the_vault(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.conceptgraph]\nignore = ["broken-link"]\n',
        encoding="utf-8",
    )
    vault = tmp_path / "docs" / "vault"
    vault.mkdir(parents=True)
    (vault / "a.md").write_text("# A\n\n[[missing]]\n", encoding="utf-8")
    assert load_config(vault).ignore == ("broken-link",)
    assert [f.rule for f in lint_paths([vault]).findings] == ["orphan-note"]


def test_vault_file_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.conceptgraph]\nignore = ["broken-link"]\n', encoding="utf-8"
    )
    _vault(tmp_path, 'ignore = ["orphan-note"]\n')
    assert [f.rule for f in lint_paths([tmp_path]).findings] == ["broken-link"]


def test_severity_override_and_family_select(tmp_path: Path) -> None:
    _vault(tmp_path, 'select = ["links"]\n\n[severity]\nbroken-link = "info"\n')
    findings = lint_paths([tmp_path]).findings
    assert {(f.rule, f.severity) for f in findings} == {
        ("broken-link", Severity.INFO),
        ("orphan-note", Severity.INFO),
    }


def test_per_path_ignores(tmp_path: Path) -> None:
    _vault(tmp_path, '[per-path-ignores]\n"a.md" = ["broken-link"]\n"b/*.md" = ["links"]\n')
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "c.md").write_text("# C\n\n[[nowhere]]\n", encoding="utf-8")
    assert [(f.path, f.rule) for f in lint_paths([tmp_path]).findings] == [("a.md", "orphan-note")]


@pytest.mark.parametrize(
    ("toml", "key", "line"),
    [
        ("exclude = []\n\nbogus = 1\n", "bogus", 3),
        ('fail-on = "sometimes"\n', "fail-on", 1),
        ('line-endings = "cr"\n', "line-endings", 1),
        ('select = "links"\n', "select", 1),
        ('\n[sections]\n"Examples" = "example"\n', "Examples", 3),
        ('\n\n[severity]\nbroken-link = "fatal"\n', "broken-link", 4),
        ('[allowed-values]\ntype = "mechanism"\n', "type", 2),
        ('[required-sections]\n"*" = "Definition"\n', "*", 2),
        ("concept-key = 3\n", "concept-key", 1),
    ],
)
def test_bad_settings_name_file_line_and_key(
    tmp_path: Path, toml: str, key: str, line: int
) -> None:
    _vault(tmp_path, toml)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.path == str(tmp_path / "conceptgraph.toml")
    assert caught.value.line == line
    assert key in str(caught.value)


@pytest.mark.parametrize(
    "toml",
    ['select = ["no-such-rule"]\n', '[per-path-ignores]\n"*.md" = ["no-such-rule"]\n'],
)
def test_unknown_rule_names_are_config_errors(tmp_path: Path, toml: str) -> None:
    _vault(tmp_path, toml)
    with pytest.raises(ConfigError, match="no-such-rule"):
        lint_paths([tmp_path])


def test_invalid_toml_names_its_line(tmp_path: Path) -> None:
    _vault(tmp_path, 'ignore = ["a"\nselect = []\n')
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.line == 2
