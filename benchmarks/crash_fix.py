"""Issue 29's long runs: writing commands killed at random, and editors racing ``lint --fix``.

For each writing command (``lint --fix``, ``render``, ``export -o``, ``lint --cache``), kills
it with SIGKILL after seeded random delays for ``--seconds`` and prints the trials, how many
kills left files half done (some old, some new), how many temp files kills left, and the
problems found (a file neither old nor new, a temp file the next run did not remove, a next
run that did not finish the job): the count must be 0. Then runs ``--rounds`` rounds of
``lint --fix`` against an editor appending in place and one saving by temp file and rename,
and prints the appends made and lost (must be 0) and the notes put back. Usage::

    python benchmarks/crash_fix.py [--seconds 120] [--rounds 40] [--seed 0] [--notes 200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.crashing import COMMANDS, crash_trials, edit_trials


def main(argv: list[str] | None = None) -> int:
    """Run the kills and the races; exit 1 if any problem or lost append was found."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="of kills per command")
    parser.add_argument("--rounds", type=int, default=40, help="of --fix per editor style")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--notes", type=int, default=200)
    args = parser.parse_args(argv)
    bad = 0
    with tempfile.TemporaryDirectory() as scratch:
        for number, command in enumerate(COMMANDS):
            work = Path(scratch) / f"kill-{number}"
            work.mkdir()
            began = time.monotonic()
            counts = crash_trials(command, work, args.seed, args.seconds, notes=args.notes)
            print(f"{counts.line()}  ({time.monotonic() - began:.0f} s)", flush=True)
            for problem in counts.problems[:5]:
                print(f"    {problem}")
            bad += len(counts.problems)
        for style in ("append", "rename"):
            work = Path(scratch) / f"edit-{style}"
            work.mkdir()
            began = time.monotonic()
            edits = edit_trials(style, work, args.seed, args.rounds, notes=args.notes)
            print(
                f"editor {style:7} rounds {edits.rounds:4}  appends {edits.appends:6}  "
                f"lost {edits.lost}  not fixed (changed) {edits.not_fixed}  "
                f"put back {edits.put_back}  ({time.monotonic() - began:.0f} s)",
                flush=True,
            )
            bad += edits.lost
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
