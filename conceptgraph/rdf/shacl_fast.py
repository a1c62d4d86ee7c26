"""A SHACL Core validator over the vault's triples in memory: ``conceptgraph shacl``'s fast engine.

pySHACL (``--engine pyshacl``) is the reference; this engine gives the same validation results
(focus node, path, constraint component, severity, value: ``tests/test_shacl_engines.py``
compares them) at a fraction of the cost: 660,000 triples are indexed once, by predicate and
subject, and each shape walks that index, where pySHACL asks rdflib for every value.

What it does: every SHACL Core target and constraint component, property paths of every
kind, nested shapes, ``sh:deactivated``, ``sh:severity`` and ``sh:message``; SHACL-SPARQL
constraints (``sh:sparql`` with ``sh:select``) run on Oxigraph, with ``$this`` bound for each
focus node. What it leaves to pySHACL (``unsupported`` names the reason): the SHACL Advanced
Features (``sh:target``, ``sh:rule``, ``sh:expression``), SHACL-JS, constraint components a
shapes graph declares itself, ``$shapesGraph``, the inverse of a path that is not a predicate
and a shape that refers to itself. Such a shape goes to pySHACL alone, and the run says so.

Messages: a shape's ``sh:message`` where it has one, else a sentence of this engine's own in
the manner of pySHACL's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import partial
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING

from conceptgraph.rdf.triples import IRI, PREFIXES, RDF, RDFS, XSD, XSD_STRING, Literal

if TYPE_CHECKING:
    import pyoxigraph as ox
    from rdflib import Graph
    from rdflib.term import Node as RdfNode

SH = "http://www.w3.org/ns/shacl#"
XSD_BOOLEAN = XSD + "boolean"
RDF_LANGSTRING = RDF + "langString"
_TYPE = IRI(RDF + "type")
_SUBCLASS = IRI(RDFS + "subClassOf")
_RDFS_CLASS = IRI(RDFS + "Class")


@dataclass(frozen=True, slots=True)
class LangLiteral:
    """A literal with a language tag (the vocabulary's labels; notes carry none)."""

    value: str
    lang: str


@dataclass(frozen=True, slots=True)
class BNode:
    """A blank node, by its label in the graph it came from."""

    label: str


Node = IRI | Literal | LangLiteral | BNode


@dataclass(frozen=True, slots=True)
class Hit:
    """One validation result, as pySHACL's report states it."""

    focus: Node
    # The shape's sh:path as written: an IRI for a predicate path, else a blank node.
    path: Node | None
    value: Node | None
    component: str
    severity: str
    messages: tuple[str, ...]


class Unsupported(Exception):
    """A shape uses what this engine leaves to pySHACL; the message says what."""


# ----------------------------------------------------------------------------- the data graph

_SUBJECT_PREDICATE = itemgetter(0, 1)


class Data:
    """A data graph, indexed by predicate then subject (and the reverse, on first use)."""

    def __init__(
        self,
        triples: Iterable[tuple[Node, IRI, Node]],
        grouped: Iterable[tuple[Node, IRI, Node]] = (),
    ) -> None:
        """Index ``triples``, and ``grouped``: triples sorted by subject and predicate, unique.

        The vault's triples come grouped (``VaultRdf.triples``), and are taken a
        (subject, predicate) group at a time: 300,000 groups instead of 660,000 triples.
        """
        out: dict[IRI, dict[Node, list[Node]]] = {}
        for (s, p), group in groupby(grouped, _SUBJECT_PREDICATE):
            by_subject = out.get(p)
            if by_subject is None:
                by_subject = out[p] = {}
            by_subject[s] = [t[2] for t in group]
        for s, p, o in triples:
            by_subject = out.get(p)
            if by_subject is None:
                by_subject = out[p] = {}
            objects = by_subject.get(s)
            if objects is None:
                by_subject[s] = [o]
            elif o not in objects:
                objects.append(o)
        self.out = out
        self._in: dict[IRI, dict[Node, list[Node]]] = {}
        self._by_subject: dict[Node, list[IRI]] | None = None
        self._instances: dict[IRI, frozenset[Node]] = {}
        self._supers: dict[Node, frozenset[Node]] = {}
        self.sparql: SparqlData | None = None

    def objects(self, subject: Node, predicate: IRI) -> list[Node]:
        """The objects of ``subject predicate ?o``."""
        by_subject = self.out.get(predicate)
        if by_subject is None:
            return []
        return by_subject.get(subject, [])

    def subjects(self, predicate: IRI, obj: Node) -> list[Node]:
        """The subjects of ``?s predicate obj``."""
        reverse = self._in.get(predicate)
        if reverse is None:
            reverse = self._in[predicate] = {}
            for s, objects in self.out.get(predicate, {}).items():
                for o in objects:
                    reverse.setdefault(o, []).append(s)
        return reverse.get(obj, [])

    def subjects_of(self, predicate: IRI) -> Iterable[Node]:
        """Every subject with a ``predicate``."""
        return self.out.get(predicate, {}).keys()

    def objects_of(self, predicate: IRI) -> Iterator[Node]:
        """Every object of a ``predicate``."""
        for objects in self.out.get(predicate, {}).values():
            yield from objects

    def predicates(self, subject: Node) -> list[IRI]:
        """The predicates ``subject`` has (for ``sh:closed``)."""
        if self._by_subject is None:
            index: dict[Node, list[IRI]] = {}
            for p, by_subject in self.out.items():
                for s in by_subject:
                    index.setdefault(s, []).append(p)
            self._by_subject = index
        return self._by_subject.get(subject, [])

    def superclasses(self, cls: Node) -> frozenset[Node]:
        """``cls`` and every class it is a ``rdfs:subClassOf*`` of."""
        found = self._supers.get(cls)
        if found is None:
            found = frozenset(_closure([cls], lambda c: self.objects(c, _SUBCLASS)))
            self._supers[cls] = found
        return found

    def instances(self, cls: IRI) -> frozenset[Node]:
        """The SHACL instances of ``cls``: ``rdf:type/rdfs:subClassOf*``."""
        found = self._instances.get(cls)
        if found is None:
            classes = _closure([cls], lambda c: self.subjects(_SUBCLASS, c))
            found = frozenset(n for c in classes for n in self.subjects(_TYPE, c))
            self._instances[cls] = found
        return found

    def is_instance(self, node: Node, cls: Node) -> bool:
        """Whether ``node`` is a SHACL instance of ``cls``."""
        return any(cls in self.superclasses(t) for t in self.objects(node, _TYPE))


def _closure(start: Iterable[Node], step: Callable[[Node], Iterable[Node]]) -> list[Node]:
    seen: dict[Node, None] = dict.fromkeys(start)
    todo = list(seen)
    while todo:
        for nxt in step(todo.pop()):
            if nxt not in seen:
                seen[nxt] = None
                todo.append(nxt)
    return list(seen)


# ------------------------------------------------------------------------------------ paths


@dataclass(frozen=True, slots=True)
class Path:
    """A SHACL property path: ``kind`` is pred, inverse, seq, alt, star, plus or opt."""

    kind: str
    predicate: IRI | None = None
    parts: tuple[Path, ...] = ()

    def values(self, data: Data, focus: Node) -> list[Node]:
        """The value nodes the path reaches from ``focus`` (each once, in a stable order)."""
        if self.kind == "pred":
            assert self.predicate is not None
            return data.objects(focus, self.predicate)
        return list(dict.fromkeys(self._reach(data, [focus])))

    def _reach(self, data: Data, nodes: Sequence[Node]) -> Iterator[Node]:
        kind = self.kind
        if kind == "pred":
            assert self.predicate is not None
            for node in nodes:
                yield from data.objects(node, self.predicate)
        elif kind == "inverse":
            predicate = self.parts[0].predicate
            assert predicate is not None
            for node in nodes:
                yield from data.subjects(predicate, node)
        elif kind == "seq":
            current: Sequence[Node] = nodes
            for part in self.parts:
                current = list(dict.fromkeys(part._reach(data, current)))
            yield from current
        elif kind == "alt":
            for part in self.parts:
                yield from part._reach(data, nodes)
        else:
            inner = self.parts[0]
            if kind == "opt":
                yield from nodes
                yield from inner._reach(data, nodes)
                return
            reached = _closure(nodes, lambda n: inner._reach(data, [n]))
            if kind == "star":
                yield from reached
            else:  # plus: what one step or more reaches, the start only if a cycle leads back
                yield from _closure(
                    list(inner._reach(data, nodes)), lambda n: inner._reach(data, [n])
                )


# ------------------------------------------------------------------------------------ shapes

# A constraint's test of a focus node and its value nodes: what fails (a value node, None for
# the focus node itself, or a whole result).
Check = Callable[[Data, Node, list[Node]], Iterable["Hit | Node | None"]]


@dataclass(slots=True)
class Shape:
    """A node or property shape, read from the shapes graph."""

    node: Node
    path: Path | None = None
    path_node: Node | None = None
    severity: str = SH + "Violation"
    messages: tuple[str, ...] = ()
    deactivated: bool = False
    # (component IRI, check) in the order of the components' names; see _compile.
    # (component IRI, check, the message when the shape gives none), in the shape's order.
    checks: list[tuple[str, Check, tuple[str, ...]]] = field(default_factory=list)
    properties: list[Shape] = field(default_factory=list)
    targets: list[Callable[[Data], Iterable[Node]]] = field(default_factory=list)
    sparql: list[SparqlCheck] = field(default_factory=list)


_TARGETS = ("targetNode", "targetClass", "targetSubjectsOf", "targetObjectsOf")
_ADVANCED = {
    SH + "target": "sh:target (SHACL Advanced Features)",
    SH + "rule": "sh:rule (SHACL Advanced Features)",
    SH + "expression": "sh:expression (SHACL Advanced Features)",
    SH + "js": "SHACL-JS",
    SH + "jsLibrary": "SHACL-JS",
}
_NODE_KINDS = {
    SH + "IRI": (IRI,),
    SH + "BlankNode": (BNode,),
    SH + "Literal": (Literal, LangLiteral),
    SH + "BlankNodeOrIRI": (BNode, IRI),
    SH + "BlankNodeOrLiteral": (BNode, Literal, LangLiteral),
    SH + "IRIOrLiteral": (IRI, Literal, LangLiteral),
}


def term(node: RdfNode) -> Node:
    """Our term for an rdflib one."""
    from rdflib import BNode as RdfBNode
    from rdflib import Literal as RdfLiteral
    from rdflib import URIRef

    if isinstance(node, URIRef):
        return IRI(str(node))
    if isinstance(node, RdfLiteral):
        if node.language:
            return LangLiteral(str(node), node.language.lower())
        return Literal(str(node), str(node.datatype) if node.datatype else XSD_STRING)
    if isinstance(node, RdfBNode):
        return BNode(str(node))
    raise Unsupported(f"a term of kind {type(node).__name__}")


def graph_triples(graph: Graph) -> Iterator[tuple[Node, IRI, Node]]:
    """An rdflib graph's triples as ours."""
    for s, p, o in graph:
        predicate = term(p)
        assert isinstance(predicate, IRI)
        yield term(s), predicate, term(o)


class Shapes:
    """The shapes of a shapes graph, compiled; those this engine cannot run are set apart."""

    def __init__(self, graph: Data) -> None:
        self.graph = graph
        self._compiled: dict[Node, Shape] = {}
        self._compiling: set[Node] = set()
        self.declared = self._declared_parameters()
        self.top: list[Shape] = []
        # Shapes with targets that only pySHACL validates, and why.
        self.unsupported: dict[Node, str] = {}
        for node in self._with_targets():
            try:
                shape = self.shape(node)
            except Unsupported as exc:
                self.unsupported[node] = str(exc)
                continue
            self.top.append(shape)

    def _one(self, node: Node, name: str) -> Node | None:
        values = self.graph.objects(node, IRI(SH + name))
        return values[0] if values else None

    def _all(self, node: Node, name: str) -> list[Node]:
        return self.graph.objects(node, IRI(SH + name))

    def _list(self, head: Node) -> list[Node]:
        items: list[Node] = []
        seen: set[Node] = set()
        while head != IRI(RDF + "nil"):
            if head in seen:
                raise Unsupported("an RDF list that loops")
            seen.add(head)
            first = self.graph.objects(head, IRI(RDF + "first"))
            rest = self.graph.objects(head, IRI(RDF + "rest"))
            if len(first) != 1 or len(rest) != 1:
                raise Unsupported("an RDF list that is not well formed")
            items.append(first[0])
            head = rest[0]
        return items

    def _declared_parameters(self) -> set[IRI]:
        declared: set[IRI] = set()
        for component in self.graph.subjects(_TYPE, IRI(SH + "ConstraintComponent")):
            for parameter in self._all(component, "parameter"):
                for path in self._all(parameter, "path"):
                    if isinstance(path, IRI):
                        declared.add(path)
        return declared

    def _with_targets(self) -> list[Node]:
        """The shapes pySHACL validates on their own: those with a target, implicit ones too."""
        g = self.graph
        found: dict[Node, None] = {}
        for name in (*_TARGETS, "target"):
            found.update(dict.fromkeys(g.subjects_of(IRI(SH + name))))
        classes = set(_closure([_RDFS_CLASS], lambda c: g.subjects(_SUBCLASS, c)))
        for kind in ("NodeShape", "PropertyShape"):
            for node in g.subjects(_TYPE, IRI(SH + kind)):
                if any(t in classes for t in g.objects(node, _TYPE)):
                    found[node] = None
        return sorted(found, key=_key)

    def shape(self, node: Node) -> Shape:
        """The compiled shape at ``node`` (a recursive reference is left to pySHACL)."""
        done = self._compiled.get(node)
        if done is not None:
            return done
        if node in self._compiling:
            raise Unsupported("a shape that refers to itself")
        self._compiling.add(node)
        try:
            shape = self._compile(node)
        finally:
            self._compiling.discard(node)
        self._compiled[node] = shape
        return shape

    def _compile(self, node: Node) -> Shape:
        g = self.graph
        for predicate in g.predicates(node):
            reason = _ADVANCED.get(predicate.value)
            if reason is not None:
                raise Unsupported(reason)
            if predicate in self.declared:
                raise Unsupported(
                    f"a constraint component the shapes declare (<{predicate.value}>)"
                )
        shape = Shape(node)
        path_node = self._one(node, "path")
        if path_node is not None:
            shape.path_node = path_node
            shape.path = self._path(path_node)
        severity = self._one(node, "severity")
        if isinstance(severity, IRI):
            shape.severity = severity.value
        shape.messages = tuple(_text(m) for m in self._all(node, "message"))
        shape.deactivated = any(_true(v) for v in self._all(node, "deactivated"))
        shape.targets = self._targets(node)
        _constraints(self, shape)
        return shape

    def _targets(self, node: Node) -> list[Callable[[Data], Iterable[Node]]]:
        g = self.graph
        found: list[Callable[[Data], Iterable[Node]]] = []
        nodes = self._all(node, "targetNode")
        if nodes:
            found.append(partial(_given, tuple(nodes)))
        classes = [c for c in self._all(node, "targetClass") if isinstance(c, IRI)]
        rdfs_classes = set(_closure([_RDFS_CLASS], lambda c: g.subjects(_SUBCLASS, c)))
        if isinstance(node, IRI) and any(t in rdfs_classes for t in g.objects(node, _TYPE)):
            classes.append(node)
        found.extend(partial(Data.instances, cls=cls) for cls in classes)
        for predicate in self._all(node, "targetSubjectsOf"):
            if isinstance(predicate, IRI):
                found.append(partial(Data.subjects_of, predicate=predicate))
        for predicate in self._all(node, "targetObjectsOf"):
            if isinstance(predicate, IRI):
                found.append(partial(Data.objects_of, predicate=predicate))
        return found

    def _path(self, node: Node) -> Path:
        if isinstance(node, IRI):
            return Path("pred", node)
        if not isinstance(node, BNode):
            raise Unsupported("a path that is a literal")
        if self.graph.objects(node, IRI(RDF + "first")):
            return Path("seq", parts=tuple(self._path(n) for n in self._list(node)))
        for name, kind in (
            ("inversePath", "inverse"),
            ("zeroOrMorePath", "star"),
            ("oneOrMorePath", "plus"),
            ("zeroOrOnePath", "opt"),
        ):
            inner = self._one(node, name)
            if inner is not None:
                if kind == "inverse" and not isinstance(inner, IRI):
                    raise Unsupported("sh:inversePath of a path that is not a predicate")
                return Path(kind, parts=(self._path(inner),))
        alternatives = self._one(node, "alternativePath")
        if alternatives is not None:
            return Path("alt", parts=tuple(self._path(n) for n in self._list(alternatives)))
        raise Unsupported("a path of a kind SHACL does not define")


def _given(nodes: tuple[Node, ...], data: Data) -> tuple[Node, ...]:
    return nodes


def _key(node: Node) -> tuple[str, str]:
    return type(node).__name__, str(node)


def _text(node: Node) -> str:
    return node.label if isinstance(node, BNode) else node.value


def _true(node: Node) -> bool:
    return isinstance(node, Literal) and node.value in ("true", "1")


# ------------------------------------------------------------------------------ constraints


def _constraints(shapes: Shapes, shape: Shape) -> None:
    """Fill ``shape.checks`` and ``shape.properties`` from its constraint parameters."""
    checks = shape.checks
    one, every = shapes._one, shapes._all
    node = shape.node

    def add(name: str, check: Check, said: str) -> None:
        checks.append((SH + name + "ConstraintComponent", check, (said,)))

    show = _show_node

    for cls in every(node, "class"):
        add("Class", _each(partial(_of_class, cls)), f"Value does not have class {show(cls)}")
    for datatype in every(node, "datatype"):
        add(
            "Datatype",
            _each(partial(_of_datatype, datatype)),
            f"Value is not Literal with datatype {show(datatype)}",
        )
    for kind in every(node, "nodeKind"):
        kinds = _NODE_KINDS.get(_text(kind))
        if kinds is None:
            raise Unsupported(f"sh:nodeKind {_text(kind)}")
        add("NodeKind", _each(partial(_of_kind, kinds)), f"Value is not of Node Kind {show(kind)}")
    if shape.path is not None:
        for count in every(node, "minCount"):
            add("MinCount", _count(_int(count), None), f"Less than {_int(count)} values")
        for count in every(node, "maxCount"):
            add("MaxCount", _count(0, _int(count)), f"More than {_int(count)} values")
    for name, allowed in _RANGES.items():
        for bound in every(node, name):
            add(
                name[0].upper() + name[1:],
                _each(partial(_in_range, bound, allowed)),
                f"Value is not {_RANGE_WORDS[name]} {show(bound)}",
            )
    for bound in every(node, "minLength"):
        said = f"String length not >= {_int(bound)}"
        add("MinLength", _each(partial(_long_enough, _int(bound), None)), said)
    for bound in every(node, "maxLength"):
        said = f"String length not <= {_int(bound)}"
        add("MaxLength", _each(partial(_long_enough, 0, _int(bound))), said)
    for pattern in every(node, "pattern"):
        flags = one(node, "flags")
        regex = _regex(_text(pattern), _text(flags) if flags is not None else "")
        said = f"Value does not match pattern {_text(pattern)!r}"
        add("Pattern", _each(partial(_matches, regex)), said)
    for head in every(node, "languageIn"):
        ranges = tuple(_text(r).lower() for r in shapes._list(head))
        said = f"String language is not in {list(ranges)}"
        add("LanguageIn", _each(partial(_language_in, ranges)), said)
    if shape.path is not None and any(_true(v) for v in every(node, "uniqueLang")):
        add("UniqueLang", _unique_lang, "More than one String shares the same Language")
    pairs: dict[str, Callable[[IRI], Check]] = {
        "equals": _equals,
        "disjoint": _disjoint,
        "lessThan": partial(_less_than, True),
        "lessThanOrEquals": partial(_less_than, False),  # the bound may equal the value
    }
    for name, pair in pairs.items():
        for other in every(node, name):
            if not isinstance(other, IRI):
                raise Unsupported(f"sh:{name} of a non-IRI")
            if name.startswith("less") and shape.path is None:
                continue  # SHACL defines these on property shapes only, and pySHACL skips them
            said = f"Value of the path {_PAIR_WORDS[name]} {show(other)}"
            add(name[0].upper() + name[1:], pair(other), said)
    for inner in every(node, "not"):
        said = f"Value must not conform to shape {show(inner)}"
        add("Not", _each(partial(_conforms_to, (shapes.shape(inner),), "not")), said)
    for name in ("and", "or", "xone"):
        for head in every(node, name):
            members = tuple(shapes.shape(m) for m in shapes._list(head))
            said = f"Value must conform to {_LOGIC_WORDS[name]} of {len(members)} shapes"
            add(name[0].upper() + name[1:], _each(partial(_conforms_to, members, name)), said)
    for inner in every(node, "node"):
        said = f"Value does not conform to Shape {show(inner)}"
        add("Node", _each(partial(_conforms_to, (shapes.shape(inner),), "and")), said)
    for inner in every(node, "property"):
        shape.properties.append(shapes.shape(inner))
    for inner in every(node, "qualifiedValueShape"):
        # Its results name sh:qualifiedMinCount's or sh:qualifiedMaxCount's component.
        said = f"Focus node has the wrong number of values conforming to {show(inner)}"
        add("QualifiedValueShape", _qualified(shapes, shape, inner), said)
    if any(_true(v) for v in every(node, "closed")):
        declared: set[Node] = {
            p for prop in every(node, "property") for p in every(prop, "path") if isinstance(p, IRI)
        }
        for head in every(node, "ignoredProperties"):
            declared.update(shapes._list(head))
        add("Closed", _closed(declared), "Node is closed: it cannot have this property")
    for value in every(node, "hasValue"):
        add("HasValue", _has_value(value), f"Node does not have value {show(value)}")
    for head in every(node, "in"):
        members_in = shapes._list(head)
        said = f"Value is not in ({', '.join(show(m) for m in members_in)})"
        add("In", _each(partial(_among, frozenset(members_in))), said)
    for sparql in every(node, "sparql"):
        check = SparqlCheck(shapes, shape, sparql)
        shape.sparql.append(check)
        add("SPARQL", check, "Value does not satisfy a SPARQL constraint")


_RANGE_WORDS = {
    "minExclusive": ">",
    "minInclusive": ">=",
    "maxExclusive": "<",
    "maxInclusive": "<=",
}
_PAIR_WORDS = {
    "equals": "!= the values of",
    "disjoint": "is also a value of",
    "lessThan": "is not < the values of",
    "lessThanOrEquals": "is not <= the values of",
}
_LOGIC_WORDS = {"and": "each", "or": "one or more", "xone": "exactly one"}


def _of_class(cls: Node, data: Data, value: Node) -> bool:
    return data.is_instance(value, cls)


def _of_datatype(datatype: Node, data: Data, value: Node) -> bool:
    return _has_datatype(value, datatype)


def _of_kind(kinds: tuple[type, ...], data: Data, value: Node) -> bool:
    return isinstance(value, kinds)


# Which outcomes of comparing a value with the bound each range constraint allows.
_RANGES: Mapping[str, frozenset[int]] = {
    "minExclusive": frozenset({1}),
    "minInclusive": frozenset({0, 1}),
    "maxExclusive": frozenset({-1}),
    "maxInclusive": frozenset({-1, 0}),
}


def _in_range(bound: Node, allowed: frozenset[int], data: Data, value: Node) -> bool:
    return _compare(value, bound) in allowed


def _long_enough(low: int, high: int | None, data: Data, value: Node) -> bool:
    if isinstance(value, BNode):
        return False
    size = len(_text(value))
    return size >= low and (high is None or size <= high)


def _matches(regex: re.Pattern[str], data: Data, value: Node) -> bool:
    return not isinstance(value, BNode) and bool(regex.search(_text(value)))


def _among(members: frozenset[Node], data: Data, value: Node) -> bool:
    return value in members


def _conforms_to(members: tuple[Shape, ...], how: str, data: Data, value: Node) -> bool:
    if how == "not":
        return not conforms(members[0], data, value)
    count = sum(conforms(m, data, value) for m in members)
    return count == len(members) if how == "and" else count >= 1 if how == "or" else count == 1


def _int(node: Node) -> int:
    try:
        return int(_text(node))
    except ValueError:
        raise Unsupported(f"a count that is not an integer ({_text(node)!r})") from None


def _each(ok: Callable[[Data, Node], bool]) -> Check:
    """A check of each value node on its own: each that fails is a result with that value."""

    def check(data: Data, focus: Node, values: list[Node]) -> list[Node]:
        return [value for value in values if not ok(data, value)]

    return check


def _count(low: int, high: int | None) -> Check:
    def check(data: Data, focus: Node, values: list[Node]) -> tuple[None, ...]:
        if len(values) < low or (high is not None and len(values) > high):
            return (None,)
        return ()

    return check


# The lexical spaces of the datatypes pySHACL tells ill-typed literals of.
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_DOUBLE = re.compile(r"[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|INF)|-INF|NaN")
_DATE = re.compile(r"-?\d{4,}-\d\d-\d\d(Z|[+-]\d\d:\d\d)?")
_DATETIME = re.compile(r"-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")
_INTEGER_RANGES: Mapping[str, tuple[float, float]] = {
    "integer": (-math.inf, math.inf),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-128, 127),
    "nonNegativeInteger": (0, math.inf),
    "positiveInteger": (1, math.inf),
    "nonPositiveInteger": (-math.inf, 0),
    "negativeInteger": (-math.inf, -1),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 255),
}


