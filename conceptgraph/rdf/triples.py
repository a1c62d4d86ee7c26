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

import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from conceptgraph.errors import ExportError
from conceptgraph.model import NoteRecord, Span
from conceptgraph.names import heading_key, strip_comments
from conceptgraph.vault.concepts import note_aliases
from conceptgraph.vault.discovery import is_note_path
from conceptgraph.vault.load import Vault
from conceptgraph.vault.read import gc_paused

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
    "canvas": CG + "showsOnCanvas",
}
# Note properties (frontmatter keys) and their predicates.
PROPERTY_PREDICATES: Mapping[str, str] = {
    "type": CG + "conceptType",
    "layer": CG + "layer",
    "role": CG + "role",
    "note_kind": CG + "noteKind",
    "canonical": CG + "canonical",
}

# The terms the builder writes, made once: it writes 660,000 triples at 10,000 notes.
_TYPE = IRI(RDF + "type")
_LABEL = IRI(RDFS + "label")
_TITLE = IRI(DCTERMS + "title")
_IN_SCHEME = IRI(SKOS + "inScheme")
_PREF_LABEL = IRI(SKOS + "prefLabel")
_ALT_LABEL = IRI(SKOS + "altLabel")
_DEFINITION = IRI(SKOS + "definition")
_PATH = IRI(CG + "path")
_LINE = IRI(CG + "line")
_COLUMN = IRI(CG + "column")
_NEGATION = IRI(CG + "negation")
_NEGATED = IRI(CG + "negatedConcept")
_REASON = IRI(CG + "reason")
_CANONICAL_OF = IRI(CG + "canonicalOf")
_EDGE_IRIS = {kind: IRI(predicate) for kind, predicate in EDGE_PREDICATES.items()}
_PROPERTY_IRIS = {key: IRI(predicate) for key, predicate in PROPERTY_PREDICATES.items()}
_CONCEPT_SCHEME = IRI(SKOS + "ConceptScheme")
_CONCEPT = IRI(SKOS + "Concept")
_NOTE = IRI(CG + "Note")
_ATTACHMENT = IRI(CG + "Attachment")
_RESIDUAL = IRI(CG + "Residual")
_WITHOUT_NOTE = IRI(CG + "ConceptWithoutNote")
_NEGATION_CLASS = IRI(CG + "Negation")

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


# The longest text a literal carries. Oxigraph, which loads the triples for query and export,
# refuses a line of N-Triples over 16 MiB (a note whose Definition is 30 MB of links made both
# fail); a million characters is 4 MB at most as UTF-8, and more than any definition holds.
LITERAL_MOST = 1_000_000


def text_literal(text: str) -> Literal:
    """A string literal every format carries unchanged: LF line ends, no XML-illegal characters.

    RDF/XML parsers turn CR LF into LF and cannot read control characters, so they would not
    read back what we wrote; U+FFFD stands in for the latter. A text longer than
    ``LITERAL_MOST`` characters is cut there, ending "... (N more characters)".
    """
    if len(text) > LITERAL_MOST:
        text = f"{text[:LITERAL_MOST]} ... ({len(text) - LITERAL_MOST} more characters)"
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
    start = max(section.span.line, section.span.end_line)
    lines = note.first_lines(section.end_line)[start:]
    # Each pattern is tried only where it can match: a query reads every note's definition.
    body = strip_comments("\n".join(_BLOCK_ID.sub("", ln) if "^" in ln else ln for ln in lines))
    text = "\n".join(line.rstrip() for line in body.split("\n"))
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    text = text.strip()
    return (text, section.span) if text else None


def _value(value: object) -> Literal:
    if isinstance(value, bool):
        return Literal("true" if value else "false", XSD_BOOLEAN)
    return text_literal(str(value))


# Lines and columns: the same few thousand numbers, over and over.
@functools.lru_cache(maxsize=1 << 14)
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


Groups = dict[IRI, set[tuple[IRI, Term]]]


