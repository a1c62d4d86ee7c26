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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib import Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from conceptgraph.errors import QueryError, UsageError
from conceptgraph.model import Finding, Severity, Span
from conceptgraph.rdf.shacl_fast import BNode, Hit, LangLiteral, term
from conceptgraph.rdf.shacl_fast import Node as FastNode
from conceptgraph.rdf.triples import IRI, PREFIXES, XSD_STRING, Literal, Term, VaultRdf
from conceptgraph.vault.load import Vault
from conceptgraph.vault.read import gc_paused

if TYPE_CHECKING:
    import pyoxigraph as ox

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


def _show(node: FastNode) -> str:
    if isinstance(node, IRI):
        for prefix, namespace in PREFIXES.items():
            if node.value.startswith(namespace) and len(node.value) > len(namespace):
                return f"{prefix}:{node.value[len(namespace) :]}"
        return f"<{node.value}>"
    if isinstance(node, Literal):
        if node.datatype == XSD_STRING:
            return repr(node.value)
        return f"{node.value!r}^^{_show(IRI(node.datatype))}"
    if isinstance(node, LangLiteral):
        return repr(node.value)
    return node.label


@dataclass(frozen=True, slots=True)
class ShaclResult:
    """The findings of one validation, and the vault validated.

    ``notes``: what the user should know of the run (a shape left to pySHACL, and why).
    """

    findings: list[Finding]
    vault: Vault
    conforms: bool
    notes: tuple[str, ...] = ()


def report_hits(report: Graph) -> list[Hit]:
    """PySHACL's validation report as results: those of the report, not their ``sh:detail``."""
    hits: list[Hit] = []
    results = (
        result
        for node in report.subjects(RDF.type, SH.ValidationReport)
        for result in report.objects(node, SH.result)
    )
    for result in results:
        focus, path, value, component, level = (
            report.value(result, key)
            for key in (
                SH.focusNode,
                SH.resultPath,
                SH.value,
                SH.sourceConstraintComponent,
                SH.resultSeverity,
            )
        )
        hits.append(
            Hit(
                term(focus) if focus is not None else BNode(""),
                term(path) if path is not None else None,
                term(value) if value is not None else None,
                str(component) if component is not None else "",
                str(level) if isinstance(level, URIRef) else str(SH.Violation),
                tuple(str(m) for m in report.objects(result, SH.resultMessage)),
            )
        )
    return hits


def findings_of(report: Graph, rdf: VaultRdf) -> list[Finding]:
    """A SHACL validation report as findings, at the note behind each focus node."""
    return findings_from(report_hits(report), rdf)


def findings_from(hits: Iterable[Hit], rdf: VaultRdf) -> list[Finding]:
    """Validation results as findings, at the note behind each focus node."""
    found: set[Finding] = set()
    for hit in hits:
        focus, path, value = hit.focus, hit.path, hit.value
        messages = sorted(hit.messages)
        rule = rule_name(URIRef(hit.component) if hit.component else None)
        severity = _SEVERITY.get(URIRef(hit.severity), Severity.ERROR)
        predicate = path.value if isinstance(path, IRI) else ""
        where = rdf.source(focus.value, predicate) if isinstance(focus, IRI) else None
        text = messages[0] if messages else rule
        if isinstance(path, IRI):
            text = f"{_show(path)}: {text}"
        if value is not None and value != focus:
            text += f" (value {_show(value)})"
        if where is None:
            text = f"{_show(focus)}: {text}"
        span = Span.point(where.line, where.column) if where is not None else Span.point(1)
        found.add(Finding.at(where.path if where else "", span, rule, severity, text))
    return sorted(found)


def conforming(hits: Iterable[Hit]) -> bool:
    """Whether results leave the data conforming: warnings and infos do (as pySHACL is run)."""
    allowed = {str(SH.Warning), str(SH.Info)}
    return all(hit.severity in allowed for hit in hits)


ENGINES = ("fast", "pyshacl")


def validate(vault: Vault, rdf: VaultRdf, shapes: Graph, engine: str = "fast") -> ShaclResult:
    """Validate the vault's triples against ``shapes`` (with ``vocab.ttl`` as the ontology).

    ``engine``: ``fast`` (``conceptgraph.rdf.shacl_fast``; a shape it cannot run goes to
    pySHACL, and ``notes`` say so) or ``pyshacl``, the reference.
    """
    if engine not in ENGINES:
        raise UsageError(f"unknown SHACL engine {engine!r} (known: {', '.join(ENGINES)})")
    vocab = Graph().parse(data=packaged("vocab.ttl"), format="turtle")
    if engine == "pyshacl":
        hits = pyshacl_hits(rdf, shapes, vocab)
        return ShaclResult(findings_from(hits, rdf), vault, conforming(hits))
    from conceptgraph.rdf import shacl_fast

    try:
        compiled = shacl_fast.Shapes(shacl_fast.Data(shacl_fast.graph_triples(shapes)))
    except QueryError as exc:
        raise UsageError(f"SPARQL in shapes: {exc}") from None
    with gc_paused():  # an index of 300,000 lists, and no cycles among them
        data = shacl_fast.Data(shacl_fast.graph_triples(vocab), grouped=rdf.triples)
    data.sparql = shacl_fast.SparqlData(lambda: _store(rdf, vocab))
    notes: list[str] = []
    try:
        with _guarded(), gc_paused():
            hits = shacl_fast.validate(compiled, data)
    except shacl_fast.Unsupported as exc:
        notes.append(f"the fast engine cannot validate this ({exc}): pySHACL validated all shapes")
        hits = pyshacl_hits(rdf, shapes, vocab)
        return ShaclResult(findings_from(hits, rdf), vault, conforming(hits), tuple(notes))
    left = compiled.unsupported
    if left:
        named = [n for n in left if isinstance(n, IRI)]
        said = "; ".join(f"{_show(n)}: {why}" for n, why in left.items())
        if len(named) == len(left):
            notes.append(f"pySHACL validated {len(left)} shape(s) the fast engine cannot: {said}")
            hits += pyshacl_hits(rdf, shapes, vocab, [n.value for n in named])
        else:
            # pySHACL picks shapes by IRI: a blank-node shape can only go with all of them.
            notes.append(f"pySHACL validated all shapes, as the fast engine cannot: {said}")
            hits = pyshacl_hits(rdf, shapes, vocab)
    return ShaclResult(findings_from(hits, rdf), vault, conforming(hits), tuple(notes))


def _store(rdf: VaultRdf, vocab: Graph) -> ox.Store:
    import pyoxigraph as ox

    from conceptgraph.rdf.sparql import load_store

    store = load_store(rdf)
    store.load(vocab.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES)
    return store


def pyshacl_hits(
    rdf: VaultRdf, shapes: Graph, vocab: Graph, only: Sequence[str] | None = None
) -> list[Hit]:
    """PySHACL's results for the vault's triples, of every shape or of those ``only`` names."""
    import pyshacl
    from rdflib.plugins import sparql

    # rdflib would fetch the graphs a FROM names; shapes are checked for FROM, and this too.
    sparql.SPARQL_LOAD_GRAPHS = False
    try:
        with _guarded():
            _, report, _ = pyshacl.validate(
                to_rdflib(rdf),
                shacl_graph=shapes,
                ont_graph=vocab,
                inference="none",
                advanced=True,
                allow_infos=True,
                allow_warnings=True,
                do_owl_imports=False,
                use_shapes=list(only) if only is not None else None,
            )
    except QueryError as exc:
        raise UsageError(f"SPARQL in shapes: {exc}") from None
    assert isinstance(report, Graph)
    return report_hits(report)
