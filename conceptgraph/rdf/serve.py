"""A read-only SPARQL 1.1 Protocol endpoint over a vault: ``conceptgraph serve``.

The HTTP side is the standard library's threaded server: each request has its own thread, so a
slow client never holds up the others. Queries run in worker processes, each opening the
vault's graph read-only from one on-disk store (:mod:`conceptgraph.rdf.servestore`, the copy
``query`` keeps), or loading it where none can be kept: pyoxigraph cannot cancel a query, so
the time limit is kept by ending the worker that overran it and starting a fresh one, while
the other workers go on answering. Requests are checked before they reach a worker: updates,
``LOAD``, ``SERVICE`` and graphs other than the vault's are refused, and the endpoint never
fetches anything on a query's behalf.

Routes: ``GET /`` a page with a query box; ``GET``/``POST /sparql`` the protocol (``query=``
in the URL or a form, or an ``application/sparql-query`` body). Results by content
negotiation (``Accept``) or ``?format=``: SELECT and ASK as SPARQL JSON (default), XML, CSV or
TSV; CONSTRUCT and DESCRIBE as Turtle (default), N-Triples or JSON-LD.
"""

from __future__ import annotations

import contextlib
import html
import io
import ipaddress
import json
import multiprocessing
import os
import queue
import re
import signal
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import islice
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from conceptgraph.errors import ConceptgraphError, QueryError
from conceptgraph.rdf.servestore import Dataset, SharedStore
from conceptgraph.rdf.servestore import vault_dataset as vault_dataset  # it lived here before
from conceptgraph.rdf.slowclients import ConnectionBound, DeadlineReader

SELECT_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
GRAPH_TYPES = {
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
}
READ_ONLY = "this endpoint is read-only: updates are refused"
DRAIN_LIMIT = 64 << 20  # bytes of an oversized request read and dropped before the 413
_ALIASES = {
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/x-turtle": "turtle",
    "text/plain": "ntriples",
}


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """How the endpoint runs."""

    host: str = "127.0.0.1"
    port: int = 7878
    timeout: float = 10.0  # seconds a query may run
    max_rows: int = 10_000  # solutions or triples in one answer
    max_query_bytes: int = 1 << 20
    workers: int = field(default_factory=lambda: max(2, os.cpu_count() or 1))
    # Bytes of memory each worker may hold: None for default_worker_memory, 0 for no bound.
    worker_memory: int | None = None
    long_after: float = 0.5  # seconds after which a query counts as long (WorkerPool)
    allowed_hosts: tuple[str, ...] = ()  # Host names served besides loopback and the bound one
    cors: tuple[str, ...] = ()  # origins whose pages may query the endpoint
    # Seconds a client has to send a whole request, or to read on (see rdf/slowclients.py).
    request_timeout: float = 10.0
    max_connections: int = 256  # served at once; one more gets a 503
    cache: bool = True  # serve from the kept copy of the triples (servestore)

    def memory_bound(self) -> int | None:
        """Bytes each worker may hold, or None for no bound."""
        if self.worker_memory is None:
            return default_worker_memory(self.workers)
        return self.worker_memory or None


def is_loopback(host: str) -> bool:
    """Whether a bind address only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ----------------------------------------------------------------------------- negotiation


def negotiate(accept: str, kind: str, wanted: str | None = None) -> str:
    """The result format for an ``Accept`` header (or an explicit ``format=``) and a query kind.

    Raises ``QueryError`` with HTTP 406 meaning when nothing acceptable can be made.
    """
    offered = GRAPH_TYPES if kind == "graph" else SELECT_TYPES
    if wanted:
        name = _ALIASES.get(wanted, wanted).lower()
        name = next((k for k, v in offered.items() if v == name), name)
        if name not in offered:
            raise QueryError(
                f"format {wanted!r} is not offered for this query ({', '.join(offered)})"
            )
        return name
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept.split(",")):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            ranked.append((-quality, index, media))
    if not ranked:
        return next(iter(offered))
    for _, _, media in sorted(ranked):
        if media in ("*/*", "application/*", "text/*"):
            return next(iter(offered))
        found = _ALIASES.get(media) or next((k for k, v in offered.items() if v == media), "")
        if found in offered:
            return found
    raise QueryError(
        f"none of {accept!r} can be made for this query; try {', '.join(offered.values())}"
    )


# ------------------------------------------------------------------------------- answering


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer from a worker."""

    status: int
    content_type: str
    body: bytes
    truncated: bool = False


