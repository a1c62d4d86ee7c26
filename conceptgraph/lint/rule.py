"""What a rule is, and how one registers: ``@rule(name, family=..., severity=...)``.

A rule is a function with a name, a family and a default severity. A note rule looks at one
note (and may ask the vault to resolve links); a vault rule looks at the whole vault once. Rules
yield ``Hit``s; the engine (:mod:`conceptgraph.lint.engine`) stamps them with the rule's name,
the configured severity and the path, so rules stay small and cannot get those wrong. Rule
modules import this module only, never the engine, so that the engine can import them.

A vault rule may come in two halves: ``gather`` takes what the rule needs of one note (plain
values: its links' targets, say), and the check works from what was gathered of every note,
without reading notes itself. The lint cache then keeps each note's gathering, and after an
edit the rule reads the edited notes alone, not 10,000 to find that one link changed.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from conceptgraph.model import Fix, NoteRecord, Severity, Span
from conceptgraph.vault.load import Vault


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule reports: where, what, and how to repair it; ``path`` for vault rules."""

    span: Span
    message: str
    fix: Fix | None = None
    path: str | None = None


NoteCheck: TypeAlias = Callable[[NoteRecord, Vault], Iterable[Hit]]


VaultCheck: TypeAlias = Callable[[Vault], Iterable[Hit]]


# What a gathering vault rule takes of one note. It may resolve links and read the
# configuration, but nothing of other notes: what it returns must follow from the note's bytes
# and the vault's list of files alone, as the cache keeps it while those stand. Plain values
# (tuples, lists, dicts, strings, numbers, booleans, None; a span as ``span.plain()``) are
# kept; anything else is gathered again at every run.
Gather: TypeAlias = Callable[[NoteRecord, Vault], object]


GatheredCheck: TypeAlias = Callable[[Vault, Mapping[str, Any]], Iterable[Hit]]


class Scope(enum.Enum):
    """What one call of a rule looks at."""

    NOTE = "note"
    VAULT = "vault"


@dataclass(frozen=True, slots=True)
class Rule:
    """A registered rule and its documentation."""

    name: str
    family: str
    severity: Severity
    fixable: bool
    scope: Scope
    check: NoteCheck | VaultCheck | GatheredCheck
    doc: str
    gather: Gather | None = None
    # False: runs only where the configuration or the command line names it or its family,
    # for rules that would flood an ordinary vault.
    default: bool = True

    @property
    def summary(self) -> str:
        """The first line of the rule's docstring."""
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""


REGISTRY: dict[str, Rule] = {}


def rule(
    name: str,
    *,
    family: str,
    severity: Severity,
    fixable: bool = False,
    scope: Scope = Scope.NOTE,
    gather: Gather | None = None,
    default: bool = True,
) -> Callable[[Callable[..., Iterable[Hit]]], Callable[..., Iterable[Hit]]]:
    """Register the decorated function as the rule ``name``.

    With ``gather`` (vault rules only), the function is called as ``check(vault, gathered)``,
    ``gathered`` holding ``gather(note, vault)`` for every note, by path. ``default=False``
    leaves the rule off unless it or its family is selected by name.
    """
    if gather is not None and scope is not Scope.VAULT:
        raise ValueError(f"rule {name!r}: only a vault rule gathers")

    def register(check: Callable[..., Iterable[Hit]]) -> Callable[..., Iterable[Hit]]:
        if name in REGISTRY:
            raise ValueError(f"rule {name!r} registered twice")
        doc = inspect.cleandoc(check.__doc__ or "")
        REGISTRY[name] = Rule(name, family, severity, fixable, scope, check, doc, gather, default)
        return check

    return register
