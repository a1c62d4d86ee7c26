"""`conceptgraph serve` against clients that hold on: slow senders, slow readers, floods.

Each test runs a real server on a free loopback port and bounded loops of real sockets; a
server without the bound under test would hold the connection for ever, so each waits a
bounded time for the server to let go and fails if it does not.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator

import pytest

from tests.test_server import NOTES, Server, serving

ASK = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})


@pytest.fixture(scope="module")
def strict() -> Iterator[Server]:
    options = ("--request-timeout", "1.5", "--workers", "2")
    with serving(NOTES, *options) as running:
        yield running


def _connect(server: Server) -> socket.socket:
    parts = urllib.parse.urlsplit(server.url)
    assert parts.hostname == "127.0.0.1" and parts.port is not None
    return socket.create_connection((parts.hostname, parts.port), timeout=30)


def _closed_within(sock: socket.socket, seconds: float) -> bytes | None:
    """What the server sent before closing the connection, or None if it is still open."""
    sock.settimeout(0.2)
    got = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return got
        if not chunk:
            return got
        got += chunk
    return None


def _response(sock: socket.socket) -> tuple[bytes, bytes]:
    """One whole answer on a kept-alive connection: its head and its body."""
    sock.settimeout(30)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, body
        body += chunk
    return head, body


def _ask(server: Server) -> int:
    status, _, body = server.get({"query": "ASK { ?s ?p ?o }"})
    assert status != 200 or json.loads(body)["boolean"] is True
    return status


def _trickle(sock: socket.socket, data: bytes, every: float, stop: threading.Event) -> None:
    with contextlib.suppress(OSError):
        for byte in data:
            if stop.wait(every):
                return
            sock.send(bytes([byte]))


def test_headers_sent_a_byte_at_a_time_are_cut_off_and_others_are_served(
    strict: Server,
) -> None:
    request = f"GET /sparql?{ASK} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".encode() + b"y" * 200
    stop = threading.Event()
    slow = [_connect(strict) for _ in range(20)]
    trickles = [
        threading.Thread(target=_trickle, args=(s, request, 0.25, stop), daemon=True) for s in slow
    ]
    for thread in trickles:
        thread.start()
    try:
        # While they trickle, everyone else is answered.
        assert [_ask(strict) for _ in range(10)] == [200] * 10
        # And each slow client is let go at its deadline: not for ever, however it trickles.
        for sock in slow:
            assert _closed_within(sock, 20) is not None
    finally:
        stop.set()
        for sock in slow:
            sock.close()
    assert _ask(strict) == 200


def test_a_body_sent_a_byte_at_a_time_is_cut_off(strict: Server) -> None:
    body = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }" + " " * 100}).encode()
    head = (
        "POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    stop = threading.Event()
    with _connect(strict) as sock:
        sock.sendall(head)
        thread = threading.Thread(target=_trickle, args=(sock, body, 0.25, stop), daemon=True)
        thread.start()
        try:
            answer = _closed_within(sock, 20)
        finally:
            stop.set()
    assert answer is not None
    assert not answer.startswith(b"HTTP/1.1 200")  # never answered as if the body had come
    assert _ask(strict) == 200


def test_a_connection_that_never_sends_is_let_go(strict: Server) -> None:
    with _connect(strict) as sock:
        assert _closed_within(sock, 20) == b""


def test_a_kept_alive_connection_serves_requests_until_it_idles(strict: Server) -> None:
    request = f"GET /sparql?{ASK} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    with _connect(strict) as sock:
        for _ in range(3):
            sock.sendall(request)
            head, body = _response(sock)
            assert head.startswith(b"HTTP/1.1 200"), head
            assert json.loads(body)["boolean"] is True
            time.sleep(0.3)  # well within the deadline: the connection stays open
        assert _closed_within(sock, 20) is not None


def test_past_the_connection_bound_a_client_is_told_to_come_back() -> None:
    with serving(NOTES, "--max-connections", "10", "--request-timeout", "30") as running:
        held = [_connect(running) for _ in range(10)]
        try:
            time.sleep(0.5)  # each is taken by the server's accept loop
            with _connect(running) as extra:
                answer = _closed_within(extra, 20)
            assert answer is not None and answer.startswith(b"HTTP/1.1 503"), answer
            assert b"too many connections" in answer
        finally:
            for sock in held:
                sock.close()
        # The slots come back as the held connections go.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if _ask(running) == 200:
                    break
            time.sleep(0.2)
        assert _ask(running) == 200


def test_a_client_that_stops_reading_its_answer_is_let_go() -> None:
    # An answer of megabytes to a client that reads none of it fills the sockets' buffers; the
    # server gives up on it after the request timeout. With one connection allowed, everyone
    # else is turned away until it does.
    pairs = urllib.parse.urlencode({"query": "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"})
    options = ("--request-timeout", "1.5", "--max-connections", "1")
    options += ("--max-rows", "200000", "--timeout", "60")
    with serving(NOTES, *options) as running:
        sock = _connect(running)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(f"GET /sparql?{pairs} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        try:
            time.sleep(0.5)
            turned_away = 0
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                status = _ask(running)
                if status == 200:
                    break
                assert status == 503
                turned_away += 1
                time.sleep(0.2)
            assert status == 200
            assert turned_away > 0  # the stalled reader did hold the one connection
        finally:
            sock.close()
        assert running.process.poll() is None
