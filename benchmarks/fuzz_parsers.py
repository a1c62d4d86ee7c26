"""A long differential fuzz run: each fast Markdown engine against the reference (issue 29).

conceptgraph reads a note with the fastest engine that is sure of it: pulldown-cmark through
pyromark (``note/markdown/fast.py``) or the line scanner (``note/markdown/plain.py``), else
markdown-it-py, the reference. An engine that takes a note must give exactly the reference's
links, headings, sections, list items, block ids, directives and problems, positions included.
The test suite checks that on a few hundred inputs; this runs it for as long as asked on two
kinds of input, seeded so that a run can be repeated:

- generated: notes made of the pieces of Markdown that reach every path of the parsers
  (``tests/test_fuzz.py``'s pieces and more: callouts, tables, math, comments, fences);
- mutated: every note of ``notes/``, ``tests/fixtures`` and ``tests/data``, the user's
  sample, with random edits (a span deleted, doubled or moved, a piece or a special
  character put in, lines swapped, indentation changed).

A disagreement is shrunk (lines, then characters, as long as the engines still disagree) and
written to ``--out`` as a file per case with the parts that differ; each one found so far is
a fixture in ``tests/test_pulldown.py`` (``CORNERS``, handed to the reference) or a fix to the
engine. Usage::

    python benchmarks/fuzz_parsers.py [--seconds 600 | --inputs 100000] [--seed 1]
                                      [--engines fast,plain] [--out fuzz-found]

Prints one row per engine: inputs, taken (the engine was sure), disagreements. Exit 1 when
any engine disagreed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_REPO))

from conceptgraph.model import LINE_BREAK  # noqa: E402
from conceptgraph.note import frontmatter  # noqa: E402
from conceptgraph.note.markdown import fast, plain  # noqa: E402
from conceptgraph.note.markdown.parts import MarkdownParts  # noqa: E402
from conceptgraph.note.markdown.reference import parse_markdown  # noqa: E402
from tests.differential import PARTS, fixture_texts, users_texts  # noqa: E402
from tests.test_fuzz import _PIECES  # noqa: E402

Engine = Callable[[str, list[str], int], MarkdownParts]
ENGINES: dict[str, tuple[Engine, type[Exception]]] = {
    "fast": (fast.parse_markdown_fast, fast.Unsure),
    "plain": (plain.parse_plain, plain.Unsure),
}

# Beyond the suite's pieces: what Obsidian users write that the parsers treat specially.
_MORE = [
    "> [!note] Title [[c]]\n",
    "> [!tip]- folded\n> > [[d]]\n",
    "%%[[hidden]]%%",
    "%%\n[[in block comment]]\n%%\n",
    "$$\n[[m]]\n$$\n",
    "$x$ [[after math]]",
    "```\n[[code]]\n```\n",
    "~~~md\n[[tilde]]\n~~~\n",
    "    [[indented]]\n",
    "<!-- [[c]] -->",
    "| a | b |\n| --- | --- |\n| [[x\\|y]] | ![[i.png\\|300]] |\n",
    "![[a.png|300x200]]",
    "[t](Spec%20Notes.md#Details)",
    "[t](<Spec Notes.md>)",
    "[[#^blk]]",
    "[[n#h1#h2]]",
    "text ^blk-1\n",
    "<!-- conceptgraph: disable broken-link -->\n",
    "- [ ] task [[t]]\n",
    "1. one\n   2. two [[u]]\n",
    "Setext\n---\n",
    "***\n",
    "\\|",
    "`",
    "``[[x]]``",
    "\t",
    "\r\n",
    "\u00a0",
    "日本語[[概念]]",
    "🚀",
]
_CHARS = "[]|#^!`$%<>\\()*_-=~:\n \t>{}"


@dataclass
class Tally:
    """What one engine did over the run."""

    inputs: int = 0
    taken: int = 0
    disagreements: int = 0
    found: list[Path] = field(default_factory=list)


def whole(text: str) -> tuple[str, list[str], int]:
    """The body, lines and first body line of a note, as the parser splits it."""
    lines = LINE_BREAK.split(text)
    parts = frontmatter.split(lines)
    return parts.body, lines, parts.body_line


def differs(text: str, engine: Engine, unsure: type[Exception]) -> list[str] | None:
    """The parts the engine gives otherwise than the reference; None when it is unsure."""
    body, lines, first = whole(text)
    try:
        got = engine(body, lines, first)
    except unsure:
        return None
    want = parse_markdown(body, lines, first)
    return [part for part in PARTS if getattr(got, part) != getattr(want, part)]


def generated(rng: random.Random) -> str:
    pieces = _PIECES + _MORE
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))


def mutated(rng: random.Random, seeds: list[str]) -> str:
    text = rng.choice(seeds)
    for _ in range(rng.randint(1, 6)):
        text = _mutate(rng, text)
    return text


def _mutate(rng: random.Random, text: str) -> str:
    if not text:
        return rng.choice(_MORE)
    a, b = sorted(rng.randrange(len(text) + 1) for _ in range(2))
    b = min(b, a + 200)
    how = rng.randrange(7)
    if how == 0:
        return text[:a] + text[b:]
    if how == 1:
        return text[:b] + text[a:b] + text[b:]
    if how == 2:
        return text[:a] + rng.choice(_PIECES + _MORE) + text[a:]
    if how == 3:
        return text[:a] + rng.choice(_CHARS) + text[a:]
    if how == 4:
        lines = text.split("\n")
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines)
    if how == 5:
        lines = text.split("\n")
        i = rng.randrange(len(lines))
        lines[i] = rng.choice(["", " ", "  ", "    ", "\t", "> ", "- "]) + lines[i].lstrip()
        return "\n".join(lines)
    piece = text[a:b]
    rest = text[:a] + text[b:]
    c = rng.randrange(len(rest) + 1)
    return rest[:c] + piece + rest[c:]


def shrink(text: str, engine: Engine, unsure: type[Exception]) -> str:
    """A shorter text on which the engine still takes the note and disagrees."""

    def bad(candidate: str) -> bool:
        found = differs(candidate, engine, unsure)
        return bool(found)

    for unit in ("lines", "chars"):
        pieces: list[str] = text.splitlines(keepends=True) if unit == "lines" else list(text)
        size = max(1, len(pieces) // 2)
        while size >= 1:
            start = 0
            while start < len(pieces):
                candidate = pieces[:start] + pieces[start + size :]
                if candidate and bad("".join(candidate)):
                    pieces = candidate
                else:
                    start += size
            size //= 2
        text = "".join(pieces)
    return text


def inputs(rng: random.Random, seeds: list[str]) -> Iterator[tuple[str, str]]:
    while True:
        if rng.random() < 0.5:
            yield "generated", generated(rng)
        else:
            yield "mutated", mutated(rng, seeds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    limit = parser.add_mutually_exclusive_group()
    limit.add_argument("--seconds", type=float, default=None)
    limit.add_argument("--inputs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engines", default="fast,plain")
    parser.add_argument("--out", type=Path, default=Path("fuzz-found"))
    args = parser.parse_args(argv)
    names = [name for name in args.engines.split(",") if name]
    unknown = [name for name in names if name not in ENGINES]
    if unknown:
        parser.error(f"unknown engines {unknown}; known: {sorted(ENGINES)}")
    seconds = args.seconds if args.inputs is None and args.seconds is not None else None
    count = args.inputs if args.inputs is not None else (None if seconds else 10_000)
    seeds = [t for t in fixture_texts() + users_texts() if t]
    rng = random.Random(args.seed)
    tallies = {name: Tally() for name in names}
    kinds: dict[str, int] = {}
    start = time.perf_counter()
    done = 0
    for kind, text in inputs(rng, seeds):
        if count is not None and done >= count:
            break
        if seconds is not None and time.perf_counter() - start > seconds:
            break
        done += 1
        kinds[kind] = kinds.get(kind, 0) + 1
        for name in names:
            engine, unsure = ENGINES[name]
            tally = tallies[name]
            tally.inputs += 1
            parts = differs(text, engine, unsure)
            if parts is None:
                continue
            tally.taken += 1
            if parts:
                tally.disagreements += 1
                small = shrink(text, engine, unsure)
                args.out.mkdir(parents=True, exist_ok=True)
                case = args.out / f"{name}-{args.seed}-{done}.md"
                case.write_text(small, encoding="utf-8")
                tally.found.append(case)
                print(f"{name}: {parts} differ on {small!r} ({case})", flush=True)
    took = time.perf_counter() - start
    print(f"seed {args.seed}: {done} inputs in {took:.0f} s ({kinds}); {len(seeds)} seed notes")
    print(f"{'engine':8} {'inputs':>8} {'taken':>8} {'disagree':>9}")
    for name, tally in tallies.items():
        print(f"{name:8} {tally.inputs:8} {tally.taken:8} {tally.disagreements:9}")
    return 1 if any(t.disagreements for t in tallies.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
