"""Time ``conceptgraph shacl`` on each engine, at 1,000 and 10,000 notes, beside Oxigraph's load.

For each size a seeded vault with defects is generated (``generate_vault.py --defects``, so
there is something to report), then, each in a child process of its own so that its peak
memory is its own:

- ``floor``: Oxigraph alone loads the vault's triples (its N-Triples export, written untimed
  beforehand) into an in-memory store: the least any validator of these triples does;
- ``fast`` and ``pyshacl``: ``conceptgraph shacl VAULT --engine E`` as the library runs it
  (``api.shacl_vault``), the shipped shapes; the time from the child's start (imports
  included) and the part of it spent after the vault's triples were made.

Every engine must report the same findings (the script says so when they differ). pySHACL
takes about 7 minutes at 10,000 notes; ``--skip-slow`` leaves that one run out. Usage::

    python benchmarks/shacl.py [--sizes 1000,10000] [--skip-slow] [--keep DIR]
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
_STARTED = time.perf_counter()
RUNS = ("floor", "fast", "pyshacl")


def _peak_mib(who: int = resource.RUSAGE_SELF) -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(who).ru_maxrss / 1024


def child(run: str, vault: Path, ntriples: Path) -> dict[str, object]:
    """One measurement in this process, as a dict."""
    sys.path.insert(0, str(_REPO))
    if run == "floor":
        import pyoxigraph as ox

        started = time.perf_counter()
        store = ox.Store()
        store.load(path=str(ntriples), format=ox.RdfFormat.N_TRIPLES)
        load_s = time.perf_counter() - started
        return {"run": run, "total_s": load_s, "validate_s": load_s, "peak_mib": _peak_mib()}
    from conceptgraph import api
    from conceptgraph.rdf import shacl

    stages: dict[str, float] = {}
    validate = shacl.validate

    def timed(*args: object, **kwargs: object) -> shacl.ShaclResult:
        stages["triples_made"] = time.perf_counter()
        return validate(*args, **kwargs)  # type: ignore[arg-type]

    shacl.validate = timed  # type: ignore[assignment]
    result = api.shacl_vault(vault, engine=run)
    ended = time.perf_counter()
    return {
        "run": run,
        "total_s": ended - _STARTED,
        "validate_s": ended - stages["triples_made"],
        "peak_mib": _peak_mib(),
        "workers_peak_mib": _peak_mib(resource.RUSAGE_CHILDREN),
        "findings": [[f.path, f.line, f.rule, f.severity.label] for f in result.findings],
        "notes": list(result.notes),
    }


def _child(run: str, vault: Path, ntriples: Path, timeout: float) -> dict[str, object] | str:
    command = [sys.executable, __file__, "--child", run, str(vault), str(ntriples)]
    print(f"  {run} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=_REPO
        )
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:.0f} s"
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return f"failed: {lines[-1] if lines else '?'}"
    result: dict[str, object] = json.loads(done.stdout)
    result["wall_s"] = time.perf_counter() - started
    return result


def _vault(root: Path, notes: int) -> tuple[Path, Path, int]:
    sys.path.insert(0, str(Path(__file__).parent))
    from generate_vault import generate_vault

    vault = root / f"vault-{notes}"
    ntriples = root / f"vault-{notes}.nt"
    if not vault.exists():
        generate_vault(vault, notes=notes, seed=0, defects=True)
    if not ntriples.exists():
        subprocess.run(
            [
                *(sys.executable, "-m", "conceptgraph", "export", str(vault)),
                *("-f", "ntriples", "-o", str(ntriples)),
            ],
            check=True,
            cwd=_REPO,
        )
    with ntriples.open("rb") as lines:
        triples = sum(1 for _ in lines)
    return vault, ntriples, triples


def main(argv: list[str] | None = None) -> int:
    """Measure every run at every size and print a plain-text table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--skip-slow", action="store_true", help="no pySHACL past 1,000 notes")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    parser.add_argument("--keep", type=Path, default=None, help="generate the vaults here")
    parser.add_argument("--child", nargs=3, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        run, vault, ntriples = args.child
        print(json.dumps(child(run, Path(vault), Path(ntriples))))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows: list[tuple[int, int, str, dict[str, object] | str]] = []
    agree = True
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        for notes in sizes:
            print(f"{notes} notes:", file=sys.stderr, flush=True)
            vault, ntriples, triples = _vault(root, notes)
            found: dict[str, object] = {}
            for run in RUNS:
                if run == "pyshacl" and args.skip_slow and notes > 1000:
                    rows.append((notes, triples, run, "skipped (--skip-slow)"))
                    continue
                result = _child(run, vault, ntriples, args.timeout)
                rows.append((notes, triples, run, result))
                if isinstance(result, dict) and "findings" in result:
                    found[run] = result["findings"]
            if len({json.dumps(f) for f in found.values()}) > 1:
                agree = False
                print(f"  the engines' findings differ at {notes} notes", file=sys.stderr)
    print(f"conceptgraph shacl engines, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"python {platform.python_version()}, {platform.platform()}, {os.cpu_count()} CPUs")
    print("total: the child process from start (imports, reading the vault, making triples);")
    print("validate: after the triples were made (floor: Oxigraph loading the N-Triples);")
    print("MiB: peak RSS of the child (workers: the largest worker process, reading notes)\n")
    print(
        f"{'notes':>6} {'triples':>8} {'run':<8} {'total s':>8} {'validate s':>10} "
        f"{'MiB':>6} {'workers':>8} {'findings':>8}"
    )
    for notes, triples, run, result in rows:
        if isinstance(result, str):
            print(f"{notes:>6} {triples:>8} {run:<8} {result}")
            continue
        total, check = float(result["total_s"]), float(result["validate_s"])  # type: ignore[arg-type]
        findings = result.get("findings")
        count = len(findings) if isinstance(findings, list) else ""
        workers = result.get("workers_peak_mib")
        shown = f"{float(workers):>8.0f}" if workers is not None else f"{'':>8}"  # type: ignore[arg-type]
        print(
            f"{notes:>6} {triples:>8} {run:<8} {total:>8.2f} {check:>10.2f} "
            f"{float(result['peak_mib']):>6.0f} {shown} {count:>8}"  # type: ignore[arg-type]
        )
        for note in result.get("notes") or []:  # type: ignore[attr-defined]
            print(f"{'':>16}note: {note}")
    print("\nthe engines' findings are the same" if agree else "\nTHE ENGINES' FINDINGS DIFFER")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
