"""serve over the kept copy of the triples: it starts from it, follows edits by updating it."""

from __future__ import annotations

import os
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest

from conceptgraph.config import load_config
from conceptgraph.lint.cache import cache_folder
from conceptgraph.rdf import sparql
from conceptgraph.rdf import store as storecache
from conceptgraph.rdf.serve import Endpoint, ServeOptions, serve
from conceptgraph.rdf.servestore import SharedStore
from conceptgraph.rdf.triples import default_base
from tests.conftest import write_vault

LABELS = "SELECT ?l WHERE { ?c skos:prefLabel ?l } ORDER BY ?l"


def settled(root: Path) -> None:
    """Date every file back past the racy window, as files saved a while ago are."""
    past = time.time() - 60
    for path in root.rglob("*.md"):
        os.utime(path, (past, past))


def labels(endpoint: Endpoint) -> list[str]:
    return endpoint.query(LABELS, "text/csv", None, ()).body.decode().splitlines()[1:]


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = write_vault(
        tmp_path / "v", {"a.md": "# Apple\n\n[[b]]\n", "b.md": "# Berry\n", "c.md": "# Cherry\n"}
    )
    settled(root)
    return root


def kept_copies(root: Path) -> list[str]:
    folder = cache_folder(root) / storecache.STORE_DIR
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and len(p.name) == 40)


def copy_kept(root: Path) -> list[str]:
    """The copies kept, once the process that makes the first one is done (up to 60 s)."""
    deadline = time.monotonic() + 60
    while not kept_copies(root) and time.monotonic() < deadline:
        time.sleep(0.1)
    return kept_copies(root)


def started_with_a_copy(root: Path) -> None:
    """As a vault is once a server (or a query) ran in it: a copy of its triples kept."""
    Endpoint(root, ServeOptions(workers=1)).close()
    assert copy_kept(root)


