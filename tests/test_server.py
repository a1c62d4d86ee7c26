"""`conceptgraph serve` as users run it: a real process on a free loopback port, real clients."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

NOTES = Path(__file__).parent.parent / "notes"
FOREVER = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
LABELS = "SELECT ?c ?label WHERE { ?c skos:prefLabel ?label } ORDER BY ?label"
NOTE_COUNT = len(list(NOTES.rglob("*.md")))
# Every note is a concept; the tag added to the count tells one request's answer from another's.
TAGGED_COUNT = "SELECT (COUNT(?c) + {tag} AS ?n) WHERE {{ ?c a skos:Concept }}"
# Every pair of triples: over a thousand triples, answers of any size up to ~1.6 million rows.
PAIRS = "SELECT * WHERE {{ ?a ?b ?c . ?d ?e ?f }} LIMIT {rows}"


class Server:
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url
        self.log: list[str] = []

    def get(
        self, params: dict[str, str], accept: str = "", path: str = "/sparql"
    ) -> tuple[int, dict[str, str], bytes]:
        base = self.url.rsplit("/sparql", 1)[0]
        query = "?" + urllib.parse.urlencode(params) if params else ""
        return _call(urllib.request.Request(base + path + query, headers={"Accept": accept}))

    def post(
        self, body: bytes, content_type: str, accept: str = ""
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Content-Type": content_type, "Accept": accept}
        return _call(urllib.request.Request(self.url, data=body, headers=headers, method="POST"))


def _call(request: urllib.request.Request) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def start(vault: Path, *args: str) -> Server:
    process = subprocess.Popen(
        [sys.executable, "-m", "conceptgraph", "serve", str(vault), "--port", "0", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"at (http://\S+/sparql)", line)
        if match:
            server = Server(process, match.group(1))
            server.log = lines
            # Keep reading stderr so the server never blocks on a full pipe.
            threading.Thread(target=lambda: lines.extend(process.stderr or []), daemon=True).start()
            return server
    process.kill()
    raise AssertionError("serve did not start:\n" + "".join(lines))


@contextlib.contextmanager
def serving(vault: Path, *args: str) -> Iterator[Server]:
    running = start(vault, *args)
    try:
        yield running
    finally:
        running.process.terminate()
        running.process.wait(timeout=10)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with serving(NOTES, "--timeout", "3", "--max-rows", "5", "--workers", "2") as running:
        yield running


@pytest.fixture(scope="module")
def roomy_server() -> Iterator[Server]:
    """A server whose answers may run to megabytes."""
    with serving(NOTES, "--timeout", "30", "--max-rows", "100000", "--workers", "2") as running:
        yield running


def _count(body: bytes) -> int:
    """The one number in a SPARQL JSON answer to a COUNT query."""
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def test_binds_loopback_by_default(server: Server) -> None:
    assert server.url.startswith("http://127.0.0.1:")


def test_warns_when_bound_beyond_loopback(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n", encoding="utf-8")
    with serving(tmp_path, "--host", "0.0.0.0") as running:
        assert any("warning: binding 0.0.0.0" in line for line in running.log)


def _wrapper(server: Server, fmt: str) -> SPARQLWrapper:
    client = SPARQLWrapper(server.url)
    client.setReturnFormat(fmt)
    return client


def test_sparqlwrapper_select_json_get_and_post(server: Server) -> None:
    for method in ("GET", "POST"):
        client = _wrapper(server, JSON)
        client.setMethod(method)
        client.setQuery(
            "SELECT ?label WHERE { <urn:conceptgraph:notes:migration> skos:prefLabel ?label }"
        )
        rows = client.queryAndConvert()["results"]["bindings"]  # type: ignore[index]
        assert [row["label"]["value"] for row in rows] == ["Migration"]


def test_sparqlwrapper_xml_csv_and_ask(server: Server) -> None:
    client = _wrapper(server, XML)
    client.setQuery("ASK { <urn:conceptgraph:notes:migration> skos:altLabel 'transition' }")
    document = client.queryAndConvert()
    assert document.getElementsByTagName("boolean")[0].firstChild.data == "true"  # type: ignore[union-attr]
    client = _wrapper(server, CSV)
    client.setQuery(LABELS)
    lines = client.queryAndConvert().decode().splitlines()  # type: ignore[union-attr]
    assert lines[0] == "c,label"
    assert lines[1] == "urn:conceptgraph:notes:backfill,Backfill"


def test_construct_turtle_parses_back(server: Server) -> None:
    client = _wrapper(server, TURTLE)
    client.setQuery(
        "CONSTRUCT { ?c skos:prefLabel ?l } WHERE { ?c skos:prefLabel ?l "
        "FILTER(?c = <urn:conceptgraph:notes:migration>) }"
    )
    data = client.queryAndConvert()
    graph = rdflib.Graph().parse(data=data, format="turtle")  # type: ignore[arg-type]
    assert list(graph) == [
        (
            rdflib.URIRef("urn:conceptgraph:notes:migration"),
            rdflib.URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"),
            rdflib.Literal("Migration"),
        )
    ]


@pytest.mark.parametrize(
    ("accept", "media", "fmt"),
    [
        ("text/tab-separated-values", "text/tab-separated-values", "turtle"),
        ("application/sparql-results+json", "application/sparql-results+json", "turtle"),
        ("text/turtle", "text/turtle", "turtle"),
        ("application/n-triples", "application/n-triples", "nt"),
        ("application/ld+json", "application/ld+json", "json-ld"),
    ],
)
def test_content_negotiation(server: Server, accept: str, media: str, fmt: str) -> None:
    graph_query = accept in ("text/turtle", "application/n-triples", "application/ld+json")
    query = (
        "CONSTRUCT { ?c skos:prefLabel ?l } WHERE { ?c skos:prefLabel ?l } ORDER BY ?l LIMIT 3"
        if graph_query
        else LABELS
    )
    status, headers, body = server.get({"query": query}, accept=accept)
    assert status == 200, body
    assert headers["Content-Type"] == media
    if graph_query:
        graph = rdflib.Graph().parse(data=body, format=fmt)
        assert len(graph) == 3
    elif media == "text/tab-separated-values":
        assert body.decode().splitlines()[0] == "?c\t?label"
    else:
        assert json.loads(body)["head"]["vars"] == ["c", "label"]


def test_unacceptable_media_type_is_406(server: Server) -> None:
    status, _, body = server.get({"query": LABELS}, accept="image/png")
    assert status == 406, body


def test_post_form_and_direct_body(server: Server) -> None:
    form = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"}).encode()
    status, _, body = server.post(form, "application/x-www-form-urlencoded")
    assert (status, json.loads(body)["boolean"]) == (200, True)
    status, _, body = server.post(b"ASK { ?s ?p ?o }", "application/sparql-query")
    assert (status, json.loads(body)["boolean"]) == (200, True)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"INSERT DATA { <urn:a> <urn:b> <urn:c> }", "application/sparql-update"),
        (b"update=DROP+ALL", "application/x-www-form-urlencoded"),
    ],
)
def test_updates_are_refused(server: Server, body: bytes, content_type: str) -> None:
    status, _, message = server.post(body, content_type)
    assert status == 403
    assert b"read-only" in message
    status, _, after = server.get({"query": "ASK { ?s ?p ?o }"})
    assert json.loads(after)["boolean"] is True


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
        "SELECT * FROM <http://example.org/other> WHERE { ?s ?p ?o }",
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    ],
)
def test_network_and_other_graphs_are_refused(server: Server, query: str) -> None:
    status, _, message = server.get({"query": query})
    assert status in (400, 403), message
    assert message.strip()


def test_default_graph_uri_must_be_the_vault(server: Server) -> None:
    status, _, message = server.get(
        {"query": "ASK { ?s ?p ?o }", "default-graph-uri": "http://example.org/g"}
    )
    assert status == 400
    assert b"only the vault's own graph" in message


def test_syntax_error_is_400_with_position(server: Server) -> None:
    status, _, message = server.get({"query": "SELECT ?x WHERE { ?x ?y }"})
    assert status == 400
    assert re.search(rb"\d+:\d+", message), message


def test_row_limit_cuts_and_says_so(server: Server) -> None:
    status, headers, body = server.get({"query": LABELS}, accept="application/sparql-results+json")
    assert status == 200
    assert len(json.loads(body)["results"]["bindings"]) == 5
    assert "more than 5" in headers["X-Result-Truncated"]


def test_time_limit_stops_a_runaway_query_and_others_are_served(server: Server) -> None:
    started = time.monotonic()
    status, _, message = server.get({"query": FOREVER})
    assert status == 503
    assert b"limit" in message
    assert time.monotonic() - started < 15
    status, _, body = server.get({"query": "ASK { ?s ?p ?o }"})
    assert (status, json.loads(body)["boolean"]) == (200, True)


@pytest.mark.parametrize(("clients", "queries"), [(20, 5), (50, 3)], ids=["20x5", "50x3"])
def test_many_clients_at_once(server: Server, clients: int, queries: int) -> None:
    # Each request asks its own question, so an answer sent to the wrong client shows.
    tags = [[100 * client + number for number in range(queries)] for client in range(clients)]
    barrier = threading.Barrier(clients, timeout=30)  # all clients' first queries overlap
    answers: dict[int, tuple[int, int | bytes]] = {}
    seconds: dict[int, float] = {}
    failures: list[BaseException] = []

    def client(mine: list[int]) -> None:
        try:
            barrier.wait()
            for tag in mine:
                started = time.monotonic()
                status, _, body = server.get({"query": TAGGED_COUNT.format(tag=tag)})
                seconds[tag] = time.monotonic() - started
                answers[tag] = (status, _count(body) if status == 200 else body)
        except Exception as exc:  # reported by the assertions below
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(mine,)) for mine in tags]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 90
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not [thread for thread in threads if thread.is_alive()]
    assert not failures
    expected = {tag: (200, NOTE_COUNT + tag) for mine in tags for tag in mine}
    assert answers == expected
    # The whole burst takes a fraction of a second. A connection the server's listen queue had
    # no room for loses its SYN, and TCP sends it again only after a second, then 3 s, 7 s...
    assert max(seconds.values()) < 1.0, sorted(seconds.values())[-5:]


@pytest.mark.parametrize("megabytes", [2, 10])
def test_oversized_query_is_413_and_the_server_goes_on(server: Server, megabytes: int) -> None:
    body = b"ASK { ?s ?p ?o } #" + b"x" * (megabytes << 20)
    status, _, _ = server.post(body, "application/sparql-query")
    assert status == 413
    status, _, answer = server.get({"query": "ASK { ?s ?p ?o }"})
    assert (status, json.loads(answer)["boolean"]) == (200, True)


@pytest.mark.parametrize(
    "rows",
    [2, 1_000, 50_000],
    # ~1 KB and ~0.5 MB fit in the sockets' buffers: the server has written all of it and is
    # waiting for the next request when the reset comes. ~23 MB does not: it is mid-write.
    ids=["small", "hundreds-of-kb", "megabytes"],
)
def test_client_gone_mid_response_leaves_the_server_answering(
    roomy_server: Server, rows: int
) -> None:
    url = urllib.parse.urlsplit(roomy_server.url)
    assert url.hostname == "127.0.0.1" and url.port is not None
    target = url.path + "?" + urllib.parse.urlencode({"query": PAIRS.format(rows=rows)})
    seen = len(roomy_server.log)
    request = f"GET {target} HTTP/1.1\r\nHost: {url.netloc}\r\nAccept: application/json\r\n\r\n"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as raw:
        raw.settimeout(30)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)  # no growing into megabytes
        raw.connect((url.hostname, url.port))
        raw.sendall(request.encode())
        assert raw.recv(1024).startswith(b"HTTP/1.1 200 ")
        # Leave with the rest unread, and with SO_LINGER 0: the connection is reset (RST).
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    status, _, body = roomy_server.get({"query": TAGGED_COUNT.format(tag=0)})
    assert (status, _count(body)) == (200, NOTE_COUNT)
    time.sleep(0.3)  # the reset reached the server's handler long before: let its log be read
    assert roomy_server.process.poll() is None
    log = roomy_server.log[seen:]
    assert "Traceback" not in "".join(log), "".join(log)
    assert any(f'LIMIT+{rows} HTTP/1.1" 200' in line for line in log), log


def test_query_page(server: Server) -> None:
    status, headers, body = server.get({}, path="/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b"<textarea" in body
    assert b"fetch('sparql'" in body


def test_watch_follows_edits(tmp_path: Path) -> None:
    note = tmp_path / "a.md"
    note.write_text("# First title\n", encoding="utf-8")
    query = {"query": "SELECT ?l WHERE { ?c skos:prefLabel ?l }"}
    with serving(tmp_path, "--watch") as running:
        _, _, body = running.get(query, accept="text/csv")
        assert body.decode().splitlines()[1:] == ["First title"]
        note.write_text("# Second title\n", encoding="utf-8")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            _, _, body = running.get(query, accept="text/csv")
            if body.decode().splitlines()[1:] == ["Second title"]:
                break
            time.sleep(0.3)
        assert body.decode().splitlines()[1:] == ["Second title"]


def test_each_load_of_the_vault_gives_back_what_it_froze(tmp_path: Path) -> None:
    # Building the graph keeps the cyclic collector off the objects it makes (they are frozen
    # out of its sight). serve lives on and loads the vault again on every change: each load
    # gives them back, or the cycles each one leaves would be kept for the life of the server.
    import gc

    from conceptgraph.rdf.serve import vault_dataset

    (tmp_path / "a.md").write_text("---\ntype: mechanism\n---\n# A\n\n[[b]]\n")
    (tmp_path / "b.md").write_text("# B\n\n[[a]]\n")
    for _ in range(2):
        nquads, base = vault_dataset(tmp_path, None)
        assert f"<{base}a>".encode() in nquads
        assert gc.get_freeze_count() == 0


# Every triple with every other twice over, sorted: the sort holds all of them in memory.
SORTED_CUBE = "SELECT ?a ?d ?g WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i"


def test_query_past_the_memory_bound_is_503_and_a_fresh_worker_answers() -> None:
    args = ("--workers", "1", "--worker-memory", "300", "--timeout", "120")
    with serving(NOTES, *args) as running:
        status, _, message = running.get({"query": SORTED_CUBE})
        assert status == 503
        assert b"more than its 300 MiB (--worker-memory)" in message, message
        for _ in range(2):  # the one worker there is now is a fresh one
            status, _, body = running.get({"query": TAGGED_COUNT.format(tag=0)})
            assert (status, _count(body)) == (200, NOTE_COUNT)
        assert running.process.poll() is None


def test_short_queries_are_answered_while_runaway_ones_run() -> None:
    with serving(NOTES, "--workers", "2", "--timeout", "8") as running:
        runaways: list[tuple[int, bytes]] = []

        def runaway() -> None:
            with contextlib.suppress(OSError):  # the server is stopped under the last of them
                status, _, body = running.get({"query": FOREVER})
                runaways.append((status, body))

        for _ in range(3):
            threading.Thread(target=runaway, daemon=True).start()
        time.sleep(1.5)  # time for each of them to be sent, and to run past a short query
        status, _, body = running.get({"query": TAGGED_COUNT.format(tag=0)})
        answered_before = list(runaways)
        assert (status, _count(body)) == (200, NOTE_COUNT)
        # Answered while one runaway query still runs out its time (none has reached it yet);
        # the others were stopped, and say why.
        assert not [body for _, body in answered_before if b"limit" in body], answered_before
        assert len(answered_before) == 2, answered_before
        for status, message in answered_before:
            assert status == 503
            assert b"1 long query is running" in message, message


def _raw(server: Server, request: bytes) -> bytes:
    """Send bytes as they are (what urllib would clean up) and read the whole answer."""
    parts = urllib.parse.urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_host_name_not_served_is_refused_against_dns_rebinding(server: Server) -> None:
    port = urllib.parse.urlsplit(server.url).port
    query = urllib.parse.urlencode({"query": "ASK {}"})
    for host, served in [
        (f"evil.example:{port}", False),
        ("evil.example", False),
        (f"127.0.0.1:{port}", True),
        (f"localhost:{port}", True),
        (f"[::1]:{port}", True),
    ]:
        answer = _raw(
            server,
            f"GET /sparql?{query} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode(),
        )
        status = answer.split(b" ", 2)[1]
        assert status == (b"200" if served else b"403"), (host, answer)
        if not served:
            assert b"DNS rebinding" in answer and b"--allow-host" in answer


def test_allow_host_adds_a_name(tmp_path: Path) -> None:
    with serving(NOTES, "--allow-host", "notes.internal") as running:
        port = urllib.parse.urlsplit(running.url).port
        answer = _raw(
            running,
            b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: notes.internal:"
            + str(port).encode()
            + b"\r\nConnection: close\r\n\r\n",
        )
        assert answer.startswith(b"HTTP/1.1 200")


def test_a_page_of_another_site_cannot_post_a_query(server: Server) -> None:
    body = urllib.parse.urlencode({"query": "ASK {}"}).encode()
    request = urllib.request.Request(
        server.url,
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "https://evil.example",
        },
        method="POST",
    )
    status, headers, message = _call(request)
    assert status == 403
    assert b"--cors" in message
    assert "Access-Control-Allow-Origin" not in headers
    # The endpoint's own page, served from the same origin, may.
    own = urllib.parse.urlsplit(server.url)
    request.headers["Origin"] = f"http://{own.netloc}"
    assert _call(request)[0] == 200


def test_cors_lets_one_origin_query_and_says_so(tmp_path: Path) -> None:
    with serving(NOTES, "--cors", "https://app.example") as running:
        request = urllib.request.Request(
            running.url + "?query=ASK%7B%7D",
            headers={"Origin": "https://app.example", "Accept": "application/sparql-results+json"},
        )
        status, headers, body = _call(request)
        assert status == 200 and json.loads(body)["boolean"] is True
        assert headers["Access-Control-Allow-Origin"] == "https://app.example"


def test_terminal_escapes_in_a_request_line_are_logged_escaped(server: Server) -> None:
    _raw(
        server,
        b"GET /\x1b[2J\x1b]0;owned\x07 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any("owned" in line for line in server.log):
        time.sleep(0.1)
    logged = [line for line in server.log if "owned" in line]
    assert logged, server.log[-5:]
    assert all("\x1b" not in line and "\x07" not in line for line in logged)
    assert "\\x1b[2J\\x1b]0;owned\\x07" in logged[0]


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_server_ended_by_a_signal_leaves_no_worker_running_a_query() -> None:
    running = start(NOTES, "--workers", "2", "--timeout", "300")

    def runaway() -> None:
        with contextlib.suppress(OSError):
            running.get({"query": FOREVER})

    threading.Thread(target=runaway, daemon=True).start()
    time.sleep(2)  # the runaway query is in a worker now
    workers = _children(running.process.pid)
    assert workers
    running.process.terminate()  # no clean-up runs on SIGTERM
    running.process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_running(pid) for pid in workers):
        time.sleep(0.2)
    left = [pid for pid in workers if _running(pid)]
    for pid in left:
        os.kill(pid, 9)
    assert left == [], "workers outlived the server"