def _well_formed(literal: Literal) -> bool:
    local = literal.datatype.removeprefix(XSD)
    if local == literal.datatype:
        return True
    text = literal.value
    if local in _INTEGER_RANGES:
        low, high = _INTEGER_RANGES[local]
        return bool(_INTEGER.fullmatch(text)) and low <= int(text) <= high
    if local == "boolean":
        return text in ("true", "false", "1", "0")
    if local == "decimal":
        return bool(_DECIMAL.fullmatch(text))
    if local in ("double", "float"):
        return bool(_DOUBLE.fullmatch(text))
    if local == "date":
        return bool(_DATE.fullmatch(text))
    if local == "dateTime":
        return bool(_DATETIME.fullmatch(text))
    return True


def _has_datatype(value: Node, datatype: Node) -> bool:
    if value.__class__ is Literal and datatype.__class__ is IRI:
        # The common case, first: a text property of a note.
        matches = value.datatype == datatype.value
        return matches and (value.datatype == XSD_STRING or _well_formed(value))
    if isinstance(value, LangLiteral):
        return isinstance(datatype, IRI) and datatype.value == RDF_LANGSTRING
    if not isinstance(value, Literal) or not isinstance(datatype, IRI):
        return False
    return value.datatype == datatype.value and _well_formed(value)