class _Builder:
    def __init__(self, vault: Vault, base: str, *, located: bool = True) -> None:
        self.vault = vault
        self.base = base
        self.scheme = IRI(base)
        # Grouped by subject: sorting many small sets beats sorting one big one by far.
        self.triples: Groups = defaultdict(set)
        # None when no one asks where the triples came from (a query).
        self.sources: dict[tuple[str, str], Source] | None = {} if located else None
        self.iris = resource_iris(base, [*vault.files, *vault.notes])
        self.nodes: dict[str, IRI] = {}

    def add(self, subject: IRI, predicate: IRI, obj: Term) -> None:
        self.triples[subject].add((predicate, obj))

    def locate(
        self, subject: IRI, predicate: IRI | None, path: str, line: int, column: int
    ) -> None:
        """Remember where a property (``None``: the resource itself) was written; first wins."""
        if self.sources is not None:
            key = (subject.value, predicate.value if predicate is not None else "")
            if key not in self.sources:
                self.sources[key] = Source(path, line, column)

    def located(self, subject: IRI, data: Mapping[str, Any]) -> None:
        """Give a resource its cg:path, cg:line and cg:column, and remember them."""
        path, line, column = data["path"], data.get("line"), data.get("column")
        self.add(subject, _PATH, text_literal(path))
        if isinstance(line, int) and isinstance(column, int):
            self.add(subject, _LINE, _integer(line))
            self.add(subject, _COLUMN, _integer(column))
            self.locate(subject, None, path, line, column)

    def node_iri(self, node: str) -> IRI:
        found = self.nodes.get(node)
        if found is None:
            found = self.nodes[node] = self._node_iri(node)
        return found

    def _node_iri(self, node: str) -> IRI:
        kind, _, rest = node.partition(":")
        if kind in ("note", "file"):
            return IRI(self.iris.get(rest) or self.base + encode(rest))
        if kind == "residual":
            path, _, number = rest.rpartition("#")
            return IRI(f"{self.node_iri('note:' + path).value}:residual:{number}")
        if kind == "concept":
            return IRI(f"{self.base}concept:{encode(rest)}")
        raise ValueError(f"no IRI for graph node {node!r}")

    def groups(
        self,
        size: int | None = None,
        paths: Iterable[str] | None = None,
        concepts: dict[str, dict[str, Any]] | None = None,
    ) -> Iterator[Groups]:
        """The triples by subject, about ``size`` subjects at a time (None: all at once).

        Each subject is in one batch only: a note's triples come with those of its negations,
        so a batch can be used (loaded into a store) while the next is being made. With
        ``paths``, the triples of the part of the graph those notes make (``graph_parts``);
        given ``concepts``, the nodes of concepts without a note go there instead, for
        whoever holds every part to place each where the first note names it.
        """
        from conceptgraph.graph import graph_parts

        # A second link of a kind to the same node would add the same triple and a place the
        # first already gave (first wins): one edge for them, as a note may hold a million.
        graph = graph_parts(self.vault, paths, distinct=True)
        self.add(self.scheme, _TYPE, _CONCEPT_SCHEME)
        self.add(self.scheme, _TITLE, text_literal(self.vault.root.name))
        # Notes come first among the nodes, and every edge starts at a note or a canvas.
        for node, data in graph.nodes.items():
            if concepts is not None and data["kind"] == "concept":
                concepts[node] = data
                continue
            self.node(node, data, graph.edges.get(node, {}))
            if size is not None and len(self.triples) >= size:
                yield self.triples
                self.triples = defaultdict(set)
        yield self.triples

    def node(self, node: str, data: Mapping[str, Any], edges: Mapping[str, Any]) -> None:
        """Add the triples of a graph node, with its ``edges`` (those of a note)."""
        kind = data["kind"]
        if kind == "note":
            self._note(node, data)
            self._edges(node, edges)
        elif kind == "file":
            subject = self.node_iri(node)
            self.add(subject, _TYPE, _ATTACHMENT)
            self.add(subject, _LABEL, text_literal(data["name"]))
            self.add(subject, _PATH, text_literal(data["path"]))
            self._edges(node, edges)  # a canvas's cards
        elif kind == "residual":
            subject = self.node_iri(node)
            self.add(subject, _TYPE, _RESIDUAL)
            self.add(subject, _LABEL, text_literal(data["name"]))
            self.located(subject, data)
        elif kind == "concept":
            subject = self.node_iri(node)
            self.add(subject, _TYPE, _CONCEPT)
            self.add(subject, _TYPE, _WITHOUT_NOTE)
            self.add(subject, _IN_SCHEME, self.scheme)
            self.add(subject, _PREF_LABEL, text_literal(data["name"]))
            self.located(subject, data)

    def _edges(self, source: str, targets: Mapping[str, list[dict[str, Any]]]) -> None:
        subject = self.node_iri(source)
        negations = 0
        for target, found in targets.items():
            for data in found:
                kind = data["kind"]
                predicate = _EDGE_IRIS.get(kind)
                if predicate is None:
                    continue  # alias edges: the aliases are skos:altLabel literals
                obj = self.node_iri(target)
                self.add(subject, predicate, obj)
                where = data["path"], data["line"], data["column"]
                self.locate(subject, predicate, *where)
                if kind == "negation":
                    negations += 1
                    negation = IRI(f"{subject.value}:negation:{negations}")
                    self.add(subject, _NEGATION, negation)
                    self.locate(subject, _NEGATION, *where)
                    self.add(negation, _TYPE, _NEGATION_CLASS)
                    self.add(negation, _NEGATED, obj)
                    if data.get("reason"):
                        self.add(negation, _REASON, text_literal(data["reason"]))
                    self.located(negation, data)

    def build(self) -> VaultRdf:
        triples: Groups = {}
        for batch in self.groups():
            triples.update(batch)
        return VaultRdf(
            base=self.base,
            triples=tuple(
                (subject, predicate, obj)
                for subject in sorted(triples)
                for predicate, obj in sorted(triples[subject])
            ),
            sources=self.sources or {},
        )

    def _note(self, node: str, data: Mapping[str, Any]) -> None:
        subject = self.node_iri(node)
        note = self.vault.notes[data["path"]]
        self.add(subject, _TYPE, _CONCEPT)
        self.add(subject, _TYPE, _NOTE)
        self.add(subject, _IN_SCHEME, self.scheme)
        self.add(subject, _PREF_LABEL, text_literal(data["title"]))
        self.located(subject, data)
        keys = note.frontmatter.keys if note.frontmatter is not None else {}

        def at_key(key: str, predicate: IRI) -> None:
            span = keys.get(key)
            if span is not None:
                self.locate(subject, predicate, note.path, span.line, span.column)

        for alias in note_aliases(note):
            self.add(subject, _ALT_LABEL, text_literal(alias))
        at_key("aliases", _ALT_LABEL)
        for key, predicate in _PROPERTY_IRIS.items():
            if key in data:
                self.add(subject, predicate, _value(data[key]))
                at_key(key, predicate)
        found = definition(note)
        if found is not None:
            text, span = found
            self.add(subject, _DEFINITION, text_literal(text))
            self.locate(subject, _DEFINITION, note.path, span.line, span.column)
        at_key("canonical_of", _CANONICAL_OF)


