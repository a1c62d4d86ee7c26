"""Issue 28's figures: serve start, each RDF export and the first query, against Oxigraph's load.

    python benchmarks/bench_rdf.py [--notes 1000 10000] [--repeat 1] [--steps query,serve,export]

For each size it generates (or reuses) a synthetic vault (``generate_vault.py``, seed 0) and
runs, each as a whole new process, in one run so that every figure is taken on the same
machine at the same time:

- floor: Oxigraph alone loading the vault's triples (its N-Triples export) into a store in
  memory, in a process of its own: what no route to the triples can beat;
- query: ``conceptgraph query VAULT --no-cache`` counting the triples (reading the vault,
  making the triples, loading them): the first query in a vault;
- query-cache-on: the same query as a user's first one runs it, the cache on (an empty cache
  folder): it also takes the vault's state, to look for a copy; a first query keeps none;
- serve-new: ``conceptgraph serve`` to its first answer with no copy of the triples kept (an
  empty cache folder): its workers load the triples, and a process of its own makes the copy
  (waited for, untimed, after each run: left running, it took the cores of the next run);
- serve-kept: the same with the copy current (made by the process serve-new started, which
  is waited for, untimed);
- serve-edit: with ``--watch``, from saving an edit to one note to the first answer that
  shows it (the kept copy updated, the workers moved to it);
- serve-nocache: ``serve --no-cache``, the route before issue 28 (each worker loads N-Quads);
- export-FORMAT: ``conceptgraph export VAULT --format FORMAT`` (the query's route);
- export-old-FORMAT: the route before it, ``export(open_vault(VAULT), FORMAT)`` in one process.

Each line gives wall time (median of ``--repeat``, and the fastest and slowest) and its ratio to
the floor. Only 127.0.0.1 is contacted; every server is stopped before the next step.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate_vault import generate_vault

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
FORMATS = ("ntriples", "turtle", "jsonld", "rdfxml")
FLOOR = """
import sys, time, pyoxigraph as ox
data = open(sys.argv[1], "rb").read()
started = time.perf_counter()
store = ox.Store()
store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES)
print(time.perf_counter() - started)
"""
OLD_EXPORT = """
import sys
from pathlib import Path
from conceptgraph.api import open_vault
from conceptgraph.export import export
sys.stdout.buffer.write(export(open_vault(Path(sys.argv[1])), sys.argv[2]))
"""


def _run(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _ask(url: str, query: str) -> bytes:
    params = urllib.parse.urlencode({"query": query})
    request = urllib.request.Request(f"{url}?{params}", headers={"Accept": "text/csv"})
    with urllib.request.urlopen(request, timeout=600) as response:
        body: bytes = response.read()
        return body


def _serve(vault: Path, env: dict[str, str], *extra: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "conceptgraph", "serve", str(vault), "--port", "0", *extra],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    for line in process.stderr:
        match = re.search(r"at (http://127\.0\.0\.1:\d+/sparql)", line)
        if match:
            return process, match.group(1)
    raise RuntimeError("serve did not start")


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=60)


def serve_start(vault: Path, env: dict[str, str], *extra: str) -> float:
    """Seconds from starting serve to its first answer."""
    started = time.perf_counter()
    process, url = _serve(vault, env, *extra)
    try:
        _ask(url, COUNT)
        return time.perf_counter() - started
    finally:
        _stop(process)


def serve_edit(vault: Path, env: dict[str, str]) -> float:
    """Seconds from saving an edit to the first answer that holds it, with --watch."""
    process, url = _serve(vault, env, "--watch")
    note = next(iter(sorted(vault.rglob("*.md"))))
    original = note.read_bytes()
    marker = f"edited-{time.time_ns()}"
    query = f'ASK {{ ?n skos:prefLabel ?l FILTER(CONTAINS(?l, "{marker}")) }}'
    try:
        _ask(url, COUNT)
        text = original.decode("utf-8")
        # The note's title gains the marker: its first heading line.
        edited = re.sub(r"^# (.*)$", rf"# \1 {marker}", text, count=1, flags=re.MULTILINE)
        started = time.perf_counter()
        note.write_text(edited, encoding="utf-8")
        while b"true" not in _ask(url, query):
            if time.perf_counter() - started > 120:
                raise RuntimeError("the edit was not served within 120 s")
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        _stop(process)
        note.write_bytes(original)


def _copy_made(cache: Path) -> None:
    """Wait (untimed) for the process a server started to finish the copy of the triples.

    Done when the copy is in place and the files it was made from are gone (``.tmp-*``).
    """
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        found = list(cache.glob("*/rdf/*"))
        copies = [p for p in found if re.fullmatch(r"[0-9a-f]{40}", p.name)]
        if copies and not any(p.name.startswith(".tmp-") for p in found):
            return
        time.sleep(0.2)
    raise RuntimeError("no copy of the triples was kept within 300 s")


def timed(step: Callable[[], float], repeat: int) -> list[float]:
    return [step() for _ in range(repeat)]


def report(name: str, times: list[float], floor: float) -> None:
    median = statistics.median(times)
    print(
        f"  {name:<20} {median:8.2f} s  ({min(times):.2f} to {max(times):.2f})"
        f"  {median / floor:6.1f}x floor",
        flush=True,
    )


def bench(notes: int, workdir: Path, repeat: int, steps: set[str]) -> None:
    vault = workdir / f"vault-{notes}-seed0"
    if not vault.exists():
        generate_vault(vault, notes, seed=0)
    cache = workdir / f"cache-{notes}"
    env = {**os.environ, "CONCEPTGRAPH_CACHE_DIR": str(cache)}
    cg = [sys.executable, "-m", "conceptgraph"]
    nt = workdir / f"vault-{notes}.nt"
    subprocess.run([*cg, "export", str(vault), "-f", "nt", "-o", str(nt)], check=True, env=env)
    triples = sum(1 for _ in nt.open("rb"))

    def floor_once() -> float:
        out = subprocess.run(
            [sys.executable, "-c", FLOOR, str(nt)], check=True, capture_output=True, text=True
        )
        return float(out.stdout)

    floors = timed(floor_once, max(3, repeat))
    floor = statistics.median(floors)
    print(f"{notes} notes, {triples:,} triples", flush=True)
    report("floor (Oxigraph load)", floors, floor)
    query = [*cg, "query", str(vault), "--no-cache", COUNT]
    if "query" in steps:
        report("query (first)", timed(lambda: _run(query, env), repeat), floor)

        def cache_on() -> float:
            shutil.rmtree(cache, ignore_errors=True)
            return _run([*cg, "query", str(vault), COUNT], env)

        report("query-cache-on", timed(cache_on, repeat), floor)
    if "serve" in steps:
        _serve_steps(vault, cache, env, repeat, floor)
    if "export" in steps:
        for fmt in FORMATS:
            new = [*cg, "export", str(vault), "-f", fmt]
            old = [sys.executable, "-c", OLD_EXPORT, str(vault), fmt]
            report(f"export-{fmt}", timed(lambda new=new: _run(new, env), repeat), floor)
            report(f"export-old-{fmt}", timed(lambda old=old: _run(old, env), repeat), floor)


def _serve_steps(vault: Path, cache: Path, env: dict[str, str], repeat: int, floor: float) -> None:

    def fresh_start() -> float:
        shutil.rmtree(cache, ignore_errors=True)
        seconds = serve_start(vault, env)
        _copy_made(cache)
        return seconds

    report("serve-new", timed(fresh_start, repeat), floor)
    report("serve-kept", timed(lambda: serve_start(vault, env), repeat), floor)
    report("serve-edit", timed(lambda: serve_edit(vault, env), repeat), floor)
    report("serve-nocache", timed(lambda: serve_start(vault, env, "--no-cache"), repeat), floor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cgbench")
    parser.add_argument("--steps", default="query,serve,export", help="which to time")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}", flush=True)
    for notes in args.notes:
        bench(notes, args.workdir, args.repeat, set(args.steps.split(",")))
    print(f"load average at the end {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
