"""Issue 8's table: conceptgraph against the plain-Python floor at 1k, 10k and 100k notes.

For each size it generates two vaults (``generate_vault.py``, kept in ``--workdir``): a clean
one, on which lint finds next to nothing, and one with the defects of users' vaults at their
rates (``--defects``: broken links, dependency cycles, mojibake, shared aliases...), since a
figure measured only where there is nothing to report is not a figure for users. On each it
runs,
each as a whole new process, once untimed and then ``--repeat`` times, in one run so that every
ratio compares figures taken on the same machine at the same time:

- floor: ``python benchmarks/floor.py VAULT`` (read, YAML via CSafeLoader, one regex);
- lint: ``python -m conceptgraph lint VAULT --format json``, cold: its cache deleted before
  each run (the fast engine, pyromark; the cache is written, as on a user's first run, by a
  process of its own that the command does not wait for: the next run starts once it is done,
  and its memory is not in the figures);
- warm: the same with the cache of the run before, nothing changed (a pre-commit re-run);
- edit: the same after one note gained a sentence of prose (its own findings checked again);
- link: the same after one note gained a link (that note checked, and the vault rules run
  again from what they gathered of each note, kept in the cache);
- lint-ref: ``--no-cache --parser markdown-it``, the reference engine, as the baseline the
  fast engine is measured against (skipped above ``--reference-max`` notes);
- query: ``python -m conceptgraph query VAULT 'SELECT (COUNT(*) AS ?n) ...' --no-cache``, the
  answer including reading the vault and building the graph, as the first query in a vault
  (up to ``--query-max`` notes);
- query-kept: the same query with the cache, answered from the copy of the vault's triples an
  earlier query kept (nothing changed since);
- query-edit: the same query with the cache after a prose edit, as a user who edits and
  queries in turn runs it: it brings the copy an earlier query kept up to date, and answers
  from it (where it cannot, it reads the vault and leaves a copy to be kept by a process of
  its own, waited for before the next edit, untimed);

and once, at start-up: ``conceptgraph --version`` and ``conceptgraph lint --help``. The
package's bytecode is compiled first, as pip leaves an installed package.

It prints wall time (median, and the fastest and slowest run: this machine's speed varies),
the ratio to the floor, and memory two ways for each: "MiB peak", the peak RSS wait4 reports
(the largest single process: the command or one of its workers), and "MiB all", the highest
sum of the proportional set sizes of the command and its workers (and what no process maps
of the files in memory they hold open: the workers' notes as others see them), sampled every
50 ms during the untimed first run (what the whole command takes of the machine; a page
shared after a fork counts once; a run of a fraction of a second may peak between two
samples). Then the
growth from the second-largest size to the largest: seconds and MiB per 1,000 notes. Usage::

    python benchmarks/run.py [--sizes 1000,10000,100000] [--repeat 3] [--workdir DIR]
        [--vaults clean,defects]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bench_lint import (
    _FLOOR,
    _REPO,
    BenchError,
    Measurement,
    _note_bytes,
    _sizes,
    check_conceptgraph,
    measure,
    run_process,
    vault_for,
)

_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured command at one size, on the clean vault or the one with defects."""

    size: int
    what: str
    measurement: Measurement
    vault: str = "clean"

    @property
    def key(self) -> tuple[int, str]:
        return self.size, self.vault


def _conceptgraph(*args: str) -> list[str]:
    return [sys.executable, "-m", "conceptgraph", *args]


Key = tuple[int, str]


