"""A query's triples made in keeping workers: the very triples that one process makes.

Over a large vault, ``query`` reads the notes in worker processes that keep them and make
their triples, while this process loads each batch into the store. Every store built so is
compared here, quad for quad, with the store built in one process.
"""

from __future__ import annotations

import os
import signal
from functools import partial
from pathlib import Path

import pyoxigraph as ox
import pytest

from benchmarks.generate_vault import generate_vault
from conceptgraph import api
from conceptgraph.config import load_config
from conceptgraph.errors import WorkerLostError
from conceptgraph.lint import parallel
from conceptgraph.lint.cache import CACHE_DIR_ENV
from conceptgraph.rdf.serve import Endpoint, ServeOptions, vault_dataset
from conceptgraph.rdf.sparql import format_result, load_produced, read_ntriples, vault_store
from conceptgraph.rdf.triples import PartTriples, default_base
from conceptgraph.vault.load import load_vault
from tests.conftest import settled_copies
from tests.test_cache import FIXTURE_VAULTS
from tests.test_sparql import NOTES
from tests.test_storecache import EVERYTHING, _age

CG = "https://w3id.org/conceptgraph/vocab#"


def _quads(store: ox.Store) -> set[str]:
    return set(store.dump(format=ox.RdfFormat.N_QUADS).decode().splitlines())


def _in_one_process(root: Path) -> set[str]:
    root = root.resolve()
    return _quads(vault_store(load_vault(root, load_config(root), 1), default_base(root)))


def _in_workers(root: Path, jobs: int = 2) -> set[str]:
    root = root.resolve()
    base = default_base(root)
    made = partial(read_ntriples, root, load_config(root), base, jobs)
    return _quads(load_produced(made, base))


@pytest.mark.parametrize("vault", [*FIXTURE_VAULTS, NOTES], ids=lambda p: p.name)
def test_fixture_vaults(vault: Path, sharded: list[int]) -> None:
    expected = _in_one_process(vault)
    assert _in_workers(vault) == expected
    assert len(sharded) == 1


def test_the_hostile_vault(hostile_vault: Path, sharded: list[int]) -> None:
    assert _in_workers(hostile_vault) == _in_one_process(hostile_vault)
    assert len(sharded) == 1


def test_what_notes_in_other_workers_name(tmp_path: Path, sharded: list[int]) -> None:
    # A worker a note: every concept without a note, attachment and negation below is named
    # by notes kept in different workers, and its triples must be made once and alike.
    notes = {
        "b.md": "# B\n\n## Structural dependencies\n\n- [[Ghost]] and [[diagram.png]]\n",
        "a.md": "# A\n\nSee [[ghost]] first, then [[c]].\n\n## What this is NOT\n\n"
        "- Not [[Phantom]]: never was.\n- Not c, an alias.\n",
        "c.md": "---\naliases: [see]\n---\n# C\n\n## What this is NOT\n\n"
        "- Not a ghost (it exists).\n\n## Residuals\n\n- a residue\n\n![[diagram.png]]\n",
        "d.md": "# D\n\n[[Phantom]] [[Ghost]] [[a]]\n\n## What this is NOT\n\n"
        "- Not [[b]]: other.\n",
    }
    root = tmp_path / "v"
    root.mkdir()
    for name, text in notes.items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "diagram.png").write_bytes(b"\x89PNG\r\n")
    expected = _in_one_process(root)
    found = _in_workers(root, jobs=len(notes))
    assert found == expected
    assert len(sharded) == 1
    # Each concept without a note is placed where the first note (by path) names it.
    assert _objects(found, "concept:ghost", "path") == ['"a.md"']
    assert _objects(found, "concept:ghost", "line") == [_integer(3)]
    assert _objects(found, "concept:phantom", "path") == ['"a.md"']
    assert _objects(found, "concept:phantom", "line") == [_integer(7)]


def _objects(quads: set[str], subject: str, predicate: str) -> list[str]:
    """The objects of ``<...subject> cg:predicate`` among N-Quads lines."""
    found = []
    for quad in quads:
        s, p, rest = quad.split(" ", 2)
        if s.endswith(f":{subject}>") and p == f"<{CG}{predicate}>":
            found.append(rest.rsplit(" ", 2)[0])
    return found


def _integer(value: int) -> str:
    return f'"{value}"^^<http://www.w3.org/2001/XMLSchema#integer>'


def test_a_query_at_the_real_threshold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "v"
    generate_vault(root, notes=parallel.MIN_NOTES + 50, seed=3)
    used: list[int] = []
    read = parallel.Shards.read
    monkeypatch.setattr(parallel.Shards, "read", lambda *a: used.append(1) or read(*a))
    alone = api.query_vault(root, EVERYTHING, cache=False, jobs=1)
    expected = set(format_result(alone, "tsv").decode().splitlines())
    assert not used
    found = api.query_vault(root, EVERYTHING, cache=False, jobs=2)
    assert set(format_result(found, "tsv").decode().splitlines()) == expected
    assert used == [1]


def test_the_copy_a_query_keeps_holds_the_same_triples(
    tmp_path: Path, sharded: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "caches"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user"))
    root = tmp_path / "v"
    generate_vault(root, notes=12, seed=2)
    _age(root)

    def rows() -> set[str]:
        found = api.query_vault(root, EVERYTHING, cache=True, jobs=2)
        return set(format_result(found, "tsv").decode().splitlines())

    expected = rows()  # the first query in a vault keeps no copy
    assert rows() == expected  # the second keeps one, from the workers' triples
    assert len(sharded) == 2
    settled_copies(root)
    assert rows() == expected  # and the third answers from it, reading nothing
    assert len(sharded) == 2


def test_a_worker_killed_while_making_triples(
    tmp_path: Path, sharded: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As the kernel's out-of-memory killer would end it: said so, and nothing hangs.
    def killed(*args: object) -> object:
        os.kill(os.getpid(), signal.SIGKILL)
        return None

    monkeypatch.setattr(PartTriples, "part", killed)  # made in the workers alone
    root = tmp_path / "v"
    generate_vault(root, notes=4, seed=2)
    with pytest.raises(WorkerLostError, match="killed by signal 9"):
        api.query_vault(root, EVERYTHING, cache=False, jobs=2)


def test_serve_loads_a_large_vault_in_workers_and_reloads_it_alone(
    sharded: list[int],
) -> None:
    # serve reads the vault in workers when it starts, before its threads do; a reload comes
    # while they run, and reads it in its own process.
    endpoint = Endpoint(NOTES.resolve(), ServeOptions(workers=1, cache=False))
    try:
        assert len(sharded) == 1
        before = endpoint.query(EVERYTHING, "text/csv", "csv", ()).body
        endpoint.reload()
        assert len(sharded) == 1
        after = endpoint.query(EVERYTHING, "text/csv", "csv", ()).body
        assert set(after.splitlines()) == set(before.splitlines())  # unordered: no ORDER BY
        assert len(before.splitlines()) > 1000
    finally:
        endpoint.close()
    nquads, _ = vault_dataset(NOTES, None)
    assert set(nquads.decode().splitlines()) == _in_one_process(NOTES)
