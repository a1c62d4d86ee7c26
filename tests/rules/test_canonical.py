"""The canonical family: one authoritative note per concept, and variants that point at it.

The fixture vaults under tests/fixtures/canonical/ hold the cases, with ``# expect: rule`` YAML
comments as markers on the frontmatter line each finding stands on.
"""

from pathlib import Path

import pytest

from tests.conftest import check_fixture, fixture_vaults


@pytest.mark.parametrize("vault", list(fixture_vaults("canonical")), ids=lambda p: p.name)
def test_canonical_rule(vault: Path, request: pytest.FixtureRequest) -> None:
    check_fixture(vault, vault.name, request.config.getoption("--update-expected"))