def _term_json(term: Any) -> dict[str, str]:
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    value: dict[str, str] = {"type": "literal", "value": term.value}
    if term.language:
        value["xml:lang"] = term.language
    elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        value["datatype"] = term.datatype.value
    return value


def _term_xml(term: Any) -> str:
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return f"<uri>{xml_escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{xml_escape(term.value)}</bnode>"
    if term.language:
        return f'<literal xml:lang="{xml_escape(term.language)}">{xml_escape(term.value)}</literal>'
    if term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        return (
            f'<literal datatype="{xml_escape(term.datatype.value)}">'
            f"{xml_escape(term.value)}</literal>"
        )
    return f"<literal>{xml_escape(term.value)}</literal>"


def _csv_cell(term: Any) -> str:
    if term is None:
        return ""
    text = str(term.value)
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _tsv_cell(term: Any) -> str:
    return "" if term is None else str(term)


def serialize_solutions(variables: list[str], rows: list[Any], fmt: str) -> bytes:
    """SELECT results in one of the SPARQL 1.1 result formats."""
    if fmt == "json":
        bindings = [
            {var: _term_json(row[var]) for var in variables if row[var] is not None} for row in rows
        ]
        document = {"head": {"vars": variables}, "results": {"bindings": bindings}}
        return json.dumps(document, ensure_ascii=False).encode("utf-8")
    if fmt == "xml":
        head = "".join(f'<variable name="{xml_escape(v)}"/>' for v in variables)
        results = "".join(
            "<result>"
            + "".join(
                f'<binding name="{xml_escape(v)}">{_term_xml(row[v])}</binding>'
                for v in variables
                if row[v] is not None
            )
            + "</result>"
            for row in rows
        )
        return (
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head>{head}</head><results>{results}</results></sparql>\n"
        ).encode()
    if fmt == "csv":
        lines = [",".join(variables)] + [
            ",".join(_csv_cell(row[v]) for v in variables) for row in rows
        ]
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")
    lines = ["\t".join(f"?{v}" for v in variables)]
    lines += ["\t".join(_tsv_cell(row[v]) for v in variables) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def serialize_boolean(value: bool, fmt: str) -> bytes:
    """An ASK result in one of the SPARQL 1.1 result formats."""
    word = "true" if value else "false"
    if fmt == "json":
        return json.dumps({"head": {}, "boolean": value}).encode("utf-8")
    if fmt == "xml":
        return (
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head/><boolean>{word}</boolean></sparql>\n"
        ).encode()
    return f"_askResult\n{word}\n".encode() if fmt in ("csv", "tsv") else word.encode()


def serialize_triples(triples: list[Any], fmt: str, prefixes: dict[str, str]) -> bytes:
    """CONSTRUCT/DESCRIBE results as Turtle, N-Triples or JSON-LD (expanded form)."""
    import pyoxigraph as ox

    if fmt == "jsonld":
        nodes: dict[str, dict[str, Any]] = {}
        for triple in triples:
            subject = triple.subject
            key = subject.value if isinstance(subject, ox.NamedNode) else f"_:{subject.value}"
            node = nodes.setdefault(key, {"@id": key})
            obj = triple.object
            if isinstance(obj, ox.NamedNode):
                value: dict[str, str] = {"@id": obj.value}
            elif isinstance(obj, ox.BlankNode):
                value = {"@id": f"_:{obj.value}"}
            else:
                value = {"@value": obj.value}
                if obj.language:
                    value["@language"] = obj.language
                elif obj.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
                    value["@type"] = obj.datatype.value
            node.setdefault(triple.predicate.value, []).append(value)
        return json.dumps(list(nodes.values()), ensure_ascii=False, indent=1).encode("utf-8")
    if fmt == "turtle":
        return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes) or b""
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""


