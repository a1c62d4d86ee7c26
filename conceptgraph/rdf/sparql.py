r"""SPARQL over a vault, embedded: a safety check, the engine (pyoxigraph), and result formats.

The engine is pyoxigraph, chosen by measurement (``benchmarks/bench_query.py``): at 10,000
notes it loads the vault's triples and answers a four-pattern join in seconds, where rdflib's
own SPARQL takes minutes. The triples sit in one named graph (the vault's base IRI) that is
also the default graph, so ``FROM <base>`` and ``GRAPH ?g`` work as a user would expect.

Nothing here may reach the network. pyoxigraph would follow ``SERVICE`` over HTTP, so
``check_query`` refuses it, before anything runs, with a check that errs on the side of
refusing: it masks what the SPARQL grammar says cannot hold a keyword (strings, comments,
IRIs, variables, the local part of prefixed names) and refuses any ``SERVICE`` left, even
glued to other text (``1SERVICE``), in the query as written and with its ``\u`` escapes
decoded. ``LOAD`` and every update are refused (the vault is read-only, and pyoxigraph's query
API could not run them anyway), and so is ``FROM``/``FROM NAMED`` naming any graph but the
vault's own.

The engine parses and evaluates by recursion, and a deep enough query (50,000 nested ``{``, or
a long ``1+1+...``) overflows the stack and kills the process. So ``check_query`` refuses a
query longer than ``MAX_QUERY_LENGTH`` characters or nested deeper than ``MAX_DEPTH``
brackets, and ``on_deep_stack`` runs the engine in a thread whose stack holds what is left
(measured: 50,000 chained ``+`` need about 40 times the 8 MiB of a main thread).
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pyoxigraph as ox

from conceptgraph.config import Config
from conceptgraph.errors import QueryError
from conceptgraph.rdf.triples import (
    IRI,
    PREFIXES,
    Groups,
    PartTriples,
    Term,
    VaultRdf,
    first_named,
    triple_batches,
)
from conceptgraph.vault.concepts import concept_keys
from conceptgraph.vault.discovery import Discovery, discover
from conceptgraph.vault.load import Vault, load_vault

# Output formats of SELECT and ASK results; CONSTRUCT and DESCRIBE print Turtle.
RESULT_FORMATS = ("table", "csv", "tsv", "json", "xml")
_OX_FORMATS = {
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
}
UPDATES = ("INSERT", "DELETE", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH", "USING")

# The SPARQL 1.1 grammar's character classes (section 19.8).
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS = _PN_CHARS_BASE + "_0-9\\-\u00b7\u0300-\u036f\u203f-\u2040"
_VARIABLE = re.compile(f"[?$][{_PN_CHARS}]+")
# A prefixed name's local part, stopped at a dot: were a parser to end the name there, what
# follows the dot must still be looked at.
_LOCAL = re.compile(f"(?<=:)(?:[{_PN_CHARS}:]|%[0-9A-Fa-f]{{2}}|\\\\[_~.\\-!$&'()*+,;=/?#@%])+")
_IRIREF = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
_STRINGS = (
    re.compile(r"'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''", re.DOTALL),
    re.compile(r'"""(?:(?:"|"")?(?:[^"\\]|\\.))*"""', re.DOTALL),
    re.compile(r"'(?:[^'\\\n\r]|\\.)*'"),
    re.compile(r'"(?:[^"\\\n\r]|\\.)*"'),
)
_ABSOLUTE = re.compile(r"<[A-Za-z][A-Za-z0-9+.-]*:")
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_SERVICE = re.compile("service", re.IGNORECASE)
# A keyword: letters alone, not part of a longer word, not a prefix name (``add:``).
_WORD = re.compile(r"(?<!\w)([A-Za-z]+)(?![\w:])")
_SKIP = re.compile(r"(?:\s|#[^\r\n]*)*")
_SYNTAX = re.compile(r"error at (\d+):(\d+): (.*)", re.DOTALL)

MAX_QUERY_LENGTH = 100_000  # characters: a hand-written query is a few hundred
MAX_DEPTH = 256  # nested brackets ({, ( and [), far past any query a person writes
# Reserved, not committed: the pages a query does not reach are never touched.
_ENGINE_STACK = {"bytes": 512 * 1024 * 1024}
_OPEN, _CLOSE = "{([", "})]"
# threading.stack_size is process-wide: two callers must not mix their settings.
_STACK_LOCK = threading.Lock()
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Scan:
    """A query's text with everything but keywords blanked out, and the IRIs it names."""

    text: str
    code: str  # ``text`` with strings, comments, IRIs, variables and local names as spaces
    iris: dict[int, str]  # offset -> IRI (without <>)