def vault_rdf(vault: Vault, base: str | None = None) -> VaultRdf:
    """The vault's triples under ``base`` (checked; by default ``default_base(vault.root)``)."""
    builder = _Builder(vault, check_base(base) if base is not None else default_base(vault.root))
    # Hundreds of thousands of small tuples and no cycles: the cyclic collector would walk
    # them over and over while they are made, for a third of the time at 10,000 notes.
    with gc_paused():
        return builder.build()


def triple_batches(vault: Vault, base: str, size: int = 10_000) -> Iterator[Groups]:
    """The triples of ``vault_rdf``, by subject, about ``size`` subjects at a time.

    For a consumer that can use each batch while the next is made (``query`` loads them into
    a store on another thread); ``base`` must already be checked.
    """
    builder = _Builder(vault, base, located=False)
    with gc_paused():
        yield from builder.groups(size)


class PartTriples:
    """The triples of a vault whose notes are spread over processes, a part at a time.

    Each part is what some notes make (see ``graph_parts``), less the concepts without a
    note: two parts may both name one, and it is placed where the first note names it. Those
    who hold every part merge them (``first_named``) and add their triples (``concepts``).
    Together with them, the parts hold every triple of ``vault_rdf``, some more than once.
    """

    def __init__(self, vault: Vault, base: str) -> None:
        self._builder = _Builder(vault, base, located=False)

    def part(self, paths: Iterable[str], concepts: dict[str, dict[str, Any]]) -> Groups:
        """The triples the notes at ``paths`` make, by subject; the concepts named: ``concepts``."""
        builder = self._builder
        builder.triples = defaultdict(set)
        with gc_paused():
            for _ in builder.groups(None, paths, concepts):
                pass
        return builder.triples

    def iri(self, node: str) -> str:
        """The IRI of a graph node (``note:<path>``, ``concept:<key>``, ...)."""
        return self._builder.node_iri(node).value

    def paths(self) -> dict[str, str]:
        """The vault path of each file's IRI."""
        return {iri: path for path, iri in self._builder.iris.items()}

    def concepts(self, nodes: Mapping[str, Mapping[str, Any]]) -> Groups:
        """The triples of concept nodes (merged with ``first_named``), by subject."""
        builder = self._builder
        builder.triples = defaultdict(set)
        for node, data in nodes.items():
            builder.node(node, data, {})
        return builder.triples


def first_named(into: dict[str, dict[str, Any]], part: Mapping[str, dict[str, Any]]) -> None:
    """Merge a part's concept nodes into ``into``: each where the first note (by path) names it."""
    for node, data in part.items():
        kept = into.get(node)
        if kept is None or data["path"] < kept["path"]:
            into[node] = data
