"""The canonical family: one authoritative note per concept, and variants that point at it.

The fixture vaults under tests/fixtures/canonical/ hold the cases, with ``# expect: rule`` YAML
comments as markers on the frontmatter line each finding stands on.
"""

from pathlib import Path
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conceptgraph.lint.rules.canonical import CanonicalNames, duplicate_canonical
from conceptgraph.vault.load import Vault
from tests.conftest import check_fixture, fixture_vaults


@pytest.mark.parametrize("vault", list(fixture_vaults("canonical")), ids=lambda p: p.name)
def test_canonical_rule(vault: Path, request: pytest.FixtureRequest) -> None:
    check_fixture(vault, vault.name, request.config.getoption("--update-expected"))


_KEYS = st.sampled_from(["migration", "transition", "move", "rename", "shift"])
_NAMES = st.one_of(
    st.none(),
    st.dictionaries(_KEYS, st.text("abcXY _-", min_size=1, max_size=6), max_size=4).map(
        lambda labels: (labels, (2, 1, 2, 10))
    ),
)


@given(st.dictionaries(st.sampled_from([f"n{i}.md" for i in range(6)]), _NAMES, max_size=6))
def test_duplicate_canonical_flags_every_pair_sharing_a_name(
    gathered: dict[str, CanonicalNames | None],
) -> None:
    # Each canonical note is flagged once for each other one it shares concept names with,
    # naming the other and the shared names as it spells them: however many share a name.
    expected = []
    for path in sorted(gathered):
        mine = gathered[path]
        for other in sorted(gathered):
            theirs = gathered[other]
            if other == path or mine is None or theirs is None:
                continue
            keys = mine[0].keys() & theirs[0].keys()
            if keys:
                names = ", ".join(sorted(repr(mine[0][key]) for key in keys))
                expected.append((path, f"{other} is canonical for the same concept ({names})"))
    vault = cast(Vault, None)  # the rule reads only what it gathered
    found = [(hit.path, hit.message) for hit in duplicate_canonical(vault, gathered)]
    assert found == expected
