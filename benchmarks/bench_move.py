"""Time ``conceptgraph mv``'s library: a note linked from many notes, renamed in a big vault.

Generates a vault of ``--notes`` notes (``generate_vault.py``, cached in the work folder like
``bench_lint.py``'s), copies it, adds a note ``bench-target.md`` and a link to it, in one of
the forms ``mv`` rewrites, to ``--linked`` notes, then for ``--repeat`` rounds: loads the vault
(untimed: the command and a language server have it loaded already), plans the rename to a
new folder and name (``plan_move``) and writes it (``apply_plan``), and moves it back. Prints
the median and worst of planning, writing and both, and the links and files rewritten.
Usage::

    python benchmarks/bench_move.py [--notes 10000] [--linked 500] [--repeat 5] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_lint import vault_for

from conceptgraph.api import open_vault
from conceptgraph.edit import apply_plan, plan_move

# The forms a user's vault links in; each rewritten on every rename.
_FORMS = (
    "[[{name}]]",
    "[[{name}|the target]]",
    "![[{name}#Definition]]",
    "[[{folder}/{name}]]",
    "[t]({name}.md)",
)


def _prepare(source: Path, work: Path, linked: int) -> Path:
    vault = work / "vault"
    shutil.copytree(source, vault)
    (vault / "bench").mkdir()
    (vault / "bench/bench-target.md").write_text("# Bench target\n\n## Definition\n\nA.\n")
    notes = sorted(p for p in vault.rglob("*.md") if p.parent.name != "bench")
    step = max(1, len(notes) // linked)
    for number, note in enumerate(notes[::step][:linked]):
        form = _FORMS[number % len(_FORMS)].format(name="bench-target", folder="bench")
        if form.startswith("[t]("):
            depth = len(note.relative_to(vault).parts) - 1
            form = "[t](" + "../" * depth + "bench/bench-target.md)"
        with note.open("a", encoding="utf-8") as out:
            out.write(f"\nSee {form}.\n")
    return vault


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=10000)
    parser.add_argument("--linked", type=int, default=500, help="notes linking to the target")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cg-bench")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    source = vault_for(args.workdir, args.notes, args.seed)
    plans: list[float] = []
    writes: list[float] = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as scratch:
        vault = _prepare(source, Path(scratch), args.linked)
        there, back = "bench/bench-target.md", "moved/here/bench-renamed.md"
        links = files = 0
        for _ in range(args.repeat):
            for old, new in ((there, back), (back, there)):
                loaded = open_vault(vault)
                began = time.perf_counter()
                plan = plan_move(loaded, old, new)
                planned = time.perf_counter()
                applied = apply_plan(plan)
                done = time.perf_counter()
                if applied.skipped or plan.skipped:
                    print(f"left: {applied.skipped} {plan.skipped}", file=sys.stderr)
                    return 1
                plans.append(planned - began)
                writes.append(done - planned)
                links, files = len(plan.edits), len(plan.files)
    total = [p + w for p, w in zip(plans, writes, strict=True)]
    print(f"rename of a note linked from {args.linked} notes, vault of {args.notes} notes")
    print(f"rewrote {links} links in {files} files, {len(total)} renames")
    print(f"{'stage':8} {'median s':>9} {'worst s':>9}")
    for name, times in (("plan", plans), ("write", writes), ("total", total)):
        print(f"{name:8} {statistics.median(times):9.3f} {max(times):9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
