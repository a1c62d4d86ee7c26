"""Adversarial vault shapes (issue 23): one hostile note each, timed at n, 2n, 4n and 8n.

Each shape writes a small vault (two ordinary notes plus the hostile one, or for ``chain`` and
``cycle`` a vault of n notes) into a temporary folder, then runs each command asked for
(``--commands``, default all), each in a process of its own:

- ``lint``: ``python -m conceptgraph lint --no-cache VAULT --format json``
- ``export-json``, ``export-ntriples``, ``export-dot``:
  ``python -m conceptgraph export VAULT --format F -o FILE``
- ``query``: ``python -m conceptgraph query --no-cache VAULT "SELECT (COUNT(*) AS ?n) ..."``

and prints one row per shape, size and command: wall seconds, peak resident memory (the
largest process of the command's tree, from ``resource.getrusage(RUSAGE_CHILDREN)`` read in
a wrapper process that runs nothing else), what it gave (findings, MB written, or the count
the query returned), and the growth of the time from the size before (2.0 is linear, 4.0
quadratic). Usage::

    python benchmarks/adversarial.py [--shapes mojibake,headings] [--commands lint,query]
                                     [--scale 1.0] [--timeout 120] [--keep DIR]

Benchmarks are not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parent

# Runs one command and prints its wall time and the peak RSS of its process tree: a process of
# its own, so that the high-water mark RUSAGE_CHILDREN keeps is this command's alone.
_WRAPPER = """
import resource, subprocess, sys, time
start = time.perf_counter()
try:
    done = subprocess.run(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=float(sys.argv[1]))
    code, out, err = done.returncode, done.stdout, done.stderr
except subprocess.TimeoutExpired:
    code, out, err = None, b"", b""
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.buffer.write(err[-2000:])
sys.stdout.write(f"{code} {seconds} {peak}\\n")
sys.stdout.buffer.write(out)
"""

_ORDINARY = """---
aliases: ["transition"]
type: mechanism
canonical: true
---
# Migration

## Definition

A migration moves a system from one [[scheme]] to another.

## What this is NOT

