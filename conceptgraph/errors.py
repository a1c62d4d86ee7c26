"""The one exception tree of conceptgraph.

::

    ConceptgraphError            anything the CLI reports as a message and exit 2
    ├── ConfigError              a bad conceptgraph.toml or [tool.conceptgraph] table
    ├── UsageError               paths or options that cannot work together
    ├── ExportError              a format that cannot do what was asked
    ├── QueryError               a SPARQL query refused, or one that does not parse
    ├── VaultError               a vault that cannot be read at all
    ├── EditError                a move or rename that cannot be done as planned
    └── WorkerLostError          a worker process ended before its work was done

Problems inside single notes (bad YAML, bad bytes) are never exceptions: they become
findings, so one broken file cannot stop a run.
"""

from __future__ import annotations


class ConceptgraphError(Exception):
    """Base of every error conceptgraph raises on purpose."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path}:{self.line}"
            where += ": "
        return f"{where}{self.message}"


class ConfigError(ConceptgraphError):
    """The vault configuration is invalid."""


class UsageError(ConceptgraphError):
    """The command line asks for something that cannot be done."""


class ExportError(ConceptgraphError):
    """An export cannot be made as asked (unknown format, an option it does not take)."""


class QueryError(ConceptgraphError):
    """A SPARQL query that is refused (it could reach the network or write) or does not parse."""


class VaultError(ConceptgraphError):
    """The vault as a whole cannot be read."""


class EditError(ConceptgraphError):
    """A move or rename refused: a file in the way, or the vault changed since it was planned."""


class WorkerLostError(ConceptgraphError):
    """A worker process ended before its work was done: killed (out of memory?), not a bug."""
