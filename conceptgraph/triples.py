"""Vault -> RDF triples: SKOS for the concepts, our vocabulary for the rest; no RDF library.

The export formats, ``query`` and ``shacl`` all start here, so they agree on every triple. This
module stays free of rdflib and pyoxigraph: each consumer turns these plain terms into its own.

What a vault becomes (``cg:`` is ``https://w3id.org/conceptgraph/vocab#``, shipped as
``conceptgraph/data/vocab.ttl``)::

    <base>                   a skos:ConceptScheme; dcterms:title "notes".
    <base>migration          a skos:Concept, cg:Note; skos:inScheme <base>;
                             skos:prefLabel "Migration"; skos:altLabel "transition";
                             skos:definition "..."; cg:conceptType "mechanism"; cg:layer ...;
                             cg:dependsOn <base>propagation; cg:isNot <base>rename;
                             cg:negation <base>migration:negation:1;
                             cg:hasResidual <base>migration:residual:1;
                             cg:path "migration.md"; cg:line 12; cg:column 1.
    <base>migration:residual:1  a cg:Residual; rdfs:label "mapping residue (...)".
    <base>migration:negation:1  a cg:Negation; cg:negatedConcept <base>rename; cg:reason "...".
    <base>concept:ghost      a skos:Concept, cg:ConceptWithoutNote (named, but no note).
    <base>diagram.png        a cg:Attachment.

IRIs: ``base`` (``--base``; by default ``urn:conceptgraph:<vault folder name>:``) followed by
the note's vault path without ``.md``, percent-encoded (UTF-8 of the NFC name; everything but
ASCII letters, digits, ``-._~`` and ``/``), so any file name gives a valid IRI. A path part
therefore never holds a raw ``:``, and the resources that are not files use one: a note's
residuals and negations add ``:residual:N`` and ``:negation:N``, a concept without a note is
``concept:<key>``; no two resources can share an IRI, and Turtle and SPARQL can write each as
a prefixed name (``vault:migration:residual:1``). When two files would share an IRI (``a.md``
and ``a.MD``, or ``x.png.md`` and ``x.png``), both keep their whole path instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from conceptgraph.errors import ExportError
from conceptgraph.model import NoteRecord, Span
from conceptgraph.names import heading_key, strip_comments
from conceptgraph.vault import Vault, gc_paused, is_note_path, note_aliases

CG = "https://w3id.org/conceptgraph/vocab#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"

# The prefixes every output binds and every query may use without declaring them.
PREFIXES: Mapping[str, str] = {
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "prov": PROV,
    "cg": CG,
}

XSD_STRING = XSD + "string"
XSD_BOOLEAN = XSD + "boolean"
XSD_INTEGER = XSD + "integer"


class IRI(NamedTuple):
    """An absolute IRI."""

    value: str


class Literal(NamedTuple):
    """A literal: its lexical form and datatype (no language tags: notes do not declare one)."""

    value: str
    datatype: str = XSD_STRING


Term = IRI | Literal
Triple = tuple[IRI, IRI, Term]


@dataclass(frozen=True, slots=True)
class Source:
    """Where in the vault a resource, or one of its properties, was written."""

    path: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class VaultRdf:
    """A vault as triples (sorted, no duplicates) and where each subject came from."""

    base: str
    triples: tuple[Triple, ...]
    # (subject IRI, predicate IRI) -> where that property was written; (subject IRI, "") -> the
    # resource itself (a note's title, a bullet's line).
    sources: Mapping[tuple[str, str], Source]

    def source(self, subject: str, predicate: str = "") -> Source | None:
        """Where a subject's property (or, failing that, the subject) was written, if known."""
        found = self.sources.get((subject, predicate)) if predicate else None
        return found or self.sources.get((subject, ""))


# Predicates of the graph's edge kinds; alias edges become skos:altLabel literals instead.
EDGE_PREDICATES: Mapping[str, str] = {
    "dependency": CG + "dependsOn",
    "residual": CG + "hasResidual",
    "negation": CG + "isNot",
    "canonical": CG + "canonicalOf",
    "link": CG + "linksTo",
    "embed": CG + "embeds",
}
# Note properties (frontmatter keys) and their predicates.
PROPERTY_PREDICATES: Mapping[str, str] = {
    "type": CG + "conceptType",
    "layer": CG + "layer",
    "role": CG + "role",
    "note_kind": CG + "noteKind",
    "canonical": CG + "canonical",
}

_BASE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20<>\"{}|\\^`\x7f]*")
# XML 1.0 cannot hold these characters at all, so RDF/XML could not carry a literal with them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LINE_END = re.compile(r"\r\n?")
_UNSAFE = re.compile(f"\r|{_NOT_XML.pattern}")
_BLOCK_ID = re.compile(r"\s+\^[A-Za-z0-9-]+\s*$")
_BLANK_LINES = re.compile(r"\n{3,}")


