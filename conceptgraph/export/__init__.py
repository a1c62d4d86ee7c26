"""Exporters: a vault -> bytes in one format, registered by name with aliases.

Each format names the module and function that make it, so that choosing one imports only
what it needs: ``lint`` never loads rdflib, ``export --format dot`` neither rdflib nor
Oxigraph, and graph JSON of the whole vault not even networkx (``tests/test_cli.py``). An
exporter is ``(vault, options) -> bytes``; an option that means nothing to a format is an
``ExportError``, never silently ignored. A format whose output can be far larger than
the vault (graph JSON: an object per link) also names a writer, ``(vault, options, out) ->
None``, which writes the bytes to a binary file as they are made (``write_export``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from conceptgraph.errors import ExportError
from conceptgraph.vault.load import Vault


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What the user asked of an export beyond its format."""

    base: str | None = None  # base IRI (RDF formats)
    focus: str | None = None  # a note's name, alias or path: draw its neighbourhood
    depth: int = 1  # steps from the focus, both directions
    kinds: tuple[str, ...] | None = None  # edge kinds to keep; None keeps all


Exporter = Callable[[Vault, ExportOptions], bytes]
Writer = Callable[[Vault, ExportOptions, IO[bytes]], None]


@dataclass(frozen=True, slots=True)
class Format:
    """One export format: where its exporter lives, and how its files are named and served."""

    name: str
    module: str
    function: str
    extension: str
    media_type: str
    aliases: tuple[str, ...] = ()
    writer: str | None = None  # a function that writes the bytes as they are made

    def exporter(self) -> Exporter:
        """Import and return the exporter function."""
        function: Exporter = getattr(importlib.import_module(self.module), self.function)
        return function

    def write(self, vault: Vault, options: ExportOptions, out: IO[bytes]) -> None:
        """Write the export to ``out``: as it is made where the format has a writer."""
        if self.writer is None:
            out.write(self.exporter()(vault, options))
            return
        writer: Writer = getattr(importlib.import_module(self.module), self.writer)
        writer(vault, options, out)


FORMATS: dict[str, Format] = {}


def register_format(fmt: Format) -> None:
    """Make a format available by its name and aliases."""
    for key in (fmt.name, *fmt.aliases):
        if key in FORMATS:
            raise ValueError(f"export format {key!r} registered twice")
        FORMATS[key] = fmt


def find_format(name: str) -> Format:
    """The format of a name or alias; an ``ExportError`` listing the formats otherwise."""
    try:
        return FORMATS[name.lower()]
    except KeyError:
        known = ", ".join(sorted({f.name for f in FORMATS.values()}))
        raise ExportError(f"unknown export format {name!r} (known: {known})") from None


def export(vault: Vault, format_name: str, options: ExportOptions | None = None) -> bytes:
    """The vault in one format."""
    return find_format(format_name).exporter()(vault, options or ExportOptions())


def write_export(
    vault: Vault, format_name: str, out: IO[bytes], options: ExportOptions | None = None
) -> None:
    """The vault in one format, written to ``out`` (the same bytes as ``export``)."""
    find_format(format_name).write(vault, options or ExportOptions(), out)


# RDF (issue 5): conceptgraph/export/rdf.py
_RDF = (
    ("turtle", "ttl", "text/turtle", ("ttl",)),
    ("ntriples", "nt", "application/n-triples", ("nt",)),
    ("jsonld", "jsonld", "application/ld+json", ("json-ld",)),
    ("rdfxml", "rdf", "application/rdf+xml", ("xml", "rdf")),
)
for _name, _ext, _media, _aliases in _RDF:
    register_format(
        Format(_name, "conceptgraph.export.rdf", f"export_{_name}", _ext, _media, _aliases)
    )
RDF_FORMATS = tuple(name for name, *_ in _RDF)
# The formats ``conceptgraph export`` makes by the route of ``conceptgraph.export.rdfroute``
# (the triples made as a first query makes them, in workers), as measured (``bench_rdf.py``):
# all of them since each worker sorts its own subjects' triples. Turtle at 10,000 notes on the
# 2-core machine with other work on it, 3 runs each in turn: 9.97 s, 9.9 s of CPU and 290 MiB
# by this route against 12.1 s, 10.3 s and 560 MiB in one process. (Before, it read the
# triples back out of a store and sorted them in Python, and lost on all but N-Triples.) Here,
# not in that module, which loads Oxigraph: a diagram's export asks too.
ROUTED = RDF_FORMATS


def takes_the_route(name: str) -> bool:
    """Whether ``export`` makes a format (name or alias) by the route (``rdfroute``)."""
    return find_format(name).name in ROUTED


# Diagrams and graph data (issue 7): conceptgraph/export/{dot,mermaid,json}.py
register_format(
    Format("dot", "conceptgraph.export.dot", "export_dot", "dot", "text/vnd.graphviz", ("gv",))
)
register_format(Format("svg", "conceptgraph.export.dot", "export_svg", "svg", "image/svg+xml"))
register_format(Format("png", "conceptgraph.export.dot", "export_png", "png", "image/png"))
register_format(
    Format(
        "mermaid",
        "conceptgraph.export.mermaid",
        "export_mermaid",
        "mmd",
        "text/vnd.mermaid",
        ("mmd",),
    )
)
register_format(
    Format(
        "json",
        "conceptgraph.export.json",
        "export_json",
        "json",
        "application/json",
        writer="write_json",
    )
)
