"""The RDF exports of a vault folder by the triples ``query`` loads, made in workers.

``export`` of an RDF format reads the vault in this process, makes every triple as a Python
tuple (``vault_rdf``), sorts them, and hands them to Oxigraph to write. Here the triples are
made as a first query makes them (``sparql.vault_store_at``: over a large vault,
in worker processes that read the notes, while Oxigraph loads each batch on another core),
and the store they land in is written out:

- N-Triples: the store's own dump, its lines sorted, as before;
- Turtle, RDF/XML and JSON-LD: the store's triples, sorted as ``vault_rdf`` sorts them, then
  written by the same code as before (``conceptgraph.export.rdf``).

The bytes are those of ``conceptgraph.export.export`` on the loaded vault, format by format
(``tests/test_rdf_route.py`` compares them on the fixture vaults, the hostile-names vault and
generated ones). ``conceptgraph export`` takes this route for the formats it measured
faster by (``ROUTED``).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from conceptgraph.config import load_config
from conceptgraph.errors import UsageError
from conceptgraph.export import find_format
from conceptgraph.export.rdf import jsonld_bytes, sorted_lines, write_oxigraph
from conceptgraph.rdf.sparql import vault_store_at
from conceptgraph.rdf.triples import IRI, Literal, Term, Triple, VaultRdf, check_base, default_base
from conceptgraph.vault.read import gc_paused

RDF_FORMATS = ("turtle", "ntriples", "jsonld", "rdfxml")
# The formats ``conceptgraph export`` makes by this route, as measured (``bench_rdf.py``): at
# 10,000 notes on a shared 2-core machine N-Triples took 25.3 s and 10.4 s of CPU this way,
# 23.0 s and 11.4 s the loaded vault's way, with 6 % less memory; Turtle 18.9 s and 10.3 s of
# CPU against 15.2 s and 7.7 s, and JSON-LD and RDF/XML lost too: sorting the store's
# triples in Python costs more than the workers save while other work holds the cores.
ROUTED = ("ntriples",)


def takes_the_route(name: str) -> bool:
    """Whether ``export`` makes a format (name or alias) by this route."""
    return find_format(name).name in ROUTED


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
    with gc_paused():
        store = vault_store_at(root, load_config(root), base, jobs)
        graph = ox.NamedNode(base)
        if fmt == "ntriples":
            return sorted_lines(store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph) or b"")
        if fmt == "jsonld":
            rdf = VaultRdf(base, _sorted_triples(store, graph), {})
            del store
            return jsonld_bytes(rdf)
        ordered = sorted(store.quads_for_pattern(None, None, None, graph), key=_order)
        del store
        written = {"turtle": ox.RdfFormat.TURTLE, "rdfxml": ox.RdfFormat.RDF_XML}[fmt]
        return write_oxigraph((quad.triple for quad in ordered), base, written)


def _order(quad: ox.Quad) -> tuple[str, str, str, str]:
    """Where ``vault_rdf`` puts a triple: by subject, predicate, then object (an IRI first)."""
    subject, obj = quad.subject, quad.object
    assert isinstance(subject, ox.NamedNode), subject  # no blank node, no triple as a term
    assert isinstance(obj, ox.NamedNode | ox.Literal), obj
    kind = obj.datatype.value if isinstance(obj, ox.Literal) else ""
    return (subject.value, quad.predicate.value, obj.value, kind)


def _sorted_triples(store: ox.Store, graph: ox.NamedNode) -> tuple[Triple, ...]:
    """The store's triples as ``vault_rdf`` holds them: our terms, in its order."""
    iris: dict[str, IRI] = {}

    def iri(value: str) -> IRI:
        made = iris.get(value)
        if made is None:
            made = iris[value] = IRI(value)
        return made

    triples: list[Triple] = []
    for quad in store.quads_for_pattern(None, None, None, graph):
        subject, obj = quad.subject, quad.object
        # The vault's triples hold no blank node, and no triple as a term.
        assert isinstance(subject, ox.NamedNode), subject
        term: Term
        if isinstance(obj, ox.NamedNode):
            term = iri(obj.value)
        else:
            assert isinstance(obj, ox.Literal), obj
            term = Literal(obj.value, obj.datatype.value)
        triples.append((iri(subject.value), iri(quad.predicate.value), term))
    triples.sort()
    return tuple(triples)