- Not a rename (a rename keeps the scheme).
"""


def _frontmatter(title: str) -> str:
    return f'---\naliases: ["{title.lower()} alias"]\ntype: mechanism\ncanonical: true\n---\n'


def mojibake(n: int) -> str:
    """A note of ``n`` lines, each with UTF-8 read as cp1252 (the ``mojibake`` rule's case)."""
    lines = [f"- Line {i}: Scheme A â†’ mixed A/B, cafÃ© crÃ¨me [[migration]]." for i in range(n)]
    return _frontmatter("Mojibake") + "# Mojibake\n\n## Definition\n\n" + "\n".join(lines) + "\n"


def headings(n: int) -> str:
    """A note of ``n`` headings, level 2 to 4 in turn, each under a link to a heading."""
    parts = [_frontmatter("Headings"), "# Headings\n\n"]
    for i in range(n):
        level = "#" * (2 + i % 3)
        parts.append(f"{level} Part {i}\n\nSee [[#Part {i}]], [[headings#Part {n - i}]].\n\n")
    return "".join(parts)


def negation(n: int) -> str:
    """One "What this is NOT" item of ``n`` groups that each nearly end it, and never do."""
    item = "- Not a rename " + "(why) x " * n + "y"
    body = "# Negation\n\n## Definition\n\nSee [[migration]].\n\n## What this is NOT\n\n"
    return _frontmatter("Negation") + body + item + "\n"


def table(n: int) -> str:
    """A table whose header row holds ``n`` pipes, over a delimiter row that fails at its end."""
    header = "| a " * n + "|"
    delimiter = "|---" * n + "|x"
    body = "# Table\n\n## Definition\n\nSee [[migration]].\n\n"
    return _frontmatter("Table") + body + header + "\n" + delimiter + "\n\nAfter.\n"


def links(n: int) -> str:
    """A note of about ``n`` bytes: lines of ten wikilinks each, to notes that exist."""
    line = "See " + ", ".join(f"[[migration|m{k}]]" for k in range(10)) + ".\n"
    count = max(1, n // len(line))
    body = "# Links\n\n## Definition\n\n" + line * count
    return _frontmatter("Links") + body


def codespans(n: int) -> str:
    """One bullet of ``n`` code spans whose backtick runs grow, each closed at the line's end."""
    opening = "".join("`" * (k % 40 + 1) + " x " for k in range(n))
    closing = "".join(" y " + "`" * (k % 40 + 1) for k in range(n - 1, -1, -1))
    body = "# Codespans\n\n## Definition\n\nSee [[migration]].\n\n"
    return _frontmatter("Codespans") + body + "- " + opening + closing + "\n"


def mdlinks(n: int) -> str:
    """One paragraph of ``n`` Markdown links, each to a note that exists."""
    body = "# Mdlinks\n\n## Definition\n\n"
    return _frontmatter("Mdlinks") + body + " ".join(f"[m{k}](migration.md)" for k in range(n))


def aliaslinks(n: int) -> str:
    """``n`` lines, each a link by alias: every one a finding with a fix written for it."""
    body = "# Aliaslinks\n\n## Definition\n\n"
    lines = "".join(f"[[aliaslinks alias|m{k}]]\n" for k in range(n))
    return _frontmatter("Aliaslinks") + body + lines


def _depending(n: int, closed: bool) -> dict[str, str]:
    notes = {}
    for i in range(n):
        after = (i + 1) % n if closed or i + 1 < n else None
        dependency = "" if after is None else f"\n## Structural dependencies\n\n- [[c{after}]]\n"
        notes[f"c{i}.md"] = f"# C{i}\n\n## Definition\n\nStep {i}.\n{dependency}"
    return notes


def chain(n: int) -> dict[str, str]:
    """A vault of ``n`` notes, each depending on the next: a chain ``n`` long."""
    return _depending(n, closed=False)


def cycle(n: int) -> dict[str, str]:
    """A vault of ``n`` notes, each depending on the next and the last on the first."""
    return _depending(n, closed=True)


@dataclass(frozen=True, slots=True)
class Shape:
    """One adversarial shape: its maker (one note, or a vault's notes) and its first n."""

    name: str
    make: Callable[[int], str | dict[str, str]]
    n: int
    unit: str


SHAPES = (
    Shape("mojibake", mojibake, 2_000, "lines"),
    Shape("headings", headings, 12_500, "headings"),
    Shape("negation", negation, 2_500, "groups"),
    Shape("table", table, 2_500, "cells"),
    Shape("links", links, 7_500_000, "bytes"),
    Shape("codespans", codespans, 5_000, "spans"),
    Shape("mdlinks", mdlinks, 10_000, "links"),
    Shape("aliaslinks", aliaslinks, 10_000, "links"),
    # 8n: issue 23's 20,000-note chain and 9,000-note cycle.
    Shape("chain", chain, 2_500, "notes"),
    Shape("cycle", cycle, 1_125, "notes"),
)

_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
COMMANDS = ("lint", "export-json", "export-ntriples", "export-dot", "query")


@dataclass(frozen=True, slots=True)
class Measure:
    """One command's run: seconds (None when it timed out), peak MiB and findings."""

    seconds: float | None
    peak_mib: float
    findings: str


def _write_vault(folder: Path, shape: Shape, n: int) -> int:
    folder.mkdir(parents=True)
    made = shape.make(n)
    if isinstance(made, str):
        (folder / "migration.md").write_text(_ORDINARY, encoding="utf-8")
        scheme = _ORDINARY.replace("Migration", "Scheme")
        (folder / "scheme.md").write_text(scheme, encoding="utf-8")
        made = {f"{shape.name}.md": made}
    size = 0
    for name, text in made.items():
        data = text.encode("utf-8")
        (folder / name).write_bytes(data)
        size += len(data)
    return size


def _measure(command: list[str], timeout: float, output: Path | None) -> Measure:
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, str(timeout), *command],
        capture_output=True,
        cwd=_REPO,
        check=False,
    )
    head, _, out = done.stdout.partition(b"\n")
    code, seconds, peak = head.decode().split()
    if code == "None":
        return Measure(None, int(peak) / 1024, "-")
    if code not in ("0", "1"):
        # A crash is a result too (main at b54eadb could not export a 30 MB definition): say
        # so in the table, its message below, and try no larger size.
        message = " ".join(done.stderr.decode(errors="replace").split())[-300:]
        print(f"# {command[3]} exited {code}: {message}")
        return Measure(None, int(peak) / 1024, f"exit {code}")
    if output is not None and output.exists():
        written = output.stat().st_size
        output.unlink()
        return Measure(float(seconds), int(peak) / 1024, f"{written / 1e6:.1f}MB")
    return Measure(float(seconds), int(peak) / 1024, _count(out))


