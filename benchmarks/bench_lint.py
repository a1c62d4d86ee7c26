"""Benchmark ``conceptgraph lint`` against a floor on synthetic vaults.

For each size, a vault is generated with ``generate_vault.py`` (cached in the work
folder), then two commands run as whole processes, once untimed to warm the page
cache and then ``--repeat`` times:

- the floor, ``python benchmarks/floor.py VAULT``: read, frontmatter, one regex;
- ``python -m conceptgraph lint VAULT --format json`` plus ``--lint-args``.

It prints one plain-text row per size: median wall time of each, their ratio, notes
per second and the peak resident memory of the child. Usage::

    python benchmarks/bench_lint.py [--sizes 1000,10000] [--repeat 3] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from generate_vault import generate_vault

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parent
_FLOOR = _HERE / "floor.py"

# `python -m conceptgraph` exits 1 both for findings and when the module is missing,
# so the module is looked up first, in the same interpreter and folder as the runs.
_PREFLIGHT = """
import importlib.util, sys
try:
    spec = importlib.util.find_spec("conceptgraph.__main__")
except Exception as exc:
    sys.exit(f"cannot import conceptgraph: {type(exc).__name__}: {exc}")
if spec is None:
    sys.exit("conceptgraph has no __main__ module, so `python -m conceptgraph` fails")
"""


class BenchError(Exception):
    """A command under measurement failed, or the setup is unusable."""


@dataclass(frozen=True, slots=True)
class Run:
    """One finished child process."""

    seconds: float
    peak_rss_kib: int
    returncode: int
    stdout: str
    stderr: str
    # The highest sum, over the child and every process under it, of their proportional set
    # sizes (PSS: a page two processes share counts half in each), and what none of them maps
    # of the files in memory they hold open, sampled every 50 ms; 0
    # when not sampled, or where /proc cannot tell (not Linux). What the whole command takes
    # of the machine; a run shorter than a few samples may peak between two of them.
    peak_total_kib: int = 0


@dataclass(frozen=True, slots=True)
class Measurement:
    """Repeated runs of one command: median, fastest and slowest time, highest peak memory."""

    median_seconds: float
    peak_rss_kib: int
    last: Run
    peak_total_kib: int = 0
    min_seconds: float = 0.0
    max_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Row:
    """The figures for one vault size."""

    size: int
    notes: int
    megabytes: float
    floor: Measurement
    lint: Measurement | None


def run_process(command: Sequence[str], cwd: Path, *, total: bool = False) -> Run:
    """Run ``command`` to completion; return its wall time, peak RSS and output.

    With ``total``, also the peak of all its processes' memory, sampled: reading /proc takes
    CPU beside the command, so a run whose time counts is not sampled.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        sampler = _TotalMemory(process.pid) if total else None
        if sampler is not None:
            sampler.start()
        try:
            # wait4 gives this child's own rusage; RUSAGE_CHILDREN would give the
            # maximum over every child so far, which hides a smaller later run.
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            if sampler is not None:
                sampler.stop()
        seconds = time.perf_counter() - started
        # Tell Popen the child is reaped so it never waits on the pid again.
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            seconds=seconds,
            peak_rss_kib=usage.ru_maxrss,  # KiB on Linux
            returncode=process.returncode,
            stdout=out.read().decode("utf-8", errors="replace"),
            stderr=err.read().decode("utf-8", errors="replace"),
            peak_total_kib=sampler.peak_kib if sampler is not None else 0,
        )