def bench(
    args: argparse.Namespace, workdir: Path
) -> tuple[list[Figure], dict[Key, int], dict[Key, int]]:
    """Every figure of the table, the notes each vault holds, and what lint found in each."""
    figures: list[Figure] = []
    notes: dict[Key, int] = {}
    findings: dict[Key, int] = {}
    for size, kind in ((size, kind) for size in args.sizes for kind in args.vaults):
        root = vault_for(workdir, size, args.seed, defects=kind == "defects")
        vault = str(root)
        notes[size, kind] = _note_bytes(root)[0]
        cache = root / ".conceptgraph-cache"
        edited, other = sorted(root.rglob("*.md"))[:2]
        original = edited.read_bytes()
        lint = _conceptgraph("lint", vault, "--format", "json")
        commands: dict[str, tuple[list[str], Callable[[], None] | None]] = {
            "floor": ([sys.executable, str(_FLOOR), vault], None),
            "lint": (lint, partial(_cold, cache)),
            "warm": (lint, None),
            "edit": (lint, partial(_append, edited, "\nOne more sentence of prose.\n")),
            "link": (lint, partial(_append, edited, f"\nSee [[{other.stem}]].\n")),
        }
        if size <= args.reference_max:
            reference = ["--no-cache", "--parser", "markdown-it"]
            commands["lint-ref"] = (lint + reference, None)
        if size <= args.query_max:
            query = _conceptgraph("query", vault, _QUERY, "--format", "csv")
            commands["query"] = ([*query, "--no-cache"], None)
            commands["query-kept"] = (query, partial(_keep_copy, query, root))
            commands["query-edit"] = (query, partial(_edit_for_query, edited, root))
        try:
            for what, (command, before) in commands.items():
                print(f"{size} {kind}: {what}", file=sys.stderr, flush=True)
                ok = frozenset({0, 1}) if "lint" in command else frozenset({0})
                figure = Figure(size, what, measure(command, args.repeat, ok, before), kind)
                figures.append(figure)
                if what == "lint":
                    findings[size, kind] = len(json.loads(figure.measurement.last.stdout))
        finally:
            edited.write_bytes(original)
    return figures, notes, findings


def _keep_copy(query: list[str], root: Path) -> None:
    """Make sure a copy of the vault's triples is kept for its state as it is now.

    The second query in a vault keeps one, in a process of its own that outlives it.
    """
    from conceptgraph.config import load_config
    from conceptgraph.rdf.store import STORE_DIR, state_key
    from conceptgraph.rdf.triples import default_base

    copies = root / ".conceptgraph-cache" / STORE_DIR
    for _ in range(3):
        key = state_key(root.resolve(), load_config(root.resolve()), default_base(root.resolve()))
        if key is not None and (copies / key).is_dir():
            return
        time.sleep(2)  # a file written in the last two seconds keeps no copy
        run_process(query, _REPO)
        _settled(copies)
    raise BenchError(f"no copy of the triples kept in {copies} after three queries")


def _edit_for_query(note: Path, root: Path) -> None:
    """A prose edit, once the copy the query before keeps is made: the next query updates it."""
    _settled(root / ".conceptgraph-cache" / "rdf")
    _append(note, "\nOne more sentence of prose.\n")
    time.sleep(2.1)  # a file written in the last two seconds keeps no copy


def _settled(copies: Path) -> None:
    """Wait until no process is keeping a copy of the triples in ``copies``."""
    deadline = time.monotonic() + 600
    while copies.is_dir() and any(p.name.startswith(".tmp-") for p in copies.iterdir()):
        if time.monotonic() > deadline:
            raise BenchError(f"a copy of the triples was still being kept in {copies}")
        time.sleep(0.2)


def _cold(cache: Path) -> None:
    """No cache, and no process still writing the one deleted: each cold run is timed alone.

    A first run leaves writing its cache to a process of its own (``LintCache.write_apart``),
    which has the database open until it is done.
    """
    database = cache / "lint.sqlite3"
    names = {str(database.resolve()) + suffix for suffix in ("", "-wal", "-shm")}
    deadline = time.monotonic() + 600
    while _open_anywhere(names):
        if time.monotonic() > deadline:
            raise BenchError(f"{database} was still open after ten minutes")
        time.sleep(0.05)
    shutil.rmtree(cache, ignore_errors=True)


def _open_anywhere(names: set[str]) -> bool:
    """Whether any process of this machine has one of these files open (Linux's /proc)."""
    for fds in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) in names for fd in fds.iterdir()):
                return True
        except OSError:
            continue  # gone meanwhile, or not ours to look at
    return False


def _append(note: Path, text: str) -> None:
    with note.open("a", encoding="utf-8") as out:
        out.write(text)