def encode(text: str) -> str:
    """Percent-encode a path or name for an IRI: only ASCII letters, digits, ``-._~/`` stay."""
    return quote(unicodedata.normalize("NFC", text), safe="/")


def default_base(root: Path) -> str:
    """``urn:conceptgraph:<vault folder name>:``: stable, and no pretence of a web address.

    Only the folder's name counts, so a clone anywhere exports the same IRIs.
    """
    return f"urn:conceptgraph:{quote(root.name or 'vault', safe='')}:"


def check_base(base: str) -> str:
    """The base IRI if it can prefix every IRI of the vault; an ``ExportError`` saying why not."""
    if not _BASE.fullmatch(base):
        raise ExportError(
            f"--base {base!r} is not an absolute IRI (scheme:..., with no spaces, quotes, "
            "<, >, {, }, |, \\, ^ or `)"
        )
    if not base.endswith(("/", "#", ":")):
        raise ExportError(f"--base {base!r} must end in '/', '#' or ':' so names can follow it")
    if base.count("#") > 1:
        raise ExportError(f"--base {base!r} holds more than one '#'")
    scheme = base.split(":", 1)[0].lower()
    if scheme in PREFIXES or scheme == "vault":
        # JSON-LD and SPARQL would read "skos:..." as a prefixed name, not as an IRI.
        raise ExportError(f"--base {base!r} starts like the prefix {scheme}: use another scheme")
    return base


def text_literal(text: str) -> Literal:
    """A string literal every format carries unchanged: LF line ends, no XML-illegal characters.

    RDF/XML parsers turn CR LF into LF and cannot read control characters, so they would not
    read back what we wrote; U+FFFD stands in for the latter.
    """
    if _UNSAFE.search(text) is None:
        return Literal(text)
    return Literal(_NOT_XML.sub("\ufffd", _LINE_END.sub("\n", text)))


def definition(note: NoteRecord) -> tuple[str, Span] | None:
    """The text of a note's first ``Definition`` section, as written, and its heading's span.

    Comments (``<!-- -->``, ``%% %%``) and trailing block ids (``^id``) are dropped, as Obsidian
    hides them; runs of blank lines become one.
    """
    section = next((s for s in note.sections if heading_key(s.title) == "definition"), None)
    if section is None:
        return None
    lines = note.lines()[max(section.span.line, section.span.end_line) : section.end_line]
    body = strip_comments("\n".join(_BLOCK_ID.sub("", line) for line in lines))
    text = _BLANK_LINES.sub("\n\n", "\n".join(line.rstrip() for line in body.split("\n")))
    text = text.strip()
    return (text, section.span) if text else None


def _value(value: object) -> Literal:
    if isinstance(value, bool):
        return Literal("true" if value else "false", XSD_BOOLEAN)
    return text_literal(str(value))


def _integer(value: int) -> Literal:
    return Literal(str(value), XSD_INTEGER)


def resource_iris(base: str, paths: Iterable[str]) -> dict[str, str]:
    """The IRI of each vault file: ``base`` + its path (notes without ``.md``), never shared."""
    paths = sorted(set(paths))
    keys = {path: path[:-3] if is_note_path(path) else path for path in paths}
    while True:
        holders: dict[str, list[str]] = defaultdict(list)
        for path, key in keys.items():
            holders[key].append(path)
        shared = [owners for owners in holders.values() if len(owners) > 1]
        if not shared:
            break
        # Whole paths are unique, so switching every holder of a shared key ends the loop.
        for owners in shared:
            for path in owners:
                keys[path] = path
    return {path: base + encode(key) for path, key in keys.items()}