_NUMERIC = {XSD + name for name in ("decimal", "double", "float", *_INTEGER_RANGES)}


def _number(literal: Literal) -> Decimal | float | None:
    if literal.datatype not in _NUMERIC or not _well_formed(literal):
        return None
    if literal.datatype in (XSD + "double", XSD + "float"):
        return float(literal.value.replace("INF", "inf"))
    try:
        return Decimal(literal.value)
    except InvalidOperation:
        return None


def _compare(a: Node, b: Node) -> int | None:
    """-1, 0 or 1 as ``a`` is below, equal to or above ``b``; None when they do not compare."""
    if not isinstance(a, Literal) or not isinstance(b, Literal):
        return None
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        if isinstance(x, float) or isinstance(y, float):
            x, y = float(x), float(y)
            if math.isnan(x) or math.isnan(y):
                return None
        return (x > y) - (x < y)
    comparable = {XSD_STRING, XSD + "date", XSD + "dateTime", XSD + "time"}
    if a.datatype == b.datatype and a.datatype in comparable:
        if a.datatype != XSD_STRING and not (_well_formed(a) and _well_formed(b)):
            return None
        return (a.value > b.value) - (a.value < b.value)
    return None


def _regex(pattern: str, flags: str) -> re.Pattern[str]:
    bits = 0
    for flag, bit in (("i", re.IGNORECASE), ("s", re.DOTALL), ("m", re.MULTILINE), ("x", re.X)):
        if flag in flags:
            bits |= bit
    try:
        return re.compile(pattern, bits)
    except re.error as exc:
        raise Unsupported(f"sh:pattern {pattern!r}: {exc}") from None


