"""The vault as RDF: Turtle, N-Triples, JSON-LD and RDF/XML.

The triples come from ``conceptgraph.rdf.triples`` (SKOS concepts and the ``cg:`` vocabulary),
already sorted; this module only writes them. Turtle, N-Triples and RDF/XML are written by
pyoxigraph, which keeps the order it is given and takes a second for 10,000 notes (rdflib's
Turtle writer took over two minutes there); JSON-LD is written here, compacted with the common
prefixes. So the same vault gives the same bytes whatever the hash seed, and ``exports/`` diffs
stay readable. Every format holds the same triples: the tests parse each back with rdflib.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from itertools import groupby

import pyoxigraph as ox

from conceptgraph import jsontext
from conceptgraph.errors import ExportError
from conceptgraph.export import ExportOptions
from conceptgraph.rdf.triples import (
    IRI,
    PREFIXES,
    RDF,
    XSD_BOOLEAN,
    XSD_INTEGER,
    XSD_STRING,
    Term,
    Triple,
    VaultRdf,
    vault_rdf,
)
from conceptgraph.vault.load import Vault

_RDF_TYPE = RDF + "type"
_CANONICAL_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")


def _rdf(vault: Vault, options: ExportOptions) -> VaultRdf:
    if options.focus is not None:
        raise ExportError("--focus applies to diagrams; an RDF export is always the whole vault")
    if options.kinds is not None:
        raise ExportError("--kinds applies to diagrams; an RDF export is always the whole vault")
    if options.depth != 1:
        raise ExportError("--depth applies to diagrams with --focus, not to RDF")
    return vault_rdf(vault, options.base)


def oxigraph_triples(triples: Iterable[Triple]) -> Iterator[ox.Triple]:
    """Our triples as pyoxigraph's, each IRI made once."""
    nodes: dict[str, ox.NamedNode] = {}

    def node(iri: str) -> ox.NamedNode:
        made = nodes.get(iri)
        if made is None:
            made = nodes[iri] = ox.NamedNode(iri)
        return made

    def term(value: Term) -> ox.NamedNode | ox.Literal:
        if isinstance(value, IRI):
            return node(value.value)
        return ox.Literal(value.value, datatype=node(value.datatype))

    for subject, predicate, obj in triples:
        yield ox.Triple(node(subject.value), node(predicate.value), term(obj))


def _serialize(rdf: VaultRdf, fmt: ox.RdfFormat) -> bytes:
    return write_oxigraph(oxigraph_triples(rdf.triples), rdf.base, fmt)


def write_oxigraph(triples: Iterable[ox.Triple], base: str, fmt: ox.RdfFormat) -> bytes:
    """Triples, in the order given, as Oxigraph writes them in ``fmt`` with our prefixes."""
    # vault: shortens the notes' own IRIs in Turtle, as `conceptgraph query` does.
    prefixes = {**PREFIXES, "vault": base}
    data = ox.serialize(triples, format=fmt, prefixes=prefixes)
    assert data is not None  # without an output file, serialize returns the bytes
    return data


def export_turtle(vault: Vault, options: ExportOptions) -> bytes:
    """Turtle: one block a subject, in IRI order, with the common prefixes."""
    return _serialize(_rdf(vault, options), ox.RdfFormat.TURTLE)


def export_ntriples(vault: Vault, options: ExportOptions) -> bytes:
    """N-Triples, one triple a line, lines sorted."""
    return sorted_lines(_serialize(_rdf(vault, options), ox.RdfFormat.N_TRIPLES))


def sorted_lines(data: bytes) -> bytes:
    """N-Triples as exported: each line once, sorted."""
    return b"".join(line + b"\n" for line in sorted(set(data.splitlines()) - {b""}))


def export_rdfxml(vault: Vault, options: ExportOptions) -> bytes:
    """RDF/XML, one element a subject, in IRI order."""
    return _serialize(_rdf(vault, options), ox.RdfFormat.RDF_XML)


@lru_cache(maxsize=4096)  # predicates, classes and datatypes: a few, each met again and again
def _compact(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        local = iri[len(namespace) :]
        # JSON-LD reads "p://..." as an absolute IRI, never as a compact one.
        if iri.startswith(namespace) and local and not local.startswith("//"):
            return f"{prefix}:{local}"
    return iri


def _jsonld_value(value: Term) -> object:
    if isinstance(value, IRI):
        return {"@id": value.value}
    if value.datatype == XSD_STRING:
        return value.value
    if value.datatype == XSD_BOOLEAN and value.value in ("true", "false"):
        return value.value == "true"
    if value.datatype == XSD_INTEGER and _CANONICAL_INTEGER.fullmatch(value.value):
        return int(value.value)
    return {"@value": value.value, "@type": _compact(value.datatype)}


def jsonld_document(rdf: VaultRdf) -> dict[str, object]:
    """The triples as one compacted JSON-LD document: a ``@graph`` of nodes in IRI order."""
    nodes: list[dict[str, object]] = []
    for subject, group in groupby(rdf.triples, key=lambda triple: triple[0]):
        node: dict[str, object] = {"@id": subject.value}
        properties: dict[str, object] = {}
        for predicate, items in groupby(group, key=lambda triple: triple[1]):
            objects = [obj for _, _, obj in items]
            if predicate.value == _RDF_TYPE and all(isinstance(o, IRI) for o in objects):
                types = [_compact(o.value) for o in objects]
                node["@type"] = types[0] if len(types) == 1 else types
                continue
            values = [_jsonld_value(o) for o in objects]
            properties[_compact(predicate.value)] = values[0] if len(values) == 1 else values
        node.update(properties)
        nodes.append(node)
    return {"@context": shipped_context(), "@graph": nodes}


def shipped_context() -> dict[str, str]:
    """The JSON-LD context shipped as ``conceptgraph/data/context.jsonld``: the prefixes.

    Published beside the vocabulary, so a consumer can compact or expand any export with it.
    """
    from importlib.resources import files

    text = files("conceptgraph").joinpath("data/context.jsonld").read_text(encoding="utf-8")
    context: dict[str, str] = json.loads(text)["@context"]
    return context


def export_jsonld(vault: Vault, options: ExportOptions) -> bytes:
    """JSON-LD, compacted with the common prefixes as its context; nodes in IRI order."""
    return jsonld_bytes(_rdf(vault, options))


def jsonld_bytes(rdf: VaultRdf) -> bytes:
    """Sorted triples as the JSON-LD export writes them."""
    text = jsontext.dumps(jsonld_document(rdf))
    return (text + "\n").encode("utf-8")