class _Builder:
    def __init__(self, vault: Vault, base: str) -> None:
        self.vault = vault
        self.base = base
        self.scheme = IRI(base)
        # Grouped by subject: sorting many small sets beats sorting one big one by far.
        self.triples: dict[IRI, set[tuple[IRI, Term]]] = defaultdict(set)
        self.predicates: dict[str, IRI] = {}
        self.sources: dict[tuple[str, str], Source] = {}
        self.iris = resource_iris(base, [*vault.files, *vault.notes])

    def add(self, subject: IRI, predicate: str, obj: Term) -> None:
        iri = self.predicates.get(predicate)
        if iri is None:
            iri = self.predicates[predicate] = IRI(predicate)
        self.triples[subject].add((iri, obj))

    def locate(self, subject: IRI, predicate: str, source: Source) -> None:
        self.sources.setdefault((subject.value, predicate), source)

    def located(self, subject: IRI, data: Mapping[str, Any]) -> None:
        """Give a resource its cg:path, cg:line and cg:column, and remember them."""
        path, line, column = data["path"], data.get("line"), data.get("column")
        self.add(subject, CG + "path", text_literal(path))
        if isinstance(line, int) and isinstance(column, int):
            self.add(subject, CG + "line", _integer(line))
            self.add(subject, CG + "column", _integer(column))
            self.locate(subject, "", Source(path, line, column))

    def node_iri(self, node: str) -> IRI:
        kind, _, rest = node.partition(":")
        if kind in ("note", "file"):
            return IRI(self.iris.get(rest) or self.base + encode(rest))
        if kind == "residual":
            path, _, number = rest.rpartition("#")
            return IRI(f"{self.node_iri('note:' + path).value}:residual:{number}")
        if kind == "concept":
            return IRI(f"{self.base}concept:{encode(rest)}")
        raise ValueError(f"no IRI for graph node {node!r}")

    def build(self) -> VaultRdf:
        from conceptgraph.graph import build_graph

        graph = build_graph(self.vault)
        self.add(self.scheme, RDF + "type", IRI(SKOS + "ConceptScheme"))
        self.add(self.scheme, DCTERMS + "title", text_literal(self.vault.root.name))
        for node, data in graph.nodes(data=True):
            kind = data["kind"]
            if kind == "note":
                self._note(node, data)
            elif kind == "file":
                subject = self.node_iri(node)
                self.add(subject, RDF + "type", IRI(CG + "Attachment"))
                self.add(subject, RDFS + "label", text_literal(data["name"]))
                self.add(subject, CG + "path", text_literal(data["path"]))
            elif kind == "residual":
                subject = self.node_iri(node)
                self.add(subject, RDF + "type", IRI(CG + "Residual"))
                self.add(subject, RDFS + "label", text_literal(data["name"]))
                self.located(subject, data)
            elif kind == "concept":
                subject = self.node_iri(node)
                self.add(subject, RDF + "type", IRI(SKOS + "Concept"))
                self.add(subject, RDF + "type", IRI(CG + "ConceptWithoutNote"))
                self.add(subject, SKOS + "inScheme", self.scheme)
                self.add(subject, SKOS + "prefLabel", text_literal(data["name"]))
                self.located(subject, data)
        negations: dict[str, int] = defaultdict(int)
        for source, target, data in graph.edges(data=True):
            kind = data["kind"]
            if kind not in EDGE_PREDICATES:
                continue
            subject, obj = self.node_iri(source), self.node_iri(target)
            predicate = EDGE_PREDICATES[kind]
            self.add(subject, predicate, obj)
            where = Source(data["path"], data["line"], data["column"])
            self.locate(subject, predicate, where)
            if kind == "negation":
                negations[source] += 1
                negation = IRI(f"{subject.value}:negation:{negations[source]}")
                self.add(subject, CG + "negation", negation)
                self.locate(subject, CG + "negation", where)
                self.add(negation, RDF + "type", IRI(CG + "Negation"))
                self.add(negation, CG + "negatedConcept", obj)
                if data.get("reason"):
                    self.add(negation, CG + "reason", text_literal(data["reason"]))
                self.located(negation, data)
        return VaultRdf(
            base=self.base,
            triples=tuple(
                (subject, predicate, obj)
                for subject in sorted(self.triples)
                for predicate, obj in sorted(self.triples[subject])
            ),
            sources=self.sources,
        )

    def _note(self, node: str, data: Mapping[str, Any]) -> None:
        subject = self.node_iri(node)
        note = self.vault.notes[data["path"]]
        self.add(subject, RDF + "type", IRI(SKOS + "Concept"))
        self.add(subject, RDF + "type", IRI(CG + "Note"))
        self.add(subject, SKOS + "inScheme", self.scheme)
        self.add(subject, SKOS + "prefLabel", text_literal(data["title"]))
        self.located(subject, data)
        keys = note.frontmatter.keys if note.frontmatter is not None else {}

        def at_key(key: str, predicate: str) -> None:
            span = keys.get(key)
            if span is not None:
                self.locate(subject, predicate, Source(note.path, span.line, span.column))

        for alias in note_aliases(note):
            self.add(subject, SKOS + "altLabel", text_literal(alias))
        at_key("aliases", SKOS + "altLabel")
        for key, predicate in PROPERTY_PREDICATES.items():
            if key in data:
                self.add(subject, predicate, _value(data[key]))
                at_key(key, predicate)
        found = definition(note)
        if found is not None:
            text, span = found
            self.add(subject, SKOS + "definition", text_literal(text))
            self.locate(subject, SKOS + "definition", Source(note.path, span.line, span.column))
        at_key("canonical_of", CG + "canonicalOf")


def vault_rdf(vault: Vault, base: str | None = None) -> VaultRdf:
    """The vault's triples under ``base`` (checked; by default ``default_base(vault.root)``)."""
    builder = _Builder(vault, check_base(base) if base is not None else default_base(vault.root))
    # Hundreds of thousands of small tuples and no cycles: the cyclic collector would walk
    # them over and over while they are made, for a third of the time at 10,000 notes.
    with gc_paused():
        return builder.build()
