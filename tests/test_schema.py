"""The JSON Schema of conceptgraph.toml: current, shipped, and in agreement with config.py.

Editors check a config file against the schema as it is typed; conceptgraph checks it with
config.py when it runs. A file one accepts and the other refuses would mislead, so each case
below goes through both: the schema (with jsonschema, a real validator) and a real lint run.
"""

import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest

from conceptgraph import config
from conceptgraph.api import lint_paths
from conceptgraph.errors import ConfigError
from conceptgraph.schema import PACKAGED, main, schema_text
from tests.conftest import FIXTURES, run_conceptgraph, write_vault

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads(PACKAGED.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def _table(path: Path) -> dict[str, object]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if path.name == "pyproject.toml":
        return dict(data.get("tool", {}).get("conceptgraph", {}))
    return data


def _configs() -> list[Path]:
    found = [REPO / "notes" / "conceptgraph.toml"]
    found += sorted(FIXTURES.rglob("conceptgraph.toml"))
    found += sorted(
        p for p in FIXTURES.rglob("pyproject.toml") if "[tool.conceptgraph" in p.read_text()
    )
    return found


def test_the_shipped_and_the_published_schema_are_current() -> None:
    text = schema_text()
    assert PACKAGED.read_text(encoding="utf-8") == text, "run: python -m conceptgraph.schema"
    published = REPO / "docs" / "conceptgraph.schema.json"
    assert published.read_text(encoding="utf-8") == text, "run: python -m conceptgraph.schema"


def test_check_mode_reports_a_stale_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("conceptgraph.schema.PACKAGED", tmp_path / "data" / "s.json")
    monkeypatch.setattr("conceptgraph.schema.PUBLISHED", tmp_path / "docs" / "s.json")
    assert main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main([]) == 0
    assert main(["--check"]) == 0
    assert json.loads((tmp_path / "docs" / "s.json").read_text()) == SCHEMA


@pytest.mark.parametrize("path", _configs(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_config_of_the_repository_fits_the_schema(path: Path) -> None:
    errors = [e.message for e in VALIDATOR.iter_errors(_table(path))]
    assert errors == []


def test_the_documented_examples_fit_the_schema() -> None:
    docstring = config.__doc__ or ""
    example = docstring.split("Example ``conceptgraph.toml``::", 1)[1]
    blocks = [example]
    page = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    # The page's TOML blocks but the one for Taplo's own configuration file.
    blocks += [b for b in re.findall(r"```toml\n(.*?)```", page, re.DOTALL) if "[[rule]]" not in b]
    assert len(blocks) >= 3
    for block in blocks:
        table = tomllib.loads(block)
        assert [e.message for e in VALIDATOR.iter_errors(table)] == []
        config.parse_config(table, "example")


def test_the_schema_knows_every_key_config_py_accepts_and_no_other() -> None:
    assert set(SCHEMA["properties"]) == config._KEYS
    assert SCHEMA["additionalProperties"] is False


def _run_refuses(tmp_path: Path, toml: str) -> bool:
    vault = write_vault(tmp_path, {"a.md": "# A\n"})
    (vault / "conceptgraph.toml").write_text(toml, encoding="utf-8")
    try:
        lint_paths([vault], jobs=1)
    except ConfigError:
        return True
    return False


# Each a line of conceptgraph.toml that both the schema and a run must refuse.
REFUSED = [
    "colour = 'never'",  # a key neither knows
    'exclude = "templates/**"',  # a string for a list
    "select = ['broken-links']",  # no such rule
    "extend-select = ['qualty']",
    "ignore = [3]",
    "fail-on = 'fatal'",
    "line-endings = 'cr'",
    "concept-key = ''",
    "required-keys = 'type'",
    "known-keys = [true]",
    "sections = { 'Examples' = 'example' }",  # no such edge kind
    "severity = { broken-link = 'fatal' }",
    "severity = { broken-links = 'error' }",  # no such rule
    "per-path-ignores = { 'x/*' = ['nope'] }",
    "allowed-values = { layer = 'substrate' }",
    "required-sections = { '*' = [1] }",
    "properties = { status = 'string' }",  # not one of Obsidian's types
    "inverses = { broader = '' }",
    "allow-symlinks-to = '/tmp'",
]

ACCEPTED = [
    "exclude = ['templates/**']",
    "select = ['links', 'quality']",
    "extend-select = ['orphan-concept']",
    "fail-on = 'never'",
    "line-endings = 'crlf'",
    "sections = { 'Examples' = 'link' }",
    "severity = { orphan-note = 'error' }",
    "per-path-ignores = { 'x/*' = ['structure', 'self-link'] }",
    "required-sections = { mechanism = ['Examples'] }",
    "properties = { pages = 'number' }",
    "inverses = { broader = 'narrower', related = 'related' }",
]


@pytest.mark.parametrize("line", REFUSED)
def test_a_setting_the_schema_refuses_a_run_refuses(tmp_path: Path, line: str) -> None:
    assert not VALIDATOR.is_valid(tomllib.loads(line)), f"the schema accepts {line}"
    assert _run_refuses(tmp_path, line + "\n"), f"a run accepts {line}"


@pytest.mark.parametrize("line", ACCEPTED)
def test_a_setting_the_schema_accepts_a_run_accepts(tmp_path: Path, line: str) -> None:
    assert VALIDATOR.is_valid(tomllib.loads(line)), f"the schema refuses {line}"
    assert not _run_refuses(tmp_path, line + "\n"), f"a run refuses {line}"


def test_schema_command_prints_the_shipped_schema_and_a_schema_comment_is_fine(
    tmp_path: Path,
) -> None:
    result = run_conceptgraph("schema")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == SCHEMA
    # Taplo's directive is a TOML comment: conceptgraph reads past it.
    vault = write_vault(tmp_path, {"a.md": "# A\n\n[[missing]]\n"})
    (vault / "conceptgraph.toml").write_text(
        "#:schema ./conceptgraph.schema.json\nignore = ['links']\n", encoding="utf-8"
    )
    (vault / "conceptgraph.schema.json").write_text(result.stdout, encoding="utf-8")
    assert lint_paths([vault], jobs=1).findings == []
