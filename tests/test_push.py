"""`conceptgraph push` into a real Oxigraph server started by the test on 127.0.0.1."""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

NOTES = Path(__file__).parent.parent / "notes"
GRAPH = "urn:conceptgraph:notes:"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def oxigraph(tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "serve", "--location", str(tmp_path / "store"), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/query?query=ASK%7B%7D", timeout=2).read()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        raise AssertionError("oxigraph did not start")
    yield url
    process.terminate()
    process.wait(timeout=10)


def push(
    vault: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conceptgraph", "push", str(vault), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def labels(store: str, graph: str = GRAPH) -> set[str]:
    label = "<http://www.w3.org/2004/02/skos/core#prefLabel>"
    query = f"SELECT ?l WHERE {{ GRAPH <{graph}> {{ ?c {label} ?l }} }}"
    request = urllib.request.Request(
        store + "/query?" + urllib.parse.urlencode({"query": query}),
        headers={"Accept": "text/csv"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return set(response.read().decode().splitlines()[1:])


def test_push_then_repush_leaves_no_stale_triples(oxigraph: str, tmp_path: Path) -> None:
    vault = tmp_path / "notes"
    shutil.copytree(NOTES, vault)
    done = push(vault, "--store", oxigraph + "/store")
    assert done.returncode == 0, done.stderr
    assert "triples" in done.stderr
    assert {"Migration", "Rollback", "Residual"} <= labels(oxigraph)
    assert len(labels(oxigraph)) == 20

    note = vault / "rollback.md"
    note.write_text(note.read_text(encoding="utf-8").replace("# Rollback", "# Roll-back"), "utf-8")
    done = push(vault, "--store", oxigraph + "/store")
    assert done.returncode == 0, done.stderr
    after = labels(oxigraph)
    assert "Roll-back" in after
    assert "Rollback" not in after
    assert len(after) == 20


def test_push_into_a_chosen_graph(oxigraph: str) -> None:
    done = push(NOTES, "--store", oxigraph + "/store", "--graph", "urn:example:mine")
    assert done.returncode == 0, done.stderr
    assert "Migration" in labels(oxigraph, "urn:example:mine")
    assert labels(oxigraph) == set()


def test_failed_push_names_status_and_body(oxigraph: str) -> None:
    done = push(NOTES, "--store", oxigraph + "/no-such-endpoint")
    assert done.returncode == 2
    assert "HTTP 404" in done.stderr
    assert "Traceback" not in done.stderr


def test_unreachable_store(tmp_path: Path) -> None:
    done = push(NOTES, "--store", f"http://127.0.0.1:{_free_port()}/store")
    assert done.returncode == 2
    assert "cannot reach" in done.stderr


def test_credentials_never_appear(oxigraph: str) -> None:
    secret = "s3cr3t-Passw0rd"
    done = push(
        NOTES,
        "--store",
        oxigraph.replace("http://", f"http://alice:{secret}@") + "/store",
        env={"CG_PASSWORD": secret},
    )
    assert done.returncode == 0, done.stderr
    assert secret not in done.stderr + done.stdout
    assert "alice" not in done.stderr + done.stdout
    done = push(
        NOTES,
        "--store",
        oxigraph + "/nowhere",
        "--user",
        "alice",
        "--password-env",
        "CG_PASSWORD",
        env={"CG_PASSWORD": secret},
    )
    assert done.returncode == 2
    assert secret not in done.stderr + done.stdout


def test_password_env_must_exist(oxigraph: str) -> None:
    done = push(NOTES, "--store", oxigraph + "/store", "--user", "a", "--password-env", "NOPE_X")
    assert done.returncode == 2
    assert "NOPE_X" in done.stderr


class _Echo(BaseHTTPRequestHandler):
    """A store that fails the way debug pages and proxies do: the request echoed back."""

    def do_PUT(self) -> None:
        length = self.headers.get("Content-Length")
        if length is None:  # chunked: read to the last chunk
            while (size := int(self.rfile.readline().split(b";")[0], 16)) != 0:
                self.rfile.read(size + 2)
            self.rfile.readline()
        code = 401 if "401" in self.path else 500
        echoed = f"{self.requestline}\n{self.headers}".encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(echoed)))
        self.end_headers()
        self.wfile.write(echoed)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def echoing_store() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("status", ["401", "500"])
def test_a_store_echoing_the_request_shows_no_secret(echoing_store: str, status: str) -> None:
    secret = "s3cr3t/Passw0rd!"
    token = base64.b64encode(f"alice:{secret}".encode()).decode()
    done = push(
        NOTES,
        "--store",
        f"{echoing_store}/{status}",
        "--user",
        "alice",
        "--password-env",
        "CG_PASSWORD",
        env={"CG_PASSWORD": secret},
    )
    assert done.returncode == 2
    said = done.stderr + done.stdout
    assert f"HTTP {status}" in said
    assert "PUT /" in said  # the echo itself is still shown, to help
    assert "Authorization: [hidden]" in said
    assert token not in said and secret not in said
    in_url = push(
        NOTES,
        "--store",
        echoing_store.replace("http://", f"http://alice:{urllib.parse.quote(secret, safe='')}@")
        + f"/{status}",
    )
    said = in_url.stderr + in_url.stdout
    assert in_url.returncode == 2 and f"HTTP {status}" in said
    assert token not in said and secret not in said
    assert urllib.parse.quote(secret, safe="") not in said
