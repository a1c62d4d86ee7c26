"""SHACL validation of a vault's RDF with pySHACL; violations come back as findings.

The data graph is the vault's export (``conceptgraph.rdf.triples``), the shapes are the ones shipped
in ``conceptgraph/data/shapes.ttl`` plus any the user names. Each validation result becomes a
``Finding`` whose rule is ``shacl-`` and the constraint component in kebab case
(``sh:MinCountConstraintComponent`` -> ``shacl-min-count``, ``sh:SPARQLConstraintComponent``
-> ``shacl-sparql``), at the path and line of what the focus node was made from: the frontmatter
key of a property where there is one, else the note's title, the residual bullet or the
negation item. Severity follows ``sh:resultSeverity`` (violation: error, warning, info).

Shapes may hold SPARQL (``sh:select``, ``sh:ask``, ...), which rdflib runs; each is checked
like ``conceptgraph query`` checks a query (no ``SERVICE``, no ``LOAD``, no ``FROM``) before
anything runs, so validating never reaches the network either. pySHACL builds the text it
runs out of more than ``sh:select``: it pastes each ``sh:declare``'s prefix and namespace in
raw, and substitutes paths, so a namespace can carry a whole query. So the check is also made
on the final text, as rdflib receives it; and while validating, an audit hook refuses any
socket or URL the process opens, whatever route a shape found to it.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from conceptgraph.errors import QueryError, UsageError
from conceptgraph.model import Finding, Severity, Span
from conceptgraph.rdf.triples import IRI, PREFIXES, XSD_STRING, Term, VaultRdf
from conceptgraph.vault.load import Vault

# Where a shapes file's format is told by its name. No JSON-LD: a remote @context would be
# fetched while parsing.
SHAPES_FORMATS = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".nt": "nt",
    ".n3": "n3",
    ".rdf": "xml",
    ".xml": "xml",
    ".owl": "xml",
}
_SEVERITY = {SH.Violation: Severity.ERROR, SH.Warning: Severity.WARNING, SH.Info: Severity.INFO}
_SPARQL_KEYS = (SH.select, SH.ask, SH.construct, SH.update)
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z][a-z]*|[a-z]+|\d+")


def packaged(name: str) -> str:
    """The text of a file shipped in ``conceptgraph/data`` (``vocab.ttl``, ``shapes.ttl``)."""
    return resources.files("conceptgraph").joinpath("data", name).read_text(encoding="utf-8")


def _term(term: Term) -> URIRef | RdfLiteral:
    if isinstance(term, IRI):
        return URIRef(term.value)
    # rdflib keeps a plain literal and an xsd:string apart; parsers give the plain one back.
    if term.datatype == XSD_STRING:
        return RdfLiteral(term.value)
    return RdfLiteral(term.value, datatype=URIRef(term.datatype))


def to_rdflib(rdf: VaultRdf) -> Graph:
    """An rdflib graph of the vault's triples, with the common prefixes bound."""
    graph = Graph(bind_namespaces="none")
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    graph.addN((URIRef(s.value), URIRef(p.value), _term(o), graph) for s, p, o in rdf.triples)
    return graph


def load_shapes(paths: Sequence[Path]) -> Graph:
    """The shipped shapes and the user's, in one graph; an unreadable file is a ``UsageError``."""
    shapes = Graph()
    shapes.parse(data=packaged("shapes.ttl"), format="turtle")
    for path in paths:
        fmt = SHAPES_FORMATS.get(path.suffix.lower())
        if fmt is None:
            known = ", ".join(sorted(SHAPES_FORMATS))
            raise UsageError(f"{path}: shapes must be RDF in a file named {known}")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read shapes {path}: {exc.strerror or exc}") from exc
        try:
            shapes.parse(data=data, format=fmt)
        except Exception as exc:  # rdflib's parsers raise many kinds; each means bad input
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise UsageError(f"{path}: not valid {fmt} RDF: {reason}") from exc
    _check_sparql(shapes)
    return shapes


def _check_sparql(shapes: Graph) -> None:
    from conceptgraph.rdf.sparql import check_query

    for key in _SPARQL_KEYS:
        for subject, text in shapes.subject_objects(key):
            try:
                check_query(str(text), graphs=(), source=f"shape <{subject}>")
            except QueryError as exc:
                raise UsageError(f"SPARQL in shapes: {exc}") from None


class _Guard(threading.local):
    active = False


_GUARD = _Guard()
_NETWORK_EVENTS = frozenset({"socket.connect", "socket.getaddrinfo", "urllib.Request"})
_HOOKED: list[bool] = []


def _no_network(event: str, args: tuple[object, ...]) -> None:
    if _GUARD.active and event in _NETWORK_EVENTS:
        raise PermissionError(f"conceptgraph shacl never reaches the network ({event})")


def _checked(text: object) -> None:
    from conceptgraph.rdf.sparql import check_query

    if not isinstance(text, str):
        raise QueryError("SPARQL in shapes: a prepared query cannot be checked")
    check_query(text, graphs=(), source="the SPARQL pySHACL built from the shapes")


