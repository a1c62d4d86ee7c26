"""The structure family: sections, titles and dependency cycles of concept notes.

The fixture vaults under tests/fixtures/structure/ hold the cases. Findings on a heading line
are listed in the folder's EXPECTED file: an HTML comment in a heading would change the heading.
The test below adds what a marker cannot say: the cycle a dependency-cycle message spells out.
"""

import re
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conceptgraph.lint.report import text_report
from conceptgraph.lint.rules.structure import Dependencies, _has_cycle
from conceptgraph.model import Span
from tests.conftest import check_fixture, fixture_vaults, lint_fixture, write_vault


@pytest.mark.parametrize("vault", list(fixture_vaults("structure")), ids=lambda p: p.name)
def test_structure_rule(vault: Path, request: pytest.FixtureRequest) -> None:
    check_fixture(vault, vault.name, request.config.getoption("--update-expected"))


def _depends_on(*names: str) -> str:
    return "# Note\n\n## Structural dependencies\n\n" + "".join(f"- [[{n}]]\n" for n in names)


def test_dependency_cycle_message_spells_out_a_cycle_through_the_flagged_note(
    tmp_path: Path,
) -> None:
    # Two cycles share egg: chicken -> egg -> chicken and egg -> residual -> chicken -> egg.
    # All three notes are on a cycle; each message must spell out one that passes through it.
    vault = write_vault(
        tmp_path,
        {
            "chicken.md": _depends_on("egg"),
            "egg.md": _depends_on("chicken", "residual"),
            "residual.md": _depends_on("chicken"),
        },
    )
    findings = lint_fixture(vault)
    cycles = [f for f in findings if f.rule == "dependency-cycle"]
    assert {f.path for f in cycles} == {"chicken.md", "egg.md", "residual.md"}, text_report(
        findings
    )
    for finding in cycles:
        match = re.fullmatch(r"dependency cycle: (.+)", finding.message)
        assert match is not None, finding.message
        steps = match.group(1).split(" -> ")
        assert steps[0] == steps[-1], finding.message
        assert finding.path in steps, f"{finding.path} is not on {finding.message!r}"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=20))
def test_the_quick_cycle_check_agrees_with_networkx(edges: list[tuple[int, int]]) -> None:
    # dependency-cycle imports networkx only when the quick check finds a cycle: were the
    # check to miss one, the rule would miss it too.
    gathered: dict[str, Dependencies] = {f"n{i}.md": () for i in range(8)}
    for source, target in edges:
        if source != target:  # gathering drops a note's links to itself
            gathered[f"n{source}.md"] += ((f"n{target}.md", Span.point(1).plain()),)
    graph = nx.DiGraph()
    graph.add_nodes_from(gathered)
    graph.add_edges_from((s, t) for s, deps in gathered.items() for t, _ in deps)
    assert _has_cycle(gathered) == (not nx.is_directed_acyclic_graph(graph))
