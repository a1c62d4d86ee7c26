"""The RDF exports of a vault folder by the triples ``query`` makes, made in workers.

``export`` of an RDF format reads the vault in this process, makes every triple as a Python
tuple (``vault_rdf``), sorts them, and hands them to Oxigraph to write. Here the triples are
made as a first query makes them: over a large vault, in worker processes that read the notes.

- N-Triples: loaded into a store as they come (``sparql.vault_store_at``, Oxigraph loading each
  batch on another core), whose dump is sorted by line, as before;
- Turtle, RDF/XML and JSON-LD: each worker sorts the triples of each subject it makes, this
  process sorts the subjects (``sorted_triples``), and the same code as before writes them
  (``conceptgraph.export.rdf``). Reading them back out of a store cost more than the workers
  saved: 660,000 quads made into Python objects and sorted by a key took 1.8 s at 10,000 notes.

The bytes are those of ``conceptgraph.export.export`` on the loaded vault, format by format
(``tests/test_rdf_route.py`` compares them on the fixture vaults, the hostile-names vault and
generated ones). ``conceptgraph export`` takes this route for the formats it measured
faster by (``conceptgraph.export.ROUTED``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from conceptgraph.config import Config, load_config
from conceptgraph.errors import UsageError
from conceptgraph.export import RDF_FORMATS, find_format
from conceptgraph.export.rdf import jsonld_bytes, oxigraph_triples, sorted_lines, write_oxigraph
from conceptgraph.lint import parallel
from conceptgraph.rdf.sparql import in_parts, part_groups, vault_store_at
from conceptgraph.rdf.triples import (
    IRI,
    Term,
    Triple,
    VaultRdf,
    check_base,
    default_base,
    vault_rdf,
)
from conceptgraph.vault.discovery import discover
from conceptgraph.vault.load import load_vault
from conceptgraph.vault.read import gc_paused


def export_rdf_at(
    root: Path, format_name: str, base: str | None = None, jobs: int | None = None
) -> bytes:
    """The vault at ``root`` in an RDF format: the bytes ``export`` gives of it, made faster."""
    fmt = find_format(format_name).name
    if fmt not in RDF_FORMATS:
        raise UsageError(f"{fmt} is not an RDF format ({', '.join(RDF_FORMATS)})")
    if not root.is_dir():
        raise UsageError(f"not a vault folder: {root}")
    root = root.resolve()
    base = check_base(base) if base is not None else default_base(root)
    config = load_config(root)
    with gc_paused():
        if fmt == "ntriples":
            store = vault_store_at(root, config, base, jobs)
            graph = ox.NamedNode(base)
            return sorted_lines(store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph) or b"")
        triples = sorted_triples(root, config, base, jobs)
        if fmt == "jsonld":
            return jsonld_bytes(VaultRdf(base, triples, {}))
        written = {"turtle": ox.RdfFormat.TURTLE, "rdfxml": ox.RdfFormat.RDF_XML}[fmt]
        return write_oxigraph(oxigraph_triples(triples), base, written)


def sorted_triples(root: Path, config: Config, base: str, jobs: int | None) -> tuple[Triple, ...]:
    """The triples of ``vault_rdf`` in its order, made (and mostly sorted) in workers.

    Each worker sorts the triples of each subject its notes make; this process sorts the
    subjects, and merges the few that several workers (or the concepts without a note) make.
    """
    found = discover(root, config)
    if not parallel.usable((), len(found.notes), jobs):
        return vault_rdf(load_vault(root, config, jobs, found), base).triples
    runs: dict[IRI, list[list[tuple[IRI, Term]]]] = {}

    def add(groups: Iterable[tuple[IRI, list[tuple[IRI, Term]]]]) -> None:
        for subject, pairs in groups:
            known = runs.get(subject)
            if known is None:
                runs[subject] = [pairs]
            else:
                known.append(pairs)

    concepts, _ = in_parts(root, config, found, base, jobs, _part_sorted, add)
    add((subject, sorted(pairs)) for subject, pairs in concepts.items())
    triples: list[Triple] = []
    for subject in sorted(runs):
        made_by = runs[subject]
        pairs = made_by[0] if len(made_by) == 1 else sorted(set().union(*made_by))
        triples.extend([(subject, predicate, obj) for predicate, obj in pairs])
    return tuple(triples)


def _part_sorted(
    paths: Sequence[str], base: str
) -> tuple[list[tuple[IRI, list[tuple[IRI, Term]]]], dict[str, Any]]:
    """In a worker: the triples its notes at ``paths`` make, each subject's sorted."""
    groups, concepts = part_groups(paths, base)
    return [(subject, sorted(pairs)) for subject, pairs in groups.items()], concepts