def _language_in(ranges: Sequence[str], data: Data, value: Node) -> bool:
    if not isinstance(value, LangLiteral):
        return False
    lang = value.lang.lower()
    return any(r == "*" or lang == r or lang.startswith(r + "-") for r in ranges)


def _unique_lang(data: Data, focus: Node, values: list[Node]) -> Iterator[None]:
    seen: dict[str, int] = {}
    for value in values:
        if isinstance(value, LangLiteral):
            seen[value.lang] = seen.get(value.lang, 0) + 1
    for count in seen.values():
        if count > 1:
            yield None


def _equals(other: IRI) -> Check:
    def check(data: Data, focus: Node, values: list[Node]) -> Iterator[Node]:
        theirs = data.objects(focus, other)
        yield from (v for v in values if v not in theirs)
        yield from (v for v in theirs if v not in values)

    return check


def _disjoint(other: IRI) -> Check:
    def check(data: Data, focus: Node, values: list[Node]) -> Iterator[Node]:
        theirs = data.objects(focus, other)
        yield from (v for v in values if v in theirs)

    return check


def _less_than(strict: bool, other: IRI) -> Check:
    def check(data: Data, focus: Node, values: list[Node]) -> Iterator[Node]:
        theirs = data.objects(focus, other)
        for value in values:
            for bound in theirs:
                found = _compare(value, bound)
                if found is None or found > 0 or (strict and found == 0):
                    yield value

    return check