class _TotalMemory(threading.Thread):
    """Samples the summed PSS of a process and its descendants until stopped (Linux /proc).

    The child's own peak RSS (wait4) misses memory held by worker processes; the sum of their
    RSS would count pages shared after a fork once per process. PSS counts them once in all.
    A file in memory the processes hold open (a memfd: the workers' notes as others see
    them) counts too: PSS counts the pages of it that are mapped, the rest are added.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self._pid = pid
        self._done = threading.Event()
        self.peak_kib = 0

    def stop(self) -> None:
        self._done.set()
        self.join()

    def run(self) -> None:
        while not self._done.wait(0.05):
            tree = _tree(self._pid)
            total = sum(map(_pss_kib, tree)) + _memfd_kib(tree)
            self.peak_kib = max(self.peak_kib, total)


def _tree(pid: int) -> list[int]:
    found = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as children:
            for child in children.read().split():
                found.extend(_tree(int(child)))
    except OSError:
        pass
    return found


def _memfd_kib(pids: list[int]) -> int:
    """What of the files in memory (memfd) these processes hold open no PSS counts, in KiB.

    A file's pages that some process maps are in that process's PSS already; the rest are held
    all the same, by the file.
    """
    sizes: dict[int, int] = {}
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue  # it ended between being listed and being read
        for fd in fds:
            link = f"/proc/{pid}/fd/{fd}"
            try:
                if not os.readlink(link).startswith("/memfd:"):
                    continue
                info = os.stat(link)
            except OSError:
                continue
            sizes[info.st_ino] = info.st_size // 1024
    mapped = dict.fromkeys(sizes, 0)
    for pid in pids if sizes else ():
        inode = None
        try:
            with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as smaps:
                for line in smaps:
                    fields = line.split()
                    if "-" in fields[0] and len(fields) >= 5:  # a mapping's first line
                        inode = int(fields[4]) if "/memfd:" in line else None
                    elif inode in mapped and fields[0] == "Pss:":
                        mapped[inode] += int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    return sum(max(0, size - mapped[inode]) for inode, size in sizes.items())


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass  # it ended between being listed and being read: it holds nothing now
    return 0


def _check(run: Run, command: Sequence[str], ok: frozenset[int]) -> None:
    # An uncaught exception also exits 1, the "findings" code, so look for it.
    crashed = "Traceback (most recent call last)" in run.stderr
    if run.returncode not in ok or crashed:
        raise BenchError(
            f"{shlex.join(command)} exited {run.returncode}"
            + (" with a traceback" if crashed else "")
            + f"\n--- stderr ---\n{run.stderr.rstrip()}"
        )


def measure(
    command: Sequence[str],
    repeat: int,
    ok: frozenset[int] = frozenset({0}),
    before: Callable[[], None] | None = None,
) -> Measurement:
    """Run ``command`` once to warm up, then ``repeat`` times; fail on a bad exit.

    ``before`` runs before each run, untimed: to clear a cache, or edit a note.
    """
    if before is not None:
        before()
    # The untimed first run is the one whose memory is sampled, process tree and all.
    warm = run_process(command, _REPO, total=True)
    _check(warm, command, ok)
    runs = []
    for _ in range(repeat):
        if before is not None:
            before()
        run = run_process(command, _REPO)
        _check(run, command, ok)
        runs.append(run)
    return Measurement(
        median_seconds=statistics.median(run.seconds for run in runs),
        peak_rss_kib=max(run.peak_rss_kib for run in runs),
        last=runs[-1],
        peak_total_kib=warm.peak_total_kib,
        min_seconds=min(run.seconds for run in runs),
        max_seconds=max(run.seconds for run in runs),
    )


def check_conceptgraph() -> None:
    """Raise ``BenchError`` unless ``python -m conceptgraph`` can start."""
    run = run_process([sys.executable, "-c", _PREFLIGHT], _REPO)
    if run.returncode != 0:
        raise BenchError(
            f"`{sys.executable} -m conceptgraph` cannot run from {_REPO}: "
            f"{run.stderr.strip()}\n"
            "Install the package (pip install -e .) or pass --floor-only."
        )


def vault_for(workdir: Path, size: int, seed: int, defects: bool = False) -> Path:
    """Return a vault of ``size`` notes in ``workdir`` (with defects if asked), made if needed."""
    name = f"vault-{size}-seed{seed}" + ("-defects" if defects else "")
    vault = workdir / name
    stamp = workdir / f"{name}.json"
    # The generator's own bytes are in the stamp: editing it invalidates the cache.
    source = hashlib.sha256((_HERE / "generate_vault.py").read_bytes()).hexdigest()
    expected = {"notes": size, "seed": seed, "defects": defects, "generator_sha256": source}
    if stamp.exists() and vault.is_dir():
        try:
            if json.loads(stamp.read_text(encoding="utf-8")) == expected:
                return vault
        except ValueError:
            pass
    stamp.unlink(missing_ok=True)
    if vault.exists():
        shutil.rmtree(vault)
    _progress(f"generating {size} notes in {vault}")
    generate_vault(vault, size, seed, defects)
    stamp.write_text(json.dumps(expected), encoding="utf-8")
    return vault


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _note_bytes(vault: Path) -> tuple[int, int]:
    files = list(vault.rglob("*.md"))
    return len(files), sum(path.stat().st_size for path in files)


def _findings(stdout: str) -> str:
    # The JSON report's shape belongs to the linter: count what looks like findings.
    try:
        report = json.loads(stdout)
    except ValueError:
        return "?"
    if isinstance(report, dict):
        report = report.get("findings")
    return str(len(report)) if isinstance(report, list) else "?"


def bench_size(
    workdir: Path, size: int, seed: int, repeat: int, lint_args: list[str] | None
) -> Row:
    """Measure the floor and, unless ``lint_args`` is None, the linter on one size."""
    vault = vault_for(workdir, size, seed)
    notes, size_bytes = _note_bytes(vault)
    _progress(f"measuring the floor on {notes} notes")
    floor = measure([sys.executable, str(_FLOOR), str(vault)], repeat)
    lint = None
    if lint_args is not None:
        _progress(f"measuring conceptgraph lint on {notes} notes")
        command = [sys.executable, "-m", "conceptgraph", "lint", str(vault)]
        command += ["--format", "json", *lint_args]
        lint = measure(command, repeat, ok=frozenset({0, 1}))
    return Row(size, notes, size_bytes / 1e6, floor, lint)


def format_table(rows: Sequence[Row]) -> str:
    """Return the rows as a plain-text table with a header line."""
    header = [
        "size",
        "notes",
        "MB",
        "floor s",
        "lint s",
        "lint/floor",
        "notes/s",
        "floor MiB",
        "lint MiB",
        "findings",
    ]
    lines = [header]
    for row in rows:
        floor = row.floor
        cells = [
            str(row.size),
            str(row.notes),
            f"{row.megabytes:.1f}",
            f"{floor.median_seconds:.3f}",
        ]
        if row.lint is None:
            cells += ["-", "-", "-", f"{floor.peak_rss_kib / 1024:.1f}", "-", "-"]
        else:
            lint = row.lint
            cells += [
                f"{lint.median_seconds:.3f}",
                f"{lint.median_seconds / floor.median_seconds:.1f}",
                f"{row.notes / lint.median_seconds:.0f}",
                f"{floor.peak_rss_kib / 1024:.1f}",
                f"{lint.peak_rss_kib / 1024:.1f}",
                _findings(lint.last.stdout),
            ]
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    )


def _describe(args: argparse.Namespace, lint_args: list[str] | None) -> str:
    lint = "not run (--floor-only)"
    if lint_args is not None:
        lint = shlex.join(["python", "-m", "conceptgraph", "lint", "VAULT"])
        lint += " " + shlex.join(["--format", "json", *lint_args])
    return "\n".join(
        (
            f"conceptgraph lint benchmark, {time.strftime('%Y-%m-%d %H:%M %Z')}",
            f"python {platform.python_version()} ({sys.executable}), "
            f"{platform.platform()}, {os.cpu_count()} CPUs",
            f"vaults: benchmarks/generate_vault.py, seed {args.seed}",
            f"each command: 1 warm-up run, then median wall time of {args.repeat} "
            "runs; MiB is the highest peak RSS of the child",
            "floor: python benchmarks/floor.py VAULT",
            f"lint:  {lint}",
        )
    )


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from None
    if not sizes or min(sizes) < 2:
        raise argparse.ArgumentTypeError("sizes must be integers of at least 2")
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark from the command line; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=[1000, 10000],
        help="comma-separated note counts (default 1000,10000)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (default 3)")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="where vaults are generated and kept between invocations "
        "(default: a temporary folder, removed at the end)",
    )
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument(
        "--lint-args",
        default="",
        help="extra arguments appended to the lint command, shell-split, "
        "e.g. --lint-args='--no-cache'",
    )
    parser.add_argument(
        "--floor-only",
        action="store_true",
        help="measure only the floor (for when conceptgraph cannot run)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    lint_args = None if args.floor_only else shlex.split(args.lint_args)
    try:
        if lint_args is not None:
            check_conceptgraph()
        with tempfile.TemporaryDirectory(prefix="conceptgraph-bench-") as scratch:
            workdir = args.workdir or Path(scratch)
            workdir.mkdir(parents=True, exist_ok=True)
            rows = [
                bench_size(workdir, size, args.seed, args.repeat, lint_args) for size in args.sizes
            ]
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(_describe(args, lint_args))
    print()
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