def test_serve_keeps_a_copy_and_starts_from_it(vault: Path) -> None:
    endpoint = Endpoint(vault, ServeOptions(workers=2))
    try:
        assert labels(endpoint) == ["Apple", "Berry", "Cherry"]
    finally:
        endpoint.close()
    key = storecache.state_key(vault, load_config(vault), default_base(vault))
    assert copy_kept(vault) == [key]  # the copy `query` would open
    # The same bytes, size and timestamps: the vault's state, so the copy, is unchanged, and a
    # server that served from the copy serves the old title; one reading the notes would not.
    note = vault / "b.md"
    stamp = note.stat()
    note.write_text("# Bxrry\n", encoding="utf-8")
    os.utime(note, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    again = Endpoint(vault, ServeOptions(workers=2))
    try:
        assert labels(again) == ["Apple", "Berry", "Cherry"]
    finally:
        again.close()
    # A server keeps nothing of its own once it ends: only the copy is left.
    folder = cache_folder(vault) / storecache.STORE_DIR
    assert not [p for p in folder.iterdir() if p.name.startswith("serve-")]


def test_an_edit_updates_the_copy_without_reading_the_vault(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started_with_a_copy(vault)
    endpoint = Endpoint(vault, ServeOptions(workers=2))
    try:
        assert labels(endpoint) == ["Apple", "Berry", "Cherry"]

        def whole_read(*args: object) -> None:
            raise AssertionError("the whole vault was read again")

        monkeypatch.setattr(sparql, "read_ntriples", whole_read)
        (vault / "c.md").write_text("# Cherry tree\n", encoding="utf-8")
        settled(vault)
        endpoint.reload()
        assert labels(endpoint) == ["Apple", "Berry", "Cherry tree"]
        # The updated copy is the one the next `query` opens.
        config = load_config(vault)
        key = storecache.state_key(vault, config, default_base(vault))
        assert key is not None
        opened = storecache.stored(vault, key)
        assert opened is not None
        names = {q.object.value for q in opened.quads_for_pattern(None, None, None, None)}
        assert "Cherry tree" in names
    finally:
        endpoint.close()


def test_workers_open_one_store_on_disk(vault: Path) -> None:
    started_with_a_copy(vault)
    shared = SharedStore(vault)
    try:
        dataset = shared.dataset()
        assert dataset.folder is not None
        # Read-only, by any number of processes at once: a store's files are never written.
        first, second = ox.Store.read_only(dataset.folder), ox.Store.read_only(dataset.folder)
        assert len(first) == len(second) > 0
    finally:
        shared.close()
    assert not Path(dataset.folder).exists()


def test_snapshots_of_a_killed_server_are_removed(vault: Path) -> None:
    started_with_a_copy(vault)
    folder = cache_folder(vault) / storecache.STORE_DIR
    shared = SharedStore(vault)
    dataset = shared.dataset()
    assert dataset.folder is not None
    # As a SIGKILL leaves it: the server gone, its snapshot renamed for a process that is gone.
    gone = folder / "serve-999999999-1"
    os.rename(dataset.folder, gone)
    SharedStore(vault)
    assert not gone.exists()
    assert kept_copies(vault)  # the copy itself stays


def test_without_the_cache_nothing_is_kept(vault: Path) -> None:
    endpoint = Endpoint(vault, ServeOptions(workers=1, cache=False))
    try:
        assert labels(endpoint) == ["Apple", "Berry", "Cherry"]
    finally:
        endpoint.close()
    folder = cache_folder(vault) / storecache.STORE_DIR
    assert not folder.exists() or not kept_copies(vault)


def test_an_edit_made_as_the_server_starts_is_served(vault: Path) -> None:
    # The flaky --watch test's cause: the watch took its first look at the vault only after
    # the server said it was ready, so an edit made in between was taken as the vault's
    # state, and never served. Here the edit is made in that very moment.
    note = vault / "a.md"
    urls: list[str] = []

    def ready(url: str) -> None:
        note.write_text("# Apricot\n\n[[b]]\n", encoding="utf-8")
        urls.append(url)

    options = ServeOptions(port=0, workers=1)
    done = threading.Event()
    thread = threading.Thread(
        target=serve,
        args=(vault, options),
        kwargs={"watch": True, "ready": ready, "log": lambda line: None, "until": done},
        daemon=True,
    )
    thread.start()
    try:
        _served_after_the_edit(urls)
    finally:
        done.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def _served_after_the_edit(urls: list[str]) -> None:
    deadline = time.monotonic() + 30
    while not urls and time.monotonic() < deadline:
        time.sleep(0.05)
    assert urls, "serve did not start"
    query = urllib.parse.urlencode({"query": LABELS})
    seen: list[str] = []
    while time.monotonic() < deadline:
        request = urllib.request.Request(f"{urls[0]}?{query}", headers={"Accept": "text/csv"})
        with urllib.request.urlopen(request, timeout=30) as response:
            seen = response.read().decode().splitlines()[1:]
        if "Apricot" in seen:
            break
        time.sleep(0.2)
    assert seen == ["Apricot", "Berry", "Cherry"]


def test_with_no_copy_the_workers_are_forked_holding_the_graph(vault: Path) -> None:
    # With no copy to open, the first workers are forked from the process that read the vault
    # (none loads the triples again); a worker started later, in place of one a runaway query
    # ended, is a fresh process, and is handed the same triples.
    from conceptgraph.rdf.serve import QueryTimeout

    patterns = " . ".join(f"?s{k} ?p{k} ?o{k}" for k in range(6))
    forever = f"SELECT (COUNT(*) AS ?n) WHERE {{ {patterns} }}"
    endpoint = Endpoint(vault, ServeOptions(workers=1, cache=False, timeout=1.0))
    try:
        worker = endpoint.pool._idle.queue[0].process
        assert type(worker).__name__ == "ForkProcess"
        before = labels(endpoint)
        assert before == ["Apple", "Berry", "Cherry"]
        with pytest.raises(QueryTimeout):
            endpoint.query(forever, "text/csv", None, ())
        deadline = time.monotonic() + 60
        while not endpoint.pool._idle.queue and time.monotonic() < deadline:
            time.sleep(0.05)
        replacement = endpoint.pool._idle.queue[0].process
        assert type(replacement).__name__ == "SpawnProcess"
        assert labels(endpoint) == before
    finally:
        endpoint.close()


def test_a_server_with_a_thread_running_starts_its_workers_afresh(vault: Path) -> None:
    # Forking while another thread may hold a lock would leave the lock held in the worker.
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        endpoint = Endpoint(vault, ServeOptions(workers=1, cache=False))
        try:
            assert type(endpoint.pool._idle.queue[0].process).__name__ == "SpawnProcess"
            assert labels(endpoint) == ["Apple", "Berry", "Cherry"]
        finally:
            endpoint.close()
    finally:
        stop.set()