def answer(
    store: Any, base: str, text: str, accept: str, wanted: str | None, max_rows: int
) -> Answer:
    """Run one checked query over a store and make the HTTP answer."""
    import pyoxigraph as ox

    from conceptgraph.rdf.sparql import run_query

    found = run_query(store, text, base)
    fmt = negotiate(accept, found.kind, wanted)
    result = found.result
    if isinstance(result, ox.QueryBoolean):
        return Answer(200, SELECT_TYPES[fmt], serialize_boolean(bool(result), fmt))
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows = list(islice(result, max_rows + 1))
        truncated = len(rows) > max_rows
        body = serialize_solutions(variables, rows[:max_rows], fmt)
        return Answer(200, SELECT_TYPES[fmt], body, truncated)
    triples = list(islice(result, max_rows + 1))
    truncated = len(triples) > max_rows
    body = serialize_triples(triples[:max_rows], fmt, dict(found.prefixes))
    return Answer(200, GRAPH_TYPES[fmt], body, truncated)


# --------------------------------------------------------------------------------- workers


@dataclass(frozen=True, slots=True)
class Job:
    """One query for a worker."""

    text: str
    accept: str
    wanted: str | None
    max_rows: int


# A worker that ran out of memory in Python code leaves with this status; one that ran out in
# pyoxigraph's Rust code is aborted by Rust's allocation failure handler (SIGABRT).
_OUT_OF_MEMORY_EXIT = 86
_OUT_OF_MEMORY = (_OUT_OF_MEMORY_EXIT, -signal.SIGABRT)


def default_worker_memory(workers: int) -> int:
    """Bytes each worker may hold by default: a quarter of physical memory, shared by them.

    The rest is left to the machine and to the server itself; at least 256 MiB, which
    holds the graph of a few thousand notes.
    """
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        physical = 8 << 30
    return max(256 << 20, physical // 4 // max(1, workers))


def forkable(dataset: Dataset, memory: int | None) -> bool:
    """Whether the first workers can be forked from this process, holding its graph as it is.

    Forked, a worker has the graph this process made at once, its pages shared, where one
    started afresh loads it again (3 s a worker at 10,000 notes). Only while this process
    runs no thread of its own (a thread holding a lock as it forks leaves it held in the
    child), and has less than half a worker's memory bound (a forked worker's bound counts
    what it was forked with).
    """
    if dataset.store is None or threading.active_count() != 1:
        return False
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    if memory is None:
        return True
    held = _data_size()
    return held is not None and held * 2 < memory


def _data_size() -> int | None:
    """The bytes of data (heap, private mappings) this process holds: what RLIMIT_DATA counts."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) << 10
    except (OSError, ValueError, IndexError):
        pass
    return None


def _bound_memory(limit: int | None) -> None:
    """Hold this process to ``limit`` bytes of data (heap and private mappings)."""
    if not limit:
        return
    try:
        import resource
    except ImportError:  # not a POSIX system: no rlimits, only the time limit holds
        return
    # RLIMIT_DATA counts what is allocated, not address space merely reserved (as RLIMIT_AS
    # does, with each thread's malloc arena), so the bound is close to what the worker holds.
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def _end_with_parent() -> None:
    """End this worker when the server is gone, even in the middle of a runaway query.

    A server ended by a signal runs no clean-up, and a worker deep in a query never reads
    its pipe again: without this it would run that query for ever. The engine releases the
    GIL while it evaluates, so this thread gets to look.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="conceptgraph-parent-watch", daemon=True).start()


