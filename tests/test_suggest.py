"""Suggestions for broken links and headings: the nearest names, as an unsafe fix.

The index must find what measuring every name would find (checked against that, over names
built to sit one to four edits apart), and ``--fix`` must leave a suggested link alone.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from conceptgraph.vault.suggest import PREFIX, Suggestions, _deletions, allowed, distance
from tests.conftest import FIXTURES
from tests.test_cli import run
from tests.test_report import validate_sarif

BROKEN_LINK = FIXTURES / "links" / "broken-link"


def _edited(rng: random.Random, word: str) -> str:
    letters = "abcdeo"
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(word) + 1)
        how = rng.choice("ids")
        if how == "i" or len(word) < 3:
            word = word[:at] + rng.choice(letters) + word[at:]
        elif how == "d":
            word = word[:at] + word[at + 1 :]
        else:
            word = word[:at] + rng.choice(letters) + word[at + 1 :]
    return word


def _brute(names: list[str], query: str) -> list[str]:
    limit = allowed(query.lower())
    near = sorted(
        (distance(query.lower(), n.lower(), limit), n.lower())
        for n in set(names)
        if n.lower() != query.lower()
    )
    return [n for d, n in near if d <= limit][:3]


def test_the_index_finds_what_measuring_every_name_finds() -> None:
    rng = random.Random(7)
    stems = ["propagation", "migration", "cat", "erasure", "bookkeeping", "ab"]
    names = [_edited(rng, rng.choice(stems)) for _ in range(400)] + stems
    index = Suggestions((name, name) for name in names)
    for _ in range(300):
        query = _edited(rng, rng.choice(stems))
        got = [name.lower() for name, _ in index.nearest(query)]
        assert got == _brute(names, query), query


def test_a_name_differing_only_in_case_is_no_edit() -> None:
    index = Suggestions([("Propagation", "p.md"), ("propagate", "q.md"), ("propagations", "r")])
    near = index.nearest("PROPAGATIO")
    assert near == [("Propagation", "p.md"), ("propagate", "q.md"), ("propagations", "r")]
    # The name itself, in another case, is what was not found: no suggestion.
    assert index.nearest("PROPAGATION") == [("propagations", "r")]


def test_suggestions_are_unsafe_fixes_in_json_and_sarif(tmp_path: Path) -> None:
    findings = json.loads(run("lint", "--format", "json", BROKEN_LINK).stdout)
    by_line = {f["line"]: f for f in findings if f["rule"] == "broken-link"}
    near = by_line[46]
    assert near["message"].endswith("; did you mean: propagation, propagate?")
    assert near["fix"]["safe"] is False
    assert near["fix"]["edits"][0]["replacement"] == "[[propagation]]"
    # An alias is suggested as the note it names, showing the alias.
    assert by_line[47]["fix"]["edits"][0]["replacement"] == "[[propagation|spreading]]"
    assert by_line[48]["fix"] is None and "did you mean" not in by_line[48]["message"]
    log = validate_sarif(run("lint", "--format", "sarif", BROKEN_LINK).stdout)
    results = log["runs"][0]["results"]
    # A canvas card is JSON, with no text to rewrite: its suggestion is in the message alone.
    suggested = [r for r in results if "did you mean" in r["message"]["text"] and "fixes" in r]
    assert len(suggested) == 2
    assert suggested and all(r["fixes"][0]["properties"]["safe"] is False for r in suggested)


def test_fix_does_not_apply_a_suggestion(tmp_path: Path) -> None:
    vault = tmp_path / "broken-link"
    shutil.copytree(BROKEN_LINK, vault)
    before = (vault / "index.md").read_bytes()
    run("lint", "--fix", vault)
    assert (vault / "index.md").read_bytes() == before


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=10), st.integers(min_value=0, max_value=3))
def test_deletions_are_every_way_of_deleting_up_to_most_characters(word: str, most: int) -> None:
    # The index files a name under these, and a query looks them up: one missing is a
    # suggestion lost. Made one character at a time, the plain way.
    expected = level = {word[:PREFIX]}
    for _ in range(most):
        level = {w[:i] + w[i + 1 :] for w in level for i in range(len(w))}
        expected = expected | level
    assert _deletions(word, most) == expected
