"""Compare SPARQL engines for ``conceptgraph query``: load the vault's triples, run one join.

Each engine runs in a child process of its own (so peak memory is its own), on the same
triples: those ``conceptgraph.rdf.triples.vault_rdf`` makes of the vault. Engines:

- ``rdflib``: an rdflib ``Graph`` (in-memory store) filled with the triples, rdflib's SPARQL;
- ``oxrdflib``: an rdflib ``Graph`` over the Oxigraph store (oxrdflib), queried through it;
- ``pyoxigraph``: a pyoxigraph ``Store`` filled with the triples, Oxigraph's SPARQL;
- ``rdflib-parse`` and ``pyoxigraph-parse``: the same, but loading the N-Triples export from
  a file (what a user gets with ``conceptgraph export`` and another tool).

The query joins four patterns: notes that depend on a concept which itself depends on a
concept the first note says it is not. Every engine must return the same number of rows.

Usage::

    python benchmarks/generate_vault.py /tmp/v10k --notes 10000
    python benchmarks/bench_query.py /tmp/v10k [--engines rdflib,pyoxigraph] [--timeout 1800]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent
ENGINES = ("pyoxigraph", "pyoxigraph-parse", "oxrdflib", "rdflib", "rdflib-parse")

QUERY = """
SELECT ?note ?dependency ?other WHERE {
  ?note a cg:Note ;
        cg:dependsOn ?dependency ;
        cg:isNot ?other .
  ?dependency cg:dependsOn ?other .
}
"""


def _peak_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(engine: str, vault_path: Path, ntriples: Path) -> dict[str, object]:
    """Load and query in this process; report times and memory as a dict."""
    sys.path.insert(0, str(_REPO))
    from conceptgraph.api import open_vault
    from conceptgraph.rdf.triples import IRI, PREFIXES, vault_rdf

    started = time.perf_counter()
    rdf = vault_rdf(open_vault(vault_path))
    triples_s = time.perf_counter() - started
    header = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
    before = _peak_mib()
    started = time.perf_counter()
    if engine.startswith("pyoxigraph"):
        import pyoxigraph as ox

        store = ox.Store()
        if engine == "pyoxigraph-parse":
            store.bulk_load(path=str(ntriples), format=ox.RdfFormat.N_TRIPLES)
        else:
            nodes: dict[str, ox.NamedNode] = {}

            def node(value: str) -> ox.NamedNode:
                made = nodes.get(value)
                if made is None:
                    made = nodes[value] = ox.NamedNode(value)
                return made

            store.extend(
                ox.Quad(
                    node(s.value),
                    node(p.value),
                    node(o.value)
                    if isinstance(o, IRI)
                    else ox.Literal(o.value, datatype=node(o.datatype)),
                )
                for s, p, o in rdf.triples
            )
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        rows = sum(1 for _ in store.query(header + QUERY))  # type: ignore[union-attr,misc]
    else:
        from rdflib import Graph, Literal, URIRef

        graph = Graph(store="Oxigraph") if engine == "oxrdflib" else Graph()
        if engine == "rdflib-parse":
            graph.parse(str(ntriples), format="nt")
        else:
            graph.addN(
                (
                    URIRef(s.value),
                    URIRef(p.value),
                    URIRef(o.value)
                    if isinstance(o, IRI)
                    else Literal(o.value, datatype=URIRef(o.datatype)),
                    graph,
                )
                for s, p, o in rdf.triples
            )
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        rows = len(list(graph.query(header + QUERY)))
    query_s = time.perf_counter() - started
    return {
        "engine": engine,
        "triples": len(rdf.triples),
        "vault_to_triples_s": triples_s,
        "load_s": load_s,
        "query_s": query_s,
        "rows": rows,
        "mib_before_load": before,
        "peak_mib": _peak_mib(),
    }


def _run_child(engine: str, vault: Path, ntriples: Path, timeout: float) -> dict[str, object] | str:
    command = [sys.executable, __file__, "--child", engine, str(vault), "--ntriples", str(ntriples)]
    print(f"running {engine} ...", file=sys.stderr, flush=True)
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=_REPO
        )
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:.0f} s"
    if done.returncode != 0:
        return f"failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else '?'}"
    result: dict[str, object] = json.loads(done.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run every engine on one vault and print a plain-text comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vault", type=Path)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per engine")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--ntriples", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child, args.vault, args.ntriples)))
        return 0
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))} (known: {', '.join(ENGINES)})")
    with tempfile.TemporaryDirectory() as tmp:
        ntriples = Path(tmp) / "vault.nt"
        print("writing the N-Triples export ...", file=sys.stderr, flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "conceptgraph",
                "export",
                str(args.vault),
                "-f",
                "ntriples",
                "-o",
                str(ntriples),
            ],
            check=True,
            cwd=_REPO,
        )
        results = [_run_child(e, args.vault, ntriples, args.timeout) for e in engines]
    notes = sum(1 for _ in args.vault.rglob("*.md"))
    print(f"conceptgraph query engines, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(
        f"python {platform.python_version()}, {platform.platform()}, {os.cpu_count()} CPUs; "
        f"vault {args.vault} ({notes} notes)"
    )
    print("load: the vault's triples into the engine; query: one 4-pattern join, all rows read;")
    print("MiB: peak RSS of the child before loading (vault parsed) and at the end\n")
    print(
        f"{'engine':<17} {'triples':>8} {'load s':>8} {'query s':>8} {'total s':>8} "
        f"{'rows':>6} {'MiB before':>10} {'MiB peak':>9}"
    )
    for engine, result in zip(engines, results, strict=True):
        if isinstance(result, str):
            print(f"{engine:<17} {result}")
            continue
        load, query = float(result["load_s"]), float(result["query_s"])  # type: ignore[arg-type]
        print(
            f"{engine:<17} {result['triples']:>8} {load:>8.2f} {query:>8.2f} "
            f"{load + query:>8.2f} {result['rows']:>6} {float(result['mib_before_load']):>10.0f} "  # type: ignore[arg-type]
            f"{float(result['peak_mib']):>9.0f}"  # type: ignore[arg-type]
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