def _worker(conn: Connection, dataset: Dataset, memory: int | None) -> None:
    from conceptgraph.rdf.sparql import on_deep_stack, set_engine_stack

    # Bound before loading: the graph itself counts, and a graph too large for the bound makes
    # the worker fail at start, where the server can say so.
    _bound_memory(memory)
    _end_with_parent()
    if memory:
        # A thread's stack is a private mapping, counted by RLIMIT_DATA: an eighth of it.
        set_engine_stack(memory // 8)
    store = dataset.open()
    base = dataset.base
    del dataset
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        if isinstance(job, Dataset):
            # A new graph after an edit: opened in place, no new process to start.
            del store
            store, base = job.open(), job.base
            conn.send("ready")
            continue
        try:
            reply: Answer = on_deep_stack(
                partial(answer, store, base, job.text, job.accept, job.wanted, job.max_rows)
            )
        except MemoryError:
            # What this process holds may be half made: leave, and let a fresh worker take over.
            os._exit(_OUT_OF_MEMORY_EXIT)
        except QueryError as exc:
            status = 406 if "can be made" in str(exc) or "not offered" in str(exc) else 400
            reply = Answer(status, "text/plain; charset=utf-8", f"{exc}\n".encode())
        except Exception as exc:
            reply = Answer(500, "text/plain; charset=utf-8", f"query failed: {exc}\n".encode())
        conn.send(reply)


class QueryTimeout(ConceptgraphError):
    """A query ran past the time limit and was stopped."""


class Busy(ConceptgraphError):
    """No worker became free in time, or the workers long queries may hold are all held."""


class OutOfMemory(ConceptgraphError):
    """A query needed more memory than a worker may hold, and its worker was ended."""


@dataclass
class _Process:
    process: Any
    conn: Connection
    generation: int


class WorkerPool:
    """Worker processes that each hold the vault's graph; one query at a time each.

    Short queries keep a share of the workers while long ones run. A worker cannot be taken
    back from a query without ending it, and a query's cost is unknown until it runs, so the
    share is kept as queries run: one that is still running ``long_after`` seconds after it
    started is a long query, and at most ``long_limit`` long queries run at once (all workers
    but a quarter of them, at least one kept back when there are two or more). A query that
    becomes long when that many already are is stopped there (503, and a fresh worker takes
    its place), so the kept-back workers are never held past ``long_after`` by one query and
    short queries from every client are answered while runaway ones run out their time.
    Client addresses are not counted: on the loopback address every client has the same one.
    """

    def __init__(
        self,
        dataset: Dataset,
        size: int,
        memory: int | None = None,
        long_after: float = 0.5,
        fork: bool = False,
    ) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._idle: queue.Queue[_Process] = queue.Queue()
        self._data = dataset
        self._generation = 0
        self._long = 0  # queries now running past long_after
        # Texts that ran past long_after, by graph generation: a dict kept in insertion order.
        self._known_long: dict[tuple[int, str], None] = {}
        self.size = size
        self.memory = memory
        self.long_after = long_after
        self.long_limit = size - (max(1, size // 4) if size >= 2 else 0)
        context: Any
        if fork:
            context = multiprocessing.get_context("fork")
        else:
            context, self._data = self._context, dataset.portable()
        # All started before any is waited for: each loads its graph on a core of its own.
        started = [self._launch(self._data, context) for _ in range(size)]
        try:
            for process, conn in started:
                self._idle.put(self._ready(process, conn, 0))
        except BaseException:
            for process, _ in started:
                process.kill()
                process.join()
            raise

    def _launch(self, dataset: Dataset, context: Any) -> tuple[Any, Connection]:
        parent, child = context.Pipe()
        process = context.Process(target=_worker, args=(child, dataset, self.memory), daemon=True)
        process.start()
        child.close()
        return process, parent

    def _start(self) -> _Process:
        with self._lock:
            # A fresh process cannot open a store in this one's memory: it gets the triples.
            self._data = dataset = self._data.portable()
            generation = self._generation
        process, parent = self._launch(dataset, self._context)
        return self._ready(process, parent, generation)

    def _ready(self, process: Any, parent: Connection, generation: int) -> _Process:
        try:
            ready = parent.recv()
        except EOFError:
            ready = None
        if ready != "ready":
            process.join()
            if process.exitcode in _OUT_OF_MEMORY and self.memory:
                raise ConceptgraphError(
                    f"the vault's graph does not fit in a query worker's {self.memory >> 20} MiB;"
                    " give more with --worker-memory"
                )
            raise ConceptgraphError("a query worker failed to start")
        return _Process(process, parent, generation)

    def _replace_later(self) -> None:
        """Put a fresh worker in the pool, without holding up the answer being made."""

        def start() -> None:
            with contextlib.suppress(ConceptgraphError):
                self._idle.put(self._start())

        threading.Thread(target=start, daemon=True).start()

    def reload(self, dataset: Dataset) -> None:
        """Serve a new graph: workers of the old one move to it as they come back."""
        with self._lock:
            self._data = dataset
            self._generation += 1
        for _ in range(self.size):
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                break
            self._idle.put(self._current(worker))

    def _current(self, worker: _Process) -> _Process:
        """The worker serving the graph of now: told to open it, or one started afresh."""
        with self._lock:
            dataset, generation = self._data, self._generation
        if worker.generation == generation:
            return worker
        if dataset.folder is not None:
            # Opening a store on disk takes a moment; loading N-Quads is no quicker in an old
            # worker than in a new one, which also gives back what the old graph held.
            try:
                worker.conn.send(dataset)
                if worker.conn.poll(60) and worker.conn.recv() == "ready":
                    return _Process(worker.process, worker.conn, generation)
            except (OSError, EOFError):
                pass
        self._stop(worker)
        return self._start()

    def run(self, job: Job, timeout: float) -> Answer:
        """Answer a job within ``timeout`` seconds; raise QueryTimeout, Busy or OutOfMemory."""
        self._refuse_known_long(job.text)
        try:
            worker = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise Busy(f"every query worker is busy; try again in {timeout:.0f} s") from None
        try:
            self._refuse_known_long(job.text)  # it may have become known while this one waited
        except Busy:
            self._idle.put(worker)
            raise
        worker = self._current(worker)
        worker.conn.send(job)
        short = min(self.long_after, timeout)
        reply = self._wait(worker, short)
        if reply is None and short < timeout:
            reply = self._run_long(worker, job.text, timeout - short)
        if reply is not None:
            return reply
        self._end(worker)
        raise QueryTimeout(f"the query ran past the {timeout:g} s limit and was stopped")

    def _run_long(self, worker: _Process, text: str, seconds: float) -> Answer | None:
        """Let a query that became long go on for ``seconds`` more, if a long one may."""
        with self._lock:
            self._known_long[(self._generation, text)] = None
            while len(self._known_long) > 256:
                del self._known_long[next(iter(self._known_long))]
            admitted = self._long < self.long_limit
            if admitted:
                self._long += 1
        if not admitted:
            self._end(worker)
            raise Busy(self._long_message(f"this one was stopped after {self.long_after:g} s"))
        try:
            return self._wait(worker, seconds)
        finally:
            with self._lock:
                self._long -= 1

    def _refuse_known_long(self, text: str) -> None:
        # The same text over the same graph runs as long again: while no long query may start,
        # it would only hold a kept-back worker until it is stopped, so it is refused at once.
        with self._lock:
            full = self._long >= self.long_limit
            known = (self._generation, text) in self._known_long
        if full and known:
            raise Busy(self._long_message("this query ran long before, and was not started"))

    def _long_message(self, what: str) -> str:
        many = self.long_limit
        running = "1 long query is" if many == 1 else f"{many} long queries are"
        return (
            f"{running} running, the most at once while short queries are kept a worker;"
            f" {what}: try again when they are done"
        )

    def _wait(self, worker: _Process, seconds: float) -> Answer | None:
        """The worker's answer within ``seconds``, or None while it is still at work."""
        if not worker.conn.poll(seconds):
            return None
        try:
            reply: Answer = worker.conn.recv()
        except EOFError:
            worker.process.join()
            self._replace_later()
            if worker.process.exitcode in _OUT_OF_MEMORY:
                limit = f"its {self.memory >> 20} MiB" if self.memory else "the memory it had"
                raise OutOfMemory(
                    f"the query needed more than {limit} (--worker-memory) and was stopped"
                ) from None
            return Answer(500, "text/plain; charset=utf-8", b"query worker died\n")
        self._idle.put(worker)
        return reply

    def _end(self, worker: _Process) -> None:
        # pyoxigraph cannot cancel a query: end the process, and put a fresh one in its place.
        worker.process.kill()
        worker.process.join()
        self._replace_later()

    def _stop(self, worker: _Process) -> None:
        with contextlib.suppress(OSError):
            worker.conn.send(None)
        worker.process.join(timeout=2)
        if worker.process.is_alive():
            worker.process.kill()

    def close(self) -> None:
        """End every idle worker."""
        while True:
            try:
                self._stop(self._idle.get_nowait())
            except queue.Empty:
                return


# -------------------------------------------------------------------------------- the site


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>conceptgraph: {title}</title>
<style>body{{font:15px system-ui,sans-serif;margin:2em;max-width:70em}}
textarea{{width:100%;height:12em;font:14px monospace}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left;font-size:13px}}
#error{{color:#b00;white-space:pre-wrap}}</style></head>
<body><h1>SPARQL over <code>{title}</code></h1>
<p>Read-only. Prefixes rdf, rdfs, xsd, skos, dcterms, prov, cg and vault are predeclared.
Endpoint: <code>/sparql</code> (SPARQL 1.1 Protocol).</p>
<form id="f"><textarea id="q" name="query">{example}</textarea><br>
<button>Run</button></form><p id="error"></p><div id="out"></div>
<script>
document.getElementById('f').onsubmit = async (e) => {{
  e.preventDefault();
  const out = document.getElementById('out'), err = document.getElementById('error');
  out.textContent = ''; err.textContent = '';
  const r = await fetch('sparql', {{method: 'POST',
    headers: {{'Content-Type': 'application/sparql-query',
              'Accept': 'application/sparql-results+json, text/turtle'}},
    body: document.getElementById('q').value}});
  const text = await r.text();
  if (!r.ok) {{ err.textContent = text; return; }}
  if (!(r.headers.get('Content-Type') || '').includes('json')) {{
    const pre = document.createElement('pre'); pre.textContent = text; out.append(pre); return; }}
  const data = JSON.parse(text);
  if ('boolean' in data) {{ out.textContent = String(data.boolean); return; }}
  const table = document.createElement('table'), head = table.insertRow();
  for (const v of data.head.vars) {{ const th = document.createElement('th');
    th.textContent = v; head.append(th); }}
  for (const b of data.results.bindings) {{ const row = table.insertRow();
    for (const v of data.head.vars) row.insertCell().textContent = b[v] ? b[v].value : ''; }}
  out.append(table);
}};
</script></body></html>
"""

EXAMPLE = """SELECT ?concept ?label WHERE {
  ?concept a skos:Concept ; skos:prefLabel ?label .
} ORDER BY ?label LIMIT 50"""


class Endpoint:
    """What the request handlers share: the pool, the limits, the vault's base IRI."""

    def __init__(self, root: Path, options: ServeOptions, base: str | None = None) -> None:
        self.root = root
        self.options = options
        self.shared = SharedStore(root, base, options.cache)
        dataset = self.shared.dataset()
        self.base = dataset.base
        memory = options.memory_bound()
        fork = forkable(dataset, memory)
        self.pool = WorkerPool(dataset, options.workers, memory, options.long_after, fork)
        # After the fork: it starts a thread, which makes the copy of the triples kept.
        self.shared.settle()

    def reload(self) -> None:
        """Serve the graph of the vault as it is now (the kept copy updated, or read again)."""
        # In this process: the server's threads run, and a thread may hold a lock (stderr's,
        # say) that a forked worker would inherit held.
        dataset = self.shared.dataset(jobs=1)
        self.base = dataset.base
        self.pool.reload(dataset)
        self.shared.settle()

    def close(self) -> None:
        """End the workers, and remove the server's snapshots of the store."""
        self.pool.close()
        self.shared.close()

    def query(self, text: str, accept: str, wanted: str | None, graphs: Iterable[str]) -> Answer:
        """Check and run a query; refusals are raised as ``QueryError``."""
        from conceptgraph.rdf.sparql import check_query

        for graph in graphs:
            if graph != self.base:
                raise QueryError(f"only the vault's own graph <{self.base}> can be queried")
        check_query(text, graphs=(self.base,))
        job = Job(text, accept, wanted, self.options.max_rows)
        return self.pool.run(job, self.options.timeout)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def escape_log(text: str) -> str:
    r"""``text`` fit for a terminal: control characters (escape sequences too) as ``\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without its port: ``[::1]:8000`` -> ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rpartition(":")[0] if header.count(":") == 1 else header


def served_hosts(options: ServeOptions) -> frozenset[str] | None:
    """The ``Host`` names answered (None: any, when bound beyond loopback)."""
    if not is_loopback(options.host):
        return None
    return _LOOPBACK_NAMES | {options.host.lower(), *(h.lower() for h in options.allowed_hosts)}


def make_handler(endpoint: Endpoint, log: Callable[[str], None]) -> type[BaseHTTPRequestHandler]:
    """The request handler class bound to one endpoint."""
    hosts = served_hosts(endpoint.options)
    origins = frozenset(endpoint.options.cors)

    class Handler(BaseHTTPRequestHandler):
        server_version = "conceptgraph"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            # The request line is the client's: never let it write to the terminal raw.
            log(escape_log(f"{self.address_string()} {format % args}"))

        def _refused(self) -> bool:
            """Refuse a request a web page made behind the user's back; True when refused."""
            host = self.headers.get("Host")
            if hosts is not None and (host is None or host_name(host) not in hosts):
                # A name of the attacker's resolving to 127.0.0.1 (DNS rebinding).
                self._fail(
                    HTTPStatus.FORBIDDEN,
                    f"Host {host!r} is not served here (against DNS rebinding); "
                    "serve --allow-host NAME adds a name",
                )
                return True
            origin = self.headers.get("Origin")
            if origin is None or origin.rstrip("/") in origins:
                return False
            parts = urllib.parse.urlsplit(origin)
            if host is not None and parts.netloc.lower() == host.strip().lower():
                return False  # the endpoint's own query page
            self._fail(
                HTTPStatus.FORBIDDEN,
                f"pages of {origin} may not query this endpoint; serve --cors ORIGIN allows one",
            )
            return True

        def end_headers(self) -> None:
            origin = self.headers.get("Origin") if hasattr(self, "headers") else None
            if origin is not None and origin.rstrip("/") in origins:
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Vary", "Origin")
            super().end_headers()

        def do_OPTIONS(self) -> None:
            if self._refused():
                return
            self._send(
                204,
                "text/plain; charset=utf-8",
                b"",
                {
                    "Access-Control-Allow-Methods": "GET, POST",
                    "Access-Control-Allow-Headers": "Content-Type, Accept",
                },
            )

        def setup(self) -> None:
            super().setup()
            self._reader = DeadlineReader(self.connection, endpoint.options.request_timeout)
            self.rfile = io.BufferedReader(self._reader)

        def handle_one_request(self) -> None:
            self._reader.arm()
            super().handle_one_request()

        def log_error(self, format: str, *args: Any) -> None:
            if format.startswith("Request timed out") and not self._reader.started:
                return  # a kept-alive connection left idle: closed without a word
            super().log_error(format, *args)

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                # The client left while the connection was kept open for its next request (or
                # while it was still sending one): nothing to answer, and the server goes on.
                self.close_connection = True

        def _send(
            self, status: int, content_type: str, body: bytes, extra: dict[str, str] | None = None
        ) -> None:
            try:
                # A client that stops reading its answer is let go as one that stops writing.
                self.connection.settimeout(endpoint.options.request_timeout)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                # The client left (or stopped reading); the answer has nowhere to go.
                self.close_connection = True

        def _fail(self, status: HTTPStatus | int, message: str) -> None:
            self._send(int(status), "text/plain; charset=utf-8", (message.rstrip() + "\n").encode())

        def do_GET(self) -> None:
            if self._refused():
                return
            url = urllib.parse.urlsplit(self.path)
            if url.path in ("/", "/index.html"):
                page = PAGE.format(
                    title=html.escape(endpoint.root.name), example=html.escape(EXAMPLE)
                )
                self._send(200, "text/html; charset=utf-8", page.encode("utf-8"))
                return
            if url.path != "/sparql":
                self._fail(
                    HTTPStatus.NOT_FOUND, f"no such page: {url.path}; the endpoint is /sparql"
                )
                return
            params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            if "update" in params:
                self._fail(HTTPStatus.FORBIDDEN, READ_ONLY)
                return
            if "query" not in params:
                self._fail(HTTPStatus.BAD_REQUEST, "give the query as ?query=...")
                return
            self._run(params["query"][0], params)

        do_HEAD = do_GET

        def do_POST(self) -> None:
            if self._refused():
                return
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/sparql":
                self._fail(
                    HTTPStatus.NOT_FOUND, f"no such page: {url.path}; the endpoint is /sparql"
                )
                return
            try:
                length = int(self.headers.get("Content-Length") or "0")
            except ValueError:
                length = -1
            if length < 0:
                self._fail(HTTPStatus.LENGTH_REQUIRED, "a POST needs a Content-Length")
                return
            if length > endpoint.options.max_query_bytes:
                # Read what the client sends (up to a bound) before answering: closing on a
                # client still writing resets the connection and it never sees the 413.
                remaining = min(length, DRAIN_LIMIT)
                while remaining > 0:
                    chunk = self.rfile.read(min(remaining, 1 << 16))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                self.close_connection = True
                self._fail(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    f"the request is larger than {endpoint.options.max_query_bytes} bytes",
                )
                return
            body = self.rfile.read(length)
            media = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            if media == "application/sparql-update":
                self._fail(HTTPStatus.FORBIDDEN, READ_ONLY)
                return
            if media == "application/sparql-query":
                text = body.decode("utf-8", "replace")
            elif media == "application/x-www-form-urlencoded":
                form = urllib.parse.parse_qs(
                    body.decode("utf-8", "replace"), keep_blank_values=True
                )
                if "update" in form:
                    self._fail(
                        HTTPStatus.FORBIDDEN, "this endpoint is read-only: updates are refused"
                    )
                    return
                if "query" not in form:
                    self._fail(HTTPStatus.BAD_REQUEST, "the form has no query field")
                    return
                text = form["query"][0]
                for key, values in form.items():
                    params.setdefault(key, values)
            else:
                self._fail(
                    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                    "POST application/sparql-query or application/x-www-form-urlencoded",
                )
                return
            self._run(text, params)

        def do_PUT(self) -> None:
            self._fail(HTTPStatus.METHOD_NOT_ALLOWED, "this endpoint is read-only")

        do_DELETE = do_PATCH = do_PUT

        def _run(self, text: str, params: dict[str, list[str]]) -> None:
            if len(text.encode("utf-8")) > endpoint.options.max_query_bytes:
                self._fail(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "the query is too large")
                return
            graphs = params.get("default-graph-uri", []) + params.get("named-graph-uri", [])
            wanted = params["format"][0] if params.get("format") else None
            started = time.perf_counter()
            try:
                reply = endpoint.query(text, self.headers.get("Accept") or "", wanted, graphs)
            except (QueryTimeout, Busy, OutOfMemory) as exc:
                self._fail(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))
                return
            except QueryError as exc:
                refused = any(word in str(exc) for word in ("read-only", "update", "UPDATE"))
                self._fail(HTTPStatus.FORBIDDEN if refused else HTTPStatus.BAD_REQUEST, str(exc))
                return
            extra = {"X-Query-Seconds": f"{time.perf_counter() - started:.4f}"}
            if reply.truncated:
                extra["X-Result-Truncated"] = f"more than {endpoint.options.max_rows} rows"
            self._send(reply.status, reply.content_type, reply.body, extra)

    return Handler


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Connections the kernel holds until they are accepted. socketserver's default of 5 drops
    # the SYNs of a burst of clients, which then wait out TCP's retransmission (1 s, 3 s, 7 s).
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], most: int
    ) -> None:
        super().__init__(address, handler)
        self.bound = ConnectionBound(most)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.bound.take(request):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.bound.give_back()  # no thread was started to give it back
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.bound.give_back()