def _has_value(wanted: Node) -> Check:
    def check(data: Data, focus: Node, values: list[Node]) -> Iterator[None]:
        if wanted not in values:
            yield None

    return check


def _closed(allowed: set[Node]) -> Check:
    def check(data: Data, focus: Node, values: list[Node]) -> Iterator[Hit]:
        for value in values:
            for predicate in data.predicates(value):
                if predicate in allowed:
                    continue
                for obj in data.objects(value, predicate):
                    # The path of this result is the predicate at fault: see _results.
                    yield Hit(value, predicate, obj, SH + "ClosedConstraintComponent", "", ())

    return check


def _qualified(shapes: Shapes, shape: Shape, inner: Node) -> Check:
    node = shape.node
    qualified = shapes.shape(inner)
    low = [_int(n) for n in shapes._all(node, "qualifiedMinCount")]
    high = [_int(n) for n in shapes._all(node, "qualifiedMaxCount")]
    siblings: list[Shape] = []
    if any(_true(v) for v in shapes._all(node, "qualifiedValueShapesDisjoint")):
        for parent in shapes.graph.subjects(IRI(SH + "property"), node):
            for prop in shapes._all(parent, "property"):
                for other in shapes._all(prop, "qualifiedValueShape"):
                    if other != inner:
                        siblings.append(shapes.shape(other))

    def check(data: Data, focus: Node, values: list[Node]) -> Iterator[Hit]:
        count = sum(
            1
            for v in values
            if conforms(qualified, data, v) and not any(conforms(s, data, v) for s in siblings)
        )
        for m in low:
            if count < m:
                yield Hit(focus, None, None, SH + "QualifiedMinCountConstraintComponent", "", ())
        for m in high:
            if count > m:
                yield Hit(focus, None, None, SH + "QualifiedMaxCountConstraintComponent", "", ())

    return check