def _blank(text: str) -> str:
    return re.sub(r"[^\r\n]", " ", text)


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _refuse(text: str, offset: int, source: str, message: str) -> QueryError:
    line, column = _position(text, offset)
    return QueryError(f"{source}:{line}:{column}: refused: {message}")


def _scan(text: str, source: str) -> _Scan:
    """Blank out what cannot hold a keyword, following the grammar's tokens left to right."""
    code: list[str] = []
    iris: dict[int, str] = {}
    i = 0
    while i < len(text):
        char = text[i]
        if char == "#":
            end = len(text)
            for stop in ("\n", "\r"):
                found = text.find(stop, i)
                if found != -1:
                    end = min(end, found)
            code.append(_blank(text[i:end]))
            i = end
            continue
        if char in "'\"":
            match = next((m for m in (p.match(text, i) for p in _STRINGS) if m), None)
            if match is not None:
                code.append(_blank(match.group()))
                i = match.end()
                continue
        elif char == "<":
            match = _IRIREF.match(text, i)
            if match is not None:
                iri = match.group()
                if "'" in iri:
                    # Read as "less than" instead, the quote would open a string and change
                    # what every later character means; no IRI we write holds one.
                    raise _refuse(text, i, source, "an IRI holding ' cannot be checked; write %27")
                iris[i] = iri[1:-1]
                # A relative IRI could be "<" and code in disguise: keep it in view.
                code.append(_blank(iri) if _ABSOLUTE.match(iri) else iri)
                i = match.end()
                continue
        elif char == "\\" and i + 1 < len(text):
            # An escape in a prefixed name (ex:a\'b): the quote opens no string.
            code.append(text[i : i + 2])
            i += 2
            continue
        code.append(char)
        i += 1
    masked = "".join(code)
    masked = _VARIABLE.sub(lambda m: _blank(m.group()), masked)
    masked = _LOCAL.sub(lambda m: _blank(m.group()), masked)
    return _Scan(text, masked, iris)


def _check_scan(scan: _Scan, graphs: Collection[str], source: str) -> None:
    def refuse(offset: int, message: str) -> QueryError:
        return _refuse(scan.text, offset, source, message)

    service = _SERVICE.search(scan.code)
    if service is not None:
        start, end = service.span()
        glued = (start > 0 and scan.code[start - 1].isalnum()) or (
            end < len(scan.code) and scan.code[end] not in " \t\r\n<{?$("
        )
        # A keyword glued to other text may still be read as one (1SERVICE:x{...}).
        hint = " (even as part of a name: rename it)" if glued else ""
        raise refuse(start, f"SERVICE: conceptgraph query never reaches the network{hint}")
    for word in _WORD.finditer(scan.code):
        keyword = word.group(1).upper()
        if keyword == "LOAD":
            raise refuse(word.start(), "LOAD: conceptgraph query never reaches the network")
        if keyword in UPDATES:
            raise refuse(word.start(), f"{keyword}: updates are refused, the vault is read-only")
        if keyword != "FROM":
            continue
        after = _SKIP.match(scan.text, word.end())
        at = after.end() if after else word.end()
        named = re.match(r"named\b", scan.text[at:], re.IGNORECASE)
        if named is not None:
            after = _SKIP.match(scan.text, at + named.end())
            at = after.end() if after else at + named.end()
        iri = scan.iris.get(at)
        if iri not in graphs:
            allowed = ", ".join(f"<{g}>" for g in sorted(graphs))
            raise refuse(
                word.start(),
                f"FROM may name only the vault's own graph ({allowed}), written as an IRI",
            )


def _check_depth(scan: _Scan, source: str) -> None:
    depth = 0
    for at, char in enumerate(scan.code):
        if char in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                raise _refuse(
                    scan.text,
                    at,
                    source,
                    f"nested more than {MAX_DEPTH} brackets deep, past what the engine can run",
                )
        elif char in _CLOSE:
            depth -= 1


_ORDER_BY = re.compile(r"(?<!\w)ORDER\s+BY(?!\w)", re.IGNORECASE)


def is_ordered(text: str) -> bool:
    """Whether a query orders its solutions (``ORDER BY`` outside strings, comments, IRIs)."""
    return _ORDER_BY.search(_scan(text, "query").code) is not None


