"""The "What this is NOT" family: negations name real concepts and do not contradict the note.

The fixture vaults under tests/fixtures/negation/ hold the cases. A finding on an item line
carries its marker inside the item's reason, ``- Not a migration (... expect: self-negation).``,
so that the item still reads "Not X (why)."; one item per fixture that needs it carries the
marker as a trailing HTML comment, which must not change what the item names.
"""

from pathlib import Path

import pytest

from tests.conftest import check_fixture, fixture_vaults


@pytest.mark.parametrize("vault", list(fixture_vaults("negation")), ids=lambda p: p.name)
def test_negation_rule(vault: Path, request: pytest.FixtureRequest) -> None:
    check_fixture(vault, vault.name, request.config.getoption("--update-expected"))