def _count(out: bytes) -> str:
    try:
        data = json.loads(out)
    except ValueError:
        return "?"
    if isinstance(data, dict) and isinstance(data.get("findings"), list):
        return str(len(data["findings"]))
    if isinstance(data, list):
        return str(len(data))
    bindings = data.get("results", {}).get("bindings") if isinstance(data, dict) else None
    if isinstance(bindings, list) and bindings:
        return str(bindings[0].get("n", {}).get("value", "?"))
    return "-"


def _command(name: str, vault: Path, output: Path) -> tuple[list[str], Path | None]:
    """The command line of a command, and the file it writes (None: it prints)."""
    python = [sys.executable, "-m", "conceptgraph"]
    if name == "lint":
        return [*python, "lint", "--no-cache", str(vault), "--format", "json"], None
    if name == "query":
        return [*python, "query", "--no-cache", str(vault), _QUERY, "--format", "json"], None
    fmt = name.removeprefix("export-")
    return [*python, "export", str(vault), "--format", fmt, "-o", str(output)], output


def _row(shape: Shape, n: int, size: int, name: str, got: Measure, before: Measure | None) -> str:
    failed = "timeout" if got.findings == "-" else "failed"
    seconds = failed if got.seconds is None else f"{got.seconds:.2f}"
    growth = "-"
    if before is not None and before.seconds and got.seconds is not None:
        growth = f"{got.seconds / before.seconds:.2f}"
    return (
        f"{shape.name:<10} {name:<15} {n:>9} {shape.unit:<8} {size / 1e6:>7.2f} "
        f"{seconds:>8} {growth:>6} {got.peak_mib:>8.0f} {got.findings:>9}"
    )


def main() -> None:
    """Run the shapes asked for and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", default=",".join(s.name for s in SHAPES))
    parser.add_argument("--commands", default=",".join(COMMANDS), help="comma-separated")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every n")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per command")
    parser.add_argument("--steps", type=int, default=4, help="sizes: n, 2n, ... (default 4)")
    parser.add_argument("--keep", type=Path, help="write the vaults here and keep them")
    args = parser.parse_args()
    chosen = [s for s in SHAPES if s.name in args.shapes.split(",")]
    commands = [c for c in COMMANDS if c in args.commands.split(",")]
    root = args.keep or Path(tempfile.mkdtemp(prefix="cg-adversarial-"))
    print(f"conceptgraph adversarial shapes, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"python {platform.python_version()}, {platform.platform()}, {os.cpu_count()} CPUs")
    print("each command once, in a fresh process; growth = time / time at the size before")
    print()
    print(
        f"{'shape':<10} {'cmd':<15} {'n':>9} {'unit':<8} {'MB':>7} {'seconds':>8} "
        f"{'growth':>6} {'peak MiB':>8} {'findings':>9}"
    )
    for shape in chosen:
        before: dict[str, Measure] = {}
        for step in range(args.steps):
            n = int(shape.n * args.scale) * 2**step
            vault = root / f"{shape.name}-{n}"
            size = _write_vault(vault, shape, n)
            for name in commands:
                if name in before and before[name].seconds is None:
                    continue  # failed at the size before: a larger one would too
                command, output = _command(name, vault, root / "output")
                got = _measure(command, args.timeout, output)
                print(_row(shape, n, size, name, got, before.get(name)), flush=True)
                before[name] = got
            if args.keep is None:
                shutil.rmtree(vault)
    if args.keep is None:
        root.rmdir()


if __name__ == "__main__":
    main()
