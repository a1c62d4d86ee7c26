from pathlib import Path

import pytest

from tests.conftest import check_fixture, fixture_vaults


@pytest.mark.parametrize("vault", list(fixture_vaults("links")), ids=lambda p: p.name)
def test_links_rule(vault: Path, request: pytest.FixtureRequest) -> None:
    check_fixture(vault, vault.name, request.config.getoption("--update-expected"))
