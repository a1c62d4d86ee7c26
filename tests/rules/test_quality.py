"""The quality family: qSKOS's checks of a concept scheme.

The fixture vaults under tests/fixtures/quality/ hold the cases; each selects its rule alone
(most of the family is off by default). The tests below add what a marker cannot say: that
the rules off by default stay off, and that they come on by family.
"""

from pathlib import Path

import pytest

from conceptgraph.api import lint_paths
from conceptgraph.lint.engine import all_rules
from conceptgraph.settings import Overrides
from tests.conftest import check_fixture, fixture_vaults, write_vault


@pytest.mark.parametrize("vault", list(fixture_vaults("quality")), ids=lambda p: p.name)
def test_quality_rule(vault: Path, request: pytest.FixtureRequest) -> None:
    check_fixture(vault, vault.name, request.config.getoption("--update-expected"))


def _island_vault(root: Path) -> Path:
    return write_vault(
        root,
        {
            "hub.md": "# Hub\n\n[[one]] [[two]]\n",
            "one.md": "# One\n",
            "two.md": "# Two\n",
            "island/a.md": "# A\n\n[[b]]\n",
            "island/b.md": "# B\n",
        },
    )


def test_rules_off_by_default_stay_off_until_selected(tmp_path: Path) -> None:
    vault = _island_vault(tmp_path)
    plain = lint_paths([vault], jobs=1).findings
    assert not [f for f in plain if f.rule == "disconnected-cluster"]
    on = lint_paths([vault], jobs=1, overrides=Overrides.from_options(extend_select=["quality"]))
    clusters = [f for f in on.findings if f.rule == "disconnected-cluster"]
    assert [(f.path, f.message) for f in clusters] == [
        (
            "island/a.md",
            "a cluster of 2 notes with no link to or from the other 3: island/a.md, island/b.md",
        )
    ]


def test_extend_select_in_the_config_file_turns_the_family_on(tmp_path: Path) -> None:
    vault = _island_vault(tmp_path)
    (vault / "conceptgraph.toml").write_text('extend-select = ["quality"]\n', encoding="utf-8")
    rules = {f.rule for f in lint_paths([vault], jobs=1).findings}
    assert "disconnected-cluster" in rules
    ignored = Overrides.from_options(ignore=["disconnected-cluster"])
    again = lint_paths([vault], jobs=1, overrides=ignored).findings
    assert "disconnected-cluster" not in {f.rule for f in again}


def test_every_quality_rule_names_its_qskos_check() -> None:
    quality = [r for r in all_rules().values() if r.family == "quality"]
    assert len(quality) >= 7
    for rule in quality:
        assert "qSKOS: " in rule.doc, rule.name


def test_inverses_declared_twice_for_one_property_is_a_config_error(tmp_path: Path) -> None:
    vault = write_vault(tmp_path, {"a.md": "# A\n"})
    (vault / "conceptgraph.toml").write_text(
        '[inverses]\nbroader = "narrower"\nwider = "narrower"\n', encoding="utf-8"
    )
    from conceptgraph.errors import ConfigError

    with pytest.raises(ConfigError, match=r"conceptgraph.toml:3: wider: 'narrower' is already"):
        lint_paths([vault], jobs=1)