def serve(
    root: Path,
    options: ServeOptions,
    base: str | None = None,
    watch: bool = False,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    ready: Callable[[str], None] | None = None,
    until: threading.Event | None = None,
) -> None:
    """Serve the vault at ``root`` until interrupted, or until ``until`` is set."""
    from conceptgraph.watch import snapshot

    # Taken before the vault is read: an edit made while it is, or before the watch starts,
    # is one the watch still sees (it once missed an edit made right after start-up).
    seen = snapshot([root]) if watch else {}
    endpoint = Endpoint(root, options, base)
    try:
        server = _HTTPServer(
            (options.host, options.port), make_handler(endpoint, log), options.max_connections
        )
    except BaseException:
        endpoint.close()
        raise
    host, port = str(server.server_address[0]), int(server.server_address[1])
    url = f"http://{host}:{port}/sparql"
    stop = threading.Event()
    try:
        if ready is not None:
            ready(url)
        if threading.current_thread() is threading.main_thread():
            # Ended with SIGTERM (a service manager, ``kill``): leave as from Ctrl-C, cleaning up.
            signal.signal(signal.SIGTERM, _terminated)
        if watch:
            threading.Thread(target=_watch, args=(endpoint, stop, log, seen), daemon=True).start()
        if until is not None:

            def shut() -> None:
                until.wait()
                server.shutdown()

            threading.Thread(target=shut, daemon=True).start()
        server.serve_forever(poll_interval=0.2)
    finally:
        stop.set()
        server.server_close()
        endpoint.close()


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _watch(
    endpoint: Endpoint,
    stop: threading.Event,
    log: Callable[[str], None],
    before: dict[Path, tuple[int, int, int]],
) -> None:
    from conceptgraph.watch import changed, snapshot

    while not stop.wait(0.5):
        after = snapshot([endpoint.root])
        if not changed(before, after):
            continue
        before = after
        try:
            endpoint.reload()
            log(f"reloaded {endpoint.root} after a change")
        except (ConceptgraphError, OSError, RuntimeError, ValueError) as exc:
            # Not the end of the watch: the next edit is served all the same.
            log(f"reload failed, still serving the previous graph: {exc}")