@contextmanager
def _guarded() -> Iterator[None]:
    """Check every SPARQL text rdflib is handed, and refuse the network, while validating."""
    from rdflib.plugins.sparql import processor

    if not _HOOKED:  # an audit hook stays for the life of the process: add one, once
        sys.addaudithook(_no_network)
        _HOOKED.append(True)
    query, update = processor.SPARQLProcessor.query, processor.SPARQLUpdateProcessor.update

    def checked_query(self: Any, text: Any, *args: Any, **kwargs: Any) -> Any:
        _checked(text)
        return query(self, text, *args, **kwargs)

    def checked_update(self: Any, text: Any, *args: Any, **kwargs: Any) -> Any:
        _checked(text)
        return update(self, text, *args, **kwargs)

    setattr(processor.SPARQLProcessor, "query", checked_query)  # noqa: B010
    setattr(processor.SPARQLUpdateProcessor, "update", checked_update)  # noqa: B010
    _GUARD.active = True
    try:
        yield
    finally:
        _GUARD.active = False
        setattr(processor.SPARQLProcessor, "query", query)  # noqa: B010
        setattr(processor.SPARQLUpdateProcessor, "update", update)  # noqa: B010


FAMILY = "shacl"


def rule_names() -> list[str]:
    """The name of every SHACL core constraint component's findings, for rule selection."""
    # dir() of rdflib's closed namespace gives its terms as IRIs.
    local = [str(term).rsplit("#", 1)[-1] for term in dir(SH)]
    components = [n for n in local if n.endswith("ConstraintComponent") and n[0].isupper()]
    names = {rule_name(SH[n]) for n in components if n != "ConstraintComponent"}
    return sorted(names | {"shacl-violation"})


def rule_name(component: Node | None) -> str:
    """``shacl-`` and the constraint component's name in kebab case (``shacl-min-count``)."""
    if component is None:
        return "shacl-violation"
    local = re.split(r"[#/]", str(component))[-1].removesuffix("ConstraintComponent")
    words = _WORDS.findall(local)
    return "shacl-" + "-".join(w.lower() for w in words) if words else "shacl-violation"


def _show(node: Node, graph: Graph) -> str:
    if isinstance(node, URIRef):
        for prefix, namespace in PREFIXES.items():
            if str(node).startswith(namespace) and len(node) > len(namespace):
                return f"{prefix}:{node[len(namespace) :]}"
        return f"<{node}>"
    if isinstance(node, RdfLiteral):
        return (
            repr(str(node))
            if node.datatype is None
            else f"{str(node)!r}^^{_show(node.datatype, graph)}"
        )
    return str(node)


@dataclass(frozen=True, slots=True)
class ShaclResult:
    """The findings of one validation, and the vault validated."""

    findings: list[Finding]
    vault: Vault
    conforms: bool


def findings_of(report: Graph, rdf: VaultRdf) -> list[Finding]:
    """A SHACL validation report as findings, at the note behind each focus node."""
    found: set[Finding] = set()
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
        rule = rule_name(report.value(result, SH.sourceConstraintComponent))
        level = report.value(result, SH.resultSeverity)
        severity = (
            _SEVERITY.get(level, Severity.ERROR) if isinstance(level, URIRef) else Severity.ERROR
        )
        predicate = str(path) if isinstance(path, URIRef) else ""
        where = rdf.source(str(focus), predicate) if focus is not None else None
        text = messages[0] if messages else rule
        if isinstance(path, URIRef):
            text = f"{_show(path, report)}: {text}"
        if value is not None and value != focus:
            text += f" (value {_show(value, report)})"
        if where is None and focus is not None:
            text = f"{_show(focus, report)}: {text}"
        span = Span.point(where.line, where.column) if where is not None else Span.point(1)
        found.add(Finding.at(where.path if where else "", span, rule, severity, text))
    return sorted(found)


def validate(vault: Vault, rdf: VaultRdf, shapes: Graph) -> ShaclResult:
    """Validate the vault's triples against ``shapes`` (with ``vocab.ttl`` as the ontology)."""
    import pyshacl
    from rdflib.plugins import sparql

    vocab = Graph().parse(data=packaged("vocab.ttl"), format="turtle")
    # rdflib would fetch the graphs a FROM names; shapes are checked for FROM, and this too.
    sparql.SPARQL_LOAD_GRAPHS = False
    try:
        with _guarded():
            conforms, report, _ = pyshacl.validate(
                to_rdflib(rdf),
                shacl_graph=shapes,
                ont_graph=vocab,
                inference="none",
                advanced=True,
                allow_infos=True,
                allow_warnings=True,
                do_owl_imports=False,
            )
    except QueryError as exc:
        raise UsageError(f"SPARQL in shapes: {exc}") from None
    assert isinstance(report, Graph)
    return ShaclResult(findings_of(report, rdf), vault, bool(conforms))