def check_query(text: str, graphs: Collection[str], source: str = "query") -> None:
    r"""Refuse, with a ``QueryError`` naming the line and column, what must not run.

    ``SERVICE``, ``LOAD`` and updates always; ``FROM``/``FROM NAMED`` unless naming one of
    ``graphs``; a query longer than ``MAX_QUERY_LENGTH`` or nested past ``MAX_DEPTH``. Checked
    both as written and with ``\u`` escapes decoded, since SPARQL decodes them before parsing.
    """
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"{source}: refused: {len(text):,} characters, longer than the "
            f"{MAX_QUERY_LENGTH:,} a query may have"
        )
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)
    for variant in dict.fromkeys((text, decoded)):
        scan = _scan(variant, source)
        _check_depth(scan, source)
        _check_scan(scan, graphs, source)


def set_engine_stack(limit: int) -> None:
    """Give the engine's thread at most ``limit`` bytes of stack (a memory-bounded worker)."""
    _ENGINE_STACK["bytes"] = max(32 << 20, min(512 << 20, limit))


def on_deep_stack(work: Callable[[], _T]) -> _T:
    """Run ``work`` (anything that parses or evaluates a query) on a thread with a deep stack.

    What ``check_query`` lets through still recurses deeper than a main thread's stack holds;
    an overflow there is a crash of the process, not an exception.
    """
    done: list[_T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            done.append(work())
        except BaseException as exc:  # handed to the caller's thread as it was
            failed.append(exc)

    with _STACK_LOCK:
        previous = threading.stack_size(_ENGINE_STACK["bytes"])
        try:
            thread = threading.Thread(target=run, name="conceptgraph-engine", daemon=True)
            thread.start()
        finally:
            threading.stack_size(previous)
    thread.join()
    if failed:
        raise failed[0]
    return done[0]


def query_prefixes(base: str) -> dict[str, str]:
    """The prefixes a query may use undeclared: the common ones, and ``vault:`` for ``base``."""
    return {**PREFIXES, "vault": base}


def _syntax_error(exc: SyntaxError, source: str) -> QueryError:
    match = _SYNTAX.match(str(exc))
    if match is None:
        return QueryError(f"{source}: syntax error: {exc}")
    line, column, message = int(match.group(1)), int(match.group(2)), match.group(3)
    message = " ".join(message.split())
    if len(message) > 200:
        message = message[:200] + "..."
    return QueryError(f"{source}:{line}:{column}: syntax error: {message}")


def check_syntax(text: str, base: str, source: str = "query") -> None:
    """Parse the query (on an empty store, fetching no result) and report a syntax error."""

    def parse() -> None:
        ox.Store().query(text, prefixes=query_prefixes(base))

    try:
        on_deep_stack(parse)
    except SyntaxError as exc:
        raise _syntax_error(exc, source) from None


@dataclass
class QueryResult:
    """What a query returned, still lazy: solutions, a boolean, or triples."""

    result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples
    prefixes: Mapping[str, str]

    @property
    def kind(self) -> str:
        """``select``, ``ask`` or ``graph`` (CONSTRUCT and DESCRIBE)."""
        if isinstance(self.result, ox.QuerySolutions):
            return "select"
        if isinstance(self.result, ox.QueryBoolean):
            return "ask"
        return "graph"


def load_store(rdf: VaultRdf) -> ox.Store:
    """An in-memory store holding the vault's triples in its named graph ``<base>``.

    The triples go in as N-Triples text, parsed by Oxigraph: about twice as fast as making a
    pyoxigraph object of every term (2 s against 5 s for 660,000 triples).
    """
    return load_ntriples(ntriples((s, ((p, o),)) for s, p, o in rdf.triples), rdf.base)


def load_ntriples(data: bytes, graph: str) -> ox.Store:
    """An in-memory store holding N-Triples in the named graph ``graph``."""
    store = ox.Store()
    store.load(data, ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
    return store


def vault_ntriples(vault: Vault, base: str) -> Iterator[bytes]:
    """The vault's triples as N-Triples (``base`` checked), a batch of subjects at a time."""
    return (ntriples(batch.items()) for batch in triple_batches(vault, base))


def vault_store(vault: Vault, base: str) -> ox.Store:
    """An in-memory store of the vault's triples (``base`` checked), built and loaded at once."""
    return load_batches(vault_ntriples(vault, base), base)


def load_batches(batches: Iterable[bytes], graph: str) -> ox.Store:
    """An in-memory store holding N-Triples batches, each loaded while the next is made."""

    def produce(sink: Callable[[bytes], None]) -> None:
        for data in batches:
            sink(data)

    return load_produced(produce, graph)


def load_produced(produce: Callable[[Callable[[bytes], None]], object], graph: str) -> ox.Store:
    """An in-memory store holding the N-Triples batches ``produce`` hands the function it gets.

    Oxigraph parses without holding the GIL, so each batch is loaded on another core while
    the next is made. The text is ours (``ntriples``), which the tests load with every check
    on (``load_ntriples``); here Oxigraph skips checking each IRI again, a quarter of its
    load time.
    """
    store = ox.Store()
    target = ox.NamedNode(graph)
    with ThreadPoolExecutor(max_workers=1) as loader:
        pending: deque[Future[None]] = deque()

        def sink(data: bytes) -> None:
            pending.append(
                loader.submit(
                    store.load, data, ox.RdfFormat.N_TRIPLES, to_graph=target, lenient=True
                )
            )
            # At most two batches wait: the text of the whole vault need not be held at once.
            while len(pending) > 2:
                pending.popleft().result()

        produce(sink)
        for done in pending:
            done.result()
    return store


class TriplesCopy(Protocol):
    """What keeps a copy of the triples as they are made (``storecache.Copy``)."""

    def write(self, data: bytes) -> None:
        """Keep a batch of N-Triples."""

    def names(self, keys: Mapping[str, list[str]]) -> None:
        """Keep each note's concept names, as the triples were made with them."""


def vault_store_at(
    root: Path,
    config: Config,
    base: str,
    jobs: int | None,
    copy: TriplesCopy | None = None,
) -> ox.Store:
    """An in-memory store of the triples of the vault at ``root`` (``base`` checked).

    ``copy``, if given, is handed each batch of N-Triples too, as it is loaded, and the
    notes' concept names (``concept_keys``) once all are made.
    """
    if copy is None:
        return load_produced(partial(read_ntriples, root, config, base, jobs), base)

    def produce(sink: Callable[[bytes], None]) -> None:
        def both(data: bytes) -> None:
            copy.write(data)
            sink(data)

        copy.names(read_ntriples(root, config, base, jobs, both))

    return load_produced(produce, base)


def read_ntriples(
    root: Path, config: Config, base: str, jobs: int | None, sink: Callable[[bytes], None]
) -> dict[str, list[str]]:
    """Read the vault at ``root`` and hand ``sink`` its triples as N-Triples, a batch at a time.

    The triples of ``vault_rdf``, some more than once, in no order. Over a large vault, in
    worker processes that read the notes and make their triples (see ``lint.shards``), as
    the batches are loaded here; otherwise in this process. Returns each note's concept
    names (``concept_keys``), by path, as the triples were made with them.
    """
    from conceptgraph.lint import parallel

    found = discover(root, config)
    if not parallel.usable((), len(found.notes), jobs):
        vault = load_vault(root, config, jobs, found)
        for data in vault_ntriples(vault, base):
            sink(data)
        return {path: concept_keys(path, names) for path, names in vault.aliases_by_note.items()}
    concepts, keys = in_parts(root, config, found, base, jobs, _part_ntriples, sink)
    sink(ntriples(concepts.items()))
    return keys


def in_parts(
    root: Path,
    config: Config,
    found: Discovery,
    base: str,
    jobs: int | None,
    task: Callable[[Sequence[str], str], tuple[_T, dict[str, dict[str, Any]]]],
    take: Callable[[_T], None],
) -> tuple[Groups, dict[str, list[str]]]:
    """The vault's triples made in workers: ``task(paths, base)`` on every note, a batch at a time.

    Each reply is the triples made (handed to ``take`` as it comes) and the concepts named;
    returned are the triples of the concepts without a note, by subject, and each note's
    concept names (``concept_keys``), by path.
    """
    from conceptgraph.lint import parallel

    concepts: dict[str, dict[str, Any]] = {}

    def made(reply: tuple[_T, dict[str, dict[str, Any]]]) -> None:
        data, named = reply
        first_named(concepts, named)
        take(data)

    # A note's triples read nothing of another note: only the name indexes.
    with parallel.reading(root, config, found, (), jobs, share=False) as (workers, read, vault):
        workers.each(vault, "Building the graph", task, (base,), made)
    return PartTriples(vault, base).concepts(concepts), read.keys


_parts: dict[str, PartTriples] = {}  # in a worker, by base IRI: it works out every IRI once


def part_groups(paths: Sequence[str], base: str) -> tuple[Groups, dict[str, dict[str, Any]]]:
    """In a worker: the triples some of its notes make, by subject, and the concepts they name."""
    from conceptgraph.lint import parallel

    parts = _parts.get(base)
    if parts is None:
        parts = _parts[base] = PartTriples(parallel.worker_vault()[1], base)
    concepts: dict[str, dict[str, Any]] = {}
    return parts.part(paths, concepts), concepts


def _part_ntriples(paths: Sequence[str], base: str) -> tuple[bytes, dict[str, dict[str, Any]]]:
    """In a worker: the N-Triples some of its notes make, and the concepts they name."""
    groups, concepts = part_groups(paths, base)
    return ntriples(groups.items()), concepts


def ntriples(groups: Iterable[tuple[IRI, Iterable[tuple[IRI, Term]]]]) -> bytes:
    """Triples, grouped by subject, as N-Triples (IRIs are already escaped where made)."""
    lines = []
    for subject, pairs in groups:
        start = f"<{subject.value}> <"
        for predicate, obj in pairs:
            if isinstance(obj, IRI):
                lines.append(f"{start}{predicate.value}> <{obj.value}> .\n")
                continue
            text = obj.value
            if "\\" in text or '"' in text or "\n" in text or "\r" in text:
                text = text.translate(_ECHAR)
            lines.append(f'{start}{predicate.value}> "{text}"^^<{obj.datatype}> .\n')
    return "".join(lines).encode("utf-8")


# What N-Triples must escape in a quoted literal: the quote, the backslash and line ends.
_ECHAR = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def run_query(store: ox.Store, text: str, base: str, source: str = "query") -> QueryResult:
    """Run a checked query over a loaded store."""
    prefixes = query_prefixes(base)
    try:
        result = store.query(text, prefixes=prefixes, use_default_graph_as_union=True)
    except SyntaxError as exc:
        raise _syntax_error(exc, source) from None
    except OSError as exc:
        raise QueryError(f"{source}: the query failed: {exc}") from exc
    return QueryResult(result, prefixes)


# ------------------------------------------------------------------------------------ output


def compact_iri(iri: str, prefixes: Mapping[str, str]) -> str:
    """``iri`` as a prefixed name where one of ``prefixes`` starts it, else as ``<iri>``."""
    best = max(
        ((p, ns) for p, ns in prefixes.items() if iri.startswith(ns) and len(iri) > len(ns)),
        key=lambda item: len(item[1]),
        default=None,
    )
    return f"{best[0]}:{iri[len(best[1]) :]}" if best else f"<{iri}>"


def _cell(term: object, prefixes: Mapping[str, str]) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return compact_iri(term.value, prefixes)
    if isinstance(term, ox.Literal):
        return term.value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)


def _table(solutions: ox.QuerySolutions, prefixes: Mapping[str, str]) -> Iterator[str]:
    names = [variable.value for variable in solutions.variables]
    rows = [[_cell(solution[name], prefixes) for name in names] for solution in solutions]
    header = [f"?{name}" for name in names]
    widths = [max([len(header[i]), *(len(row[i]) for row in rows)]) for i in range(len(names))]
    for row in [header, ["-" * w for w in widths], *rows]:
        yield "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()


def format_result(found: QueryResult, fmt: str | None) -> bytes:
    """The result as bytes: SELECT and ASK in ``fmt`` (default ``table``), graphs as Turtle.

    A ``fmt`` given for a CONSTRUCT or DESCRIBE is a ``QueryError``: their result is RDF.
    """
    result = found.result
    if isinstance(result, ox.QueryTriples):
        if fmt is not None:
            raise QueryError(
                f"--format {fmt} is for SELECT and ASK; CONSTRUCT and DESCRIBE print Turtle"
            )
        triples = sorted(result, key=str)
        data = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=dict(found.prefixes))
        return data or b""
    fmt = fmt or "table"
    if isinstance(result, ox.QueryBoolean):
        if fmt in _OX_FORMATS and fmt not in ("csv", "tsv"):
            return (result.serialize(format=_OX_FORMATS[fmt]) or b"").rstrip(b"\n") + b"\n"
        return b"true\n" if bool(result) else b"false\n"
    if fmt == "table":
        return "".join(line + "\n" for line in _table(result, found.prefixes)).encode("utf-8")
    data = result.serialize(format=_OX_FORMATS[fmt]) or b""
    return data if data.endswith(b"\n") else data + b"\n"
