"""Floor baseline for the lint benchmark: the least work any vault linter does.

It reads every ``.md`` file under the vault, loads its frontmatter with PyYAML's C
loader and runs one wikilink regex over the body. Nothing is resolved or checked, so a
real linter cannot be faster than this in pure Python; ``bench_lint.py`` reports the
linter's time as a multiple of this floor, which holds steady across machines better
than seconds do. Usage::

    python benchmarks/floor.py VAULT
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

# Matches [[...]] and ![[...]], code spans and fences included: the floor does not
# parse Markdown, so it counts a few links that a linter rightly ignores.
_WIKILINK = re.compile(r"!?\[\[([^\[\]\n]+)\]\]")


def scan_vault(vault: Path) -> tuple[int, int, int]:
    """Read every note of ``vault``; return (notes, frontmatter keys, wikilinks)."""
    notes = keys = links = 0
    for path in vault.rglob("*.md"):
        text = path.read_text(encoding="utf-8", errors="replace")
        body = text
        if text.startswith("---\n"):
            end = text.find("\n---\n", 4)
            if end != -1:
                meta = yaml.load(text[4:end], Loader=yaml.CSafeLoader)
                if isinstance(meta, dict):
                    keys += len(meta)
                body = text[end + 5 :]
        links += len(_WIKILINK.findall(body))
        notes += 1
    return notes, keys, links


def main(argv: list[str] | None = None) -> int:
    """Scan the vault named on the command line and print what was read."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python benchmarks/floor.py VAULT", file=sys.stderr)
        return 2
    notes, keys, links = scan_vault(Path(args[0]))
    print(f"{notes} notes, {keys} frontmatter keys, {links} wikilinks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
