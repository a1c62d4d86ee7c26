"""dependency-cycle on a knot of thousands of notes: two searches, every note flagged.

A knot (notes that depend on each other round about) larger than ``_SHORTEST_UP_TO`` is spelled
out through its hub (``structure._ways_through_hub``) instead of by one search per note, which
made a 9,000-note cycle quadratic. These tests check that every way it spells out is a real
way round through the note, and that the work does not grow with a search per note.
"""

from __future__ import annotations

import random
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from conceptgraph.api import lint_paths
from conceptgraph.lint.rules import structure


def _knot(size: int, seed: int) -> Any:
    rng = random.Random(seed)
    names = [f"n{i:04d}.md" for i in range(size)]
    graph = nx.DiGraph()
    for i, name in enumerate(names):  # a ring, so that the whole is one knot
        graph.add_edge(name, names[(i + 1) % size])
    for _ in range(size):  # and chords, so that ways round differ in length
        a, b = rng.sample(names, 2)
        graph.add_edge(a, b)
    return graph


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_way_through_the_hub_is_a_way_round_through_the_note(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(structure, "_SHOWN", 10**9)  # the whole way, to check every step
    knot = _knot(300, seed)
    seen = []
    for source, way, length in structure._ways_through_hub(knot):
        seen.append(source)
        assert len(way) == length
        assert way[-1] == source
        steps = [source, *way]
        assert all(knot.has_edge(a, b) for a, b in pairwise(steps))
    assert seen == sorted(knot)


def test_a_large_knot_takes_two_searches_not_one_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    searches: list[str] = []
    real = structure._search

    def counted(root: str, neighbours: Any) -> Any:
        searches.append(root)
        return real(root, neighbours)

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("a search per note")

    monkeypatch.setattr(structure, "_search", counted)
    monkeypatch.setattr(nx, "shortest_path", refused)
    ways = list(structure._ways_through_hub(_knot(2000, 4)))
    assert len(ways) == 2000
    assert searches == ["n0000.md", "n0000.md"]
    assert all(len(way) <= structure._SHOWN for _, way, _ in ways)


def test_a_cycle_of_many_notes_flags_each_with_a_cut_message(tmp_path: Path) -> None:
    size = 250
    for i in range(size):
        (tmp_path / f"c{i}.md").write_text(
            f"# C{i}\n\n## Structural dependencies\n\n- [[c{(i + 1) % size}]]\n", encoding="utf-8"
        )
    found = [f for f in lint_paths([tmp_path], jobs=1).findings if f.rule == "dependency-cycle"]
    assert sorted(f.path for f in found) == sorted(f"c{i}.md" for i in range(size))
    first = next(f for f in found if f.path == "c0.md")
    shown = " -> ".join(f"c{i}.md" for i in range(12))
    assert first.message == f"dependency cycle: {shown} -> ... ({size - 12} more) -> c0.md"
    assert (first.line, first.column) == (5, 3)
    for finding in found:
        hidden = re.search(r"\.\.\. \((\d+) more\)", finding.message)
        assert hidden is not None and int(hidden.group(1)) == size - 12