def table(figures: list[Figure], notes: dict[Key, int]) -> str:
    """The figures as a plain-text table, with the ratio of each to the floor of its vault."""
    floors = {f.key: f.measurement.median_seconds for f in figures if f.what == "floor"}
    head = ["notes", "vault", "command", "wall s", "min-max s", "x floor", "MiB peak", "MiB all"]
    lines = [head]
    for figure in figures:
        measured = figure.measurement
        seconds = measured.median_seconds
        lines.append(
            [
                f"{notes[figure.key]:,}",
                figure.vault,
                figure.what,
                f"{seconds:.2f}",
                f"{measured.min_seconds:.2f}-{measured.max_seconds:.2f}",
                f"{seconds / floors[figure.key]:.1f}",
                f"{figure.measurement.peak_rss_kib / 1024:.0f}",
                f"{figure.measurement.peak_total_kib / 1024:.0f}",
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    )


def growth(figures: list[Figure], notes: dict[Key, int], vault: str) -> str:
    """Seconds and MiB per 1,000 notes of ``lint`` between the two largest sizes of ``vault``."""
    lint = sorted(
        (f for f in figures if f.what == "lint" and f.vault == vault), key=lambda f: f.size
    )
    if len(lint) < 2:
        return f"growth ({vault}): needs two sizes"
    small, large = lint[-2], lint[-1]
    thousands = (notes[large.key] - notes[small.key]) / 1000
    seconds = large.measurement.median_seconds - small.measurement.median_seconds
    mib = (large.measurement.peak_rss_kib - small.measurement.peak_rss_kib) / 1024
    total = (large.measurement.peak_total_kib - small.measurement.peak_total_kib) / 1024
    return (
        f"lint growth ({vault}) {notes[small.key]:,} -> {notes[large.key]:,} notes: "
        f"{seconds / thousands:.3f} s, {mib / thousands:.1f} MiB (peak) and "
        f"{total / thousands:.1f} MiB (all) per 1,000 notes"
    )


def startup(repeat: int) -> str:
    """Wall time of ``--version`` and ``lint --help``: what imports cost before any work."""
    parts = []
    for args in (("--version",), ("lint", "--help")):
        figure = measure(_conceptgraph(*args), max(repeat, 5))
        parts.append(f"conceptgraph {' '.join(args)}: {figure.median_seconds:.3f} s")
    return "start-up: " + "; ".join(parts)


def compile_package() -> None:
    """Compile conceptgraph's bytecode, as an installed package has it.

    pip compiles a package when it installs it. From a checkout (``pip install -e``) Python
    writes the bytecode on first import, unless PYTHONDONTWRITEBYTECODE is set or the folder
    is read-only: then every timed run would compile every module again, 40 ms a run.
    """
    run = run_process([sys.executable, "-m", "compileall", "-q", "conceptgraph"], _REPO)
    if run.returncode != 0:
        raise BenchError(f"cannot compile conceptgraph's bytecode: {run.stdout}{run.stderr}")


def _vaults(text: str) -> list[str]:
    kinds = [kind.strip() for kind in text.split(",") if kind.strip()]
    if not kinds or not set(kinds) <= {"clean", "defects"}:
        raise argparse.ArgumentTypeError("vaults are clean, defects or both")
    return kinds


def main(argv: list[str] | None = None) -> int:
    """Run the whole table from the command line; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=[1000, 10000, 100000])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (default 3)")
    parser.add_argument("--workdir", type=Path, help="keep the generated vaults here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reference-max", type=int, default=10000)
    parser.add_argument("--query-max", type=int, default=10000)
    parser.add_argument(
        "--vaults",
        type=_vaults,
        default=["clean", "defects"],
        help="clean (lint finds next to nothing), defects (generate_vault.py --defects), "
        "or both, comma-separated (default both)",
    )
    args = parser.parse_args(argv)
    try:
        check_conceptgraph()
        compile_package()
        with tempfile.TemporaryDirectory(prefix="conceptgraph-bench-") as scratch:
            workdir = args.workdir or Path(scratch)
            workdir.mkdir(parents=True, exist_ok=True)
            figures, notes, findings = bench(args, workdir)
            started = startup(args.repeat)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"conceptgraph benchmark, {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(
        f"python {platform.python_version()}, {platform.platform()}, {os.cpu_count()} CPUs; "
        f"median of {args.repeat} runs after one untimed; seed {args.seed}"
    )
    print(f"query: {shlex.quote(_QUERY)}")
    for key, count in notes.items():
        print(f"findings in the {count:,}-note {key[1]} vault: {findings.get(key, '?')}")
    print()
    print(table(figures, notes))
    print()
    for vault in args.vaults:
        print(growth(figures, notes, vault))
    print(started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