# ---------------------------------------------------------------------------- SHACL-SPARQL


class SparqlData:
    """The data graph in Oxigraph, loaded on first use by a SHACL-SPARQL constraint."""

    def __init__(self, load: Callable[[], ox.Store]) -> None:
        self._load = load
        self._store: ox.Store | None = None

    def store(self) -> ox.Store:
        """The store (loaded now if not yet)."""
        if self._store is None:
            self._store = self._load()
        return self._store


_PN_PREFIX = re.compile(r"[A-Za-z]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?|")
_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20<>\"{}|\\^`]*")


# Focus nodes per query, when one query answers for many.
_BATCH = 2_000
_THIS = re.compile(r"[?$]this\b")
_SELECT = re.compile(r"\bselect\b", re.IGNORECASE)


class SparqlCheck:
    """A SHACL-SPARQL constraint: its SELECT, with ``$this`` bound by a ``VALUES`` block.

    The block goes first in the query's outermost group, which binds ``$this`` before the
    rest is matched, as pre-binding does. When the query selects ``$this``, one query answers
    for many focus nodes (``prefetch``); else each focus node has a query of its own.
    """

    def __init__(self, shapes: Shapes, shape: Shape, node: Node) -> None:
        from conceptgraph.errors import QueryError
        from conceptgraph.rdf.sparql import _scan, check_query

        g = shapes.graph
        self.shape = shape
        self.deactivated = any(_true(v) for v in shapes._all(node, "deactivated"))
        selects = shapes._all(node, "select")
        if len(selects) != 1:
            raise Unsupported("a SPARQL constraint without exactly one sh:select")
        prefixes: dict[str, str] = {}
        imports = IRI("http://www.w3.org/2002/07/owl#imports")
        for owner in shapes._all(node, "prefixes"):
            for declared in _closure([owner], lambda n: g.objects(n, imports)):
                for declaration in shapes._all(declared, "declare"):
                    prefix = shapes._one(declaration, "prefix")
                    namespace = shapes._one(declaration, "namespace")
                    if prefix is None or namespace is None:
                        continue
                    name, iri = _text(prefix), _text(namespace)
                    # pySHACL pastes these in raw; here each must be what it says it is.
                    if not _PN_PREFIX.fullmatch(name) or not _ABSOLUTE_IRI.fullmatch(iri):
                        raise QueryError(
                            f"shape {_show_node(shape.node)}: sh:declare of {name!r} <{iri}> "
                            "is not a prefix and a namespace IRI"
                        )
                    prefixes[name] = iri
        body = _text(selects[0])
        if shape.path is not None:
            body = body.replace("$PATH", _path_sparql(shape.path))
        text = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items()) + body
        source = f"the SPARQL of shape {_show_node(shape.node)}"
        check_query(text, graphs=(), source=source)
        code = _scan(text, source).code
        brace = code.find("{")
        if brace == -1:
            raise Unsupported("a SPARQL constraint with no WHERE group")
        selected = list(_SELECT.finditer(code, 0, brace))
        head = text[selected[-1].end() : brace] if selected else ""
        self.batched = bool(_THIS.search(head)) or head.strip().startswith("*")
        self.before, self.after = text[: brace + 1], text[brace + 1 :]
        if re.search(r"[?$]shapesGraph\b", text):
            raise Unsupported("$shapesGraph in a SPARQL constraint")
        self.current: str | None = None
        if re.search(r"[?$]currentShape\b", text):
            self.current = _sparql_term(shape.node)
        self.messages = tuple(_text(m) for m in shapes._all(node, "message")) or shape.messages
        self.answers: dict[Node, list[Hit]] = {}

    def _run(self, data: Data, nodes: Sequence[Node]) -> dict[Node, list[Hit]]:
        import pyoxigraph as ox

        if data.sparql is None:
            raise Unsupported("SHACL-SPARQL without a store")
        if self.current is None:
            values = " ".join(_sparql_term(n) for n in nodes)
            text = f"{self.before} VALUES $this {{ {values} }} {self.after}"
        else:
            values = " ".join(f"({_sparql_term(n)} {self.current})" for n in nodes)
            text = f"{self.before} VALUES ($this $currentShape) {{ {values} }} {self.after}"
        solutions = data.sparql.store().query(text, use_default_graph_as_union=True)
        assert isinstance(solutions, ox.QuerySolutions)
        found: dict[Node, list[Hit]] = {n: [] for n in nodes}
        path_node = self.shape.path_node
        for row in solutions:
            failure = row["failure"] if "failure" in _names(solutions) else None
            if failure is not None and getattr(failure, "value", "") == "true":
                raise Unsupported("a SPARQL constraint that reported ?failure")
            focus = _from_ox(row["this"]) if self.batched else nodes[0]
            value = row["value"] if "value" in _names(solutions) else None
            path = row["path"] if "path" in _names(solutions) else None
            found.setdefault(focus, []).append(
                Hit(
                    focus,
                    _from_ox(path) if path is not None else path_node,
                    _from_ox(value)
                    if value is not None
                    else (focus if self.shape.path is None else None),
                    SH + "SPARQLConstraintComponent",
                    "",
                    tuple(_fill(m, row, _names(solutions)) for m in self.messages),
                )
            )
        return found

    def prefetch(self, data: Data, nodes: Sequence[Node]) -> None:
        """Answer for many focus nodes now, a batch to a query, when the query allows."""
        if not self.batched or self.deactivated:
            return
        for start in range(0, len(nodes), _BATCH):
            self.answers.update(self._run(data, nodes[start : start + _BATCH]))

    def __call__(self, data: Data, focus: Node, values: list[Node]) -> Iterator[Hit]:
        """The results for one focus node: prefetched, or from a query of its own."""
        if self.deactivated:
            return iter(())
        found = self.answers.get(focus)
        if found is None:
            found = self._run(data, [focus]).get(focus, [])
        return iter(found)


