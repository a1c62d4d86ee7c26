"""Queries per second and latency of `conceptgraph serve` with concurrent clients.

    python benchmarks/bench_serve.py [--notes 10000] [--clients 10] [--seconds 20]

Generates (or reuses) a synthetic vault, starts ``conceptgraph serve`` on a free loopback
port, waits for it, then runs ``--clients`` threads that each send queries back to back for
``--seconds``, cycling through a small mix (a label lookup, a one-hop join, an ASK, an
aggregate). Prints start-up time, queries per second, and latency percentiles per query and
overall. Only 127.0.0.1 is ever contacted; the loop is bounded in time and stops by itself.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate_vault import generate_vault

QUERIES = {
    "label": "SELECT ?c WHERE { ?c skos:prefLabel ?l FILTER(STRSTARTS(?l, 'A')) } LIMIT 20",
    "join": ("SELECT ?a ?b WHERE { ?a cg:dependsOn ?b . ?b skos:prefLabel ?l } LIMIT 50"),
    "ask": "ASK { ?c skos:altLabel ?x }",
    "count": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cgbench")
    args = parser.parse_args()

    vault = args.workdir / f"vault-{args.notes}-seed0"
    if not vault.exists():
        args.workdir.mkdir(parents=True, exist_ok=True)
        generate_vault(vault, args.notes, seed=0)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "conceptgraph", "serve", str(vault), "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    url = ""
    for line in process.stderr:
        match = re.search(r"at (http://\S+/sparql)", line)
        if match:
            url = match.group(1)
            break
    if not url:
        raise SystemExit("serve did not start")
    threading.Thread(target=lambda: [None for _ in process.stderr or []], daemon=True).start()
    startup = time.perf_counter() - started

    latencies: dict[str, list[float]] = {name: [] for name in QUERIES}
    errors: list[str] = []
    deadline = time.monotonic() + args.seconds

    def client(offset: int) -> None:
        names = list(QUERIES)
        index = offset
        while time.monotonic() < deadline:
            name = names[index % len(names)]
            index += 1
            body = urllib.parse.urlencode({"query": QUERIES[name]}).encode()
            request = urllib.request.Request(
                url, data=body, headers={"Accept": "application/sparql-results+json"}
            )
            begin = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    response.read()
            except OSError as exc:
                errors.append(f"{name}: {exc}")
                continue
            latencies[name].append(time.perf_counter() - begin)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    process.terminate()
    process.wait(timeout=30)

    every = [value for values in latencies.values() for value in values]
    print(f"vault: {args.notes} notes; {args.clients} clients for {args.seconds:g} s")
    print(f"start-up (load, index, workers ready): {startup:.2f} s")
    print(f"queries: {len(every)}  errors: {len(errors)}  qps: {len(every) / elapsed:.1f}")
    print(f"{'query':8} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, values in [*latencies.items(), ("all", every)]:
        if values:
            print(
                f"{name:8} {len(values):6d} {statistics.median(values) * 1000:8.1f} "
                f"{percentile(values, 0.95) * 1000:8.1f} {percentile(values, 0.99) * 1000:8.1f}"
            )
    for error in errors[:5]:
        print("error:", error)


if __name__ == "__main__":
    main()
