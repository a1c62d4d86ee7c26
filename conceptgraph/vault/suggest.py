"""The nearest existing names to a misspelt one: "did you mean: propagation, propagate?".

A deletion-neighbourhood index (SymSpell's): every name is filed under each string made by
deleting up to ``MAX_DISTANCE`` characters from its first ``PREFIX`` characters. Two names
within that many edits share such a string, so a query looks up the deletions of its own
prefix (a fixed number, at most 29) and measures the exact distance to the few names found there,
never to every name of the vault: 1,500 broken links in 10,000 notes cost 1,500 small lookups.
Names compare folded (:func:`conceptgraph.names.fold`), so case never counts as an edit.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations

from conceptgraph.names import fold

MAX_DISTANCE = 2
PREFIX = 7  # deletions are taken of this many first characters: 29 a name, not hundreds
MOST = 3  # suggestions given


def allowed(query: str) -> int:
    """How many edits a suggestion may be from ``query``: fewer for short names.

    One edit turns "cat" into "car" or "bat": any three-letter name would do, and none helps.
    """
    return 1 if len(query) <= 4 else MAX_DISTANCE


def _deletions(word: str, most: int) -> set[str]:
    """``word``'s prefix with up to ``most`` characters deleted, in every way."""
    prefix = word[:PREFIX]
    found = {prefix}
    # What is left of the prefix: its characters in order, ``most`` or fewer of them gone.
    for gone in range(1, min(most, len(prefix)) + 1):
        found.update(map("".join, combinations(prefix, len(prefix) - gone)))
    return found


def distance(a: str, b: str, most: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``most + 1`` once it is known to exceed it."""
    if abs(len(a) - len(b)) > most:
        return most + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > most:
            return most + 1
        previous = current
    return previous[-1]


class Suggestions:
    """An index of names, each with what it stands for, answering the nearest to a query."""

    def __init__(self, names: Iterable[tuple[str, str]]) -> None:
        """Index ``(name, value)`` pairs: the name compared, the value returned with it."""
        self._names: dict[str, list[tuple[str, str]]] = {}
        self._index: dict[str, list[str]] = {}
        made: dict[str, set[str]] = {}
        for name, value in names:
            key = fold(name)
            if not key:
                continue
            entries = self._names.setdefault(key, [])
            if entries:
                entries.append((name, value))
                continue
            entries.append((name, value))
            prefix = key[:PREFIX]
            deletions = made.get(prefix)
            if deletions is None:
                # Names often share their first characters ("2024-05-", "concept "): once each.
                deletions = made[prefix] = _deletions(prefix, MAX_DISTANCE)
            for deleted in deletions:
                self._index.setdefault(deleted, []).append(key)

    def nearest(self, query: str, most: int = MOST) -> list[tuple[str, str]]:
        """Up to ``most`` ``(name, value)`` nearest ``query``, nearest first, then by name.

        The query itself, in any case, is no suggestion: it is what was not found.
        """
        key = fold(query)
        limit = allowed(key)
        seen: set[str] = set()
        ranked: list[tuple[int, str]] = []
        for deleted in _deletions(key, limit):
            for candidate in self._index.get(deleted, ()):
                if candidate in seen or candidate == key:
                    continue
                seen.add(candidate)
                found = distance(key, candidate, limit)
                if found <= limit:
                    ranked.append((found, candidate))
        ranked.sort()
        return [self._names[candidate][0] for _, candidate in ranked[:most]]


def did_you_mean(names: Iterable[str]) -> str:
    """The tail a message gets for these suggestions, empty for none."""
    listed = ", ".join(names)
    return f"; did you mean: {listed}?" if listed else ""