def _names(solutions: ox.QuerySolutions) -> set[str]:
    return {v.value for v in solutions.variables}


def _sparql_term(node: Node) -> str:
    if isinstance(node, IRI):
        return f"<{node.value}>"
    if isinstance(node, BNode):
        raise Unsupported("a blank node as the focus of a SPARQL constraint")
    text = node.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    text = text.replace("\r", "\\r")
    if isinstance(node, LangLiteral):
        return f'"{text}"@{node.lang}'
    return f'"{text}"^^<{node.datatype}>'


def _fill(message: str, row: ox.QuerySolution, names: set[str]) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            return match.group(0)
        found = row[match.group(1)]
        return match.group(0) if found is None else str(getattr(found, "value", found))

    return re.sub(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}", one, message)


def _path_sparql(path: Path) -> str:
    if path.kind == "pred":
        assert path.predicate is not None
        return f"<{path.predicate.value}>"
    inner = [_path_sparql(p) for p in path.parts]
    return {
        "inverse": lambda: f"^({inner[0]})",
        "seq": lambda: "/".join(f"({i})" for i in inner),
        "alt": lambda: "|".join(f"({i})" for i in inner),
        "star": lambda: f"({inner[0]})*",
        "plus": lambda: f"({inner[0]})+",
        "opt": lambda: f"({inner[0]})?",
    }[path.kind]()


def _ox(node: Node) -> ox.NamedNode | ox.Literal | ox.BlankNode:
    import pyoxigraph as ox

    if isinstance(node, IRI):
        return ox.NamedNode(node.value)
    if isinstance(node, Literal):
        return ox.Literal(node.value, datatype=ox.NamedNode(node.datatype))
    if isinstance(node, LangLiteral):
        return ox.Literal(node.value, language=node.lang)
    return ox.BlankNode(node.label)


def _from_ox(node: object) -> Node:
    import pyoxigraph as ox

    if isinstance(node, ox.NamedNode):
        return IRI(node.value)
    if isinstance(node, ox.Literal):
        if node.language:
            return LangLiteral(node.value, node.language.lower())
        return Literal(node.value, node.datatype.value)
    if isinstance(node, ox.BlankNode):
        return BNode(node.value)
    raise Unsupported(f"a SPARQL result of kind {type(node).__name__}")


def _show_node(node: Node) -> str:
    if isinstance(node, IRI):
        for prefix, namespace in PREFIXES.items():
            if node.value.startswith(namespace) and len(node.value) > len(namespace):
                return f"{prefix}:{node.value[len(namespace) :]}"
        return f"<{node.value}>"
    if isinstance(node, BNode):
        return f"_:{node.label}"
    return repr(node.value)


# ------------------------------------------------------------------------------- validation


def conforms(shape: Shape, data: Data, node: Node) -> bool:
    """Whether ``node`` conforms to ``shape`` (a deactivated shape: always)."""
    found: list[Hit] = []
    _collect(shape, data, node, found)
    return not found


def _collect(shape: Shape, data: Data, focus: Node, out: list[Hit]) -> None:
    """Add the results of ``focus`` against ``shape`` to ``out``.

    Lists, not generators: a vault of 10,000 notes has 400,000 (shape, focus node) pairs, and
    nearly all of them conform.
    """
    if shape.deactivated:
        return
    path = shape.path
    if path is None:
        values = [focus]
    elif path.kind == "pred":
        by_subject = data.out.get(path.predicate)  # type: ignore[arg-type]
        values = by_subject.get(focus, _NONE) if by_subject is not None else _NONE
    else:
        values = path.values(data, focus)
    for component, check, default in shape.checks:
        for found in check(data, focus, values):
            if isinstance(found, Hit):
                out.append(
                    Hit(
                        found.focus,
                        found.path if found.path is not None else shape.path_node,
                        found.value,
                        found.component,
                        shape.severity,
                        found.messages or shape.messages or default,
                    )
                )
                continue
            value = found if found is not None else (focus if path is None else None)
            said = shape.messages or default
            out.append(Hit(focus, shape.path_node, value, component, shape.severity, said))
    for prop in shape.properties:
        for value in values:
            _collect(prop, data, value, out)


_NONE: list[Node] = []


def validate(shapes: Shapes, data: Data) -> list[Hit]:
    """Every result of validating ``data`` against the shapes this engine can run."""
    hits: list[Hit] = []
    for shape in shapes.top:
        if shape.deactivated:
            continue
        focus_nodes: dict[Node, None] = {}
        for target in shape.targets:
            focus_nodes.update(dict.fromkeys(target(data)))
        _prefetch(shape, data, list(focus_nodes))
        for focus in focus_nodes:
            _collect(shape, data, focus, hits)
    return hits


def _prefetch(shape: Shape, data: Data, nodes: list[Node]) -> None:
    for check in shape.sparql:
        check.prefetch(data, nodes)
    for prop in shape.properties:
        if prop.sparql or prop.properties:
            assert prop.path is not None
            reached = dict.fromkeys(v for n in nodes for v in prop.path.values(data, n))
            _prefetch(prop, data, list(reached))
