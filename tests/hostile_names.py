"""A vault whose note names, titles, aliases, layers and residuals hold diagram syntax.

Quotes, brackets, ``#``, ``;``, ``-->``, Mermaid keywords (``end``, ``subgraph``, ``style``),
HTML, entities (``#35;``, ``&amp;``), a trailing backslash, backticks, ``%%``, Mermaid's own
entity markers, Unicode and emoji, a control character. Built in a temporary folder, since some
of these names cannot be committed: ``build(root)`` writes it and returns the note titles.
"""

from __future__ import annotations

from pathlib import Path

NAMES = (
    'He said "hi"',
    "a[b]c (d) {e}",
    "C#; x",
    "-->",
    "end",
    "subgraph",
    "style",
    "classDef",
    "über 日本語 😀",
    "back\\slash\\",
    "<b>bold & x",
    "pipe | bar",
    "semi; colon: x",
    "tick `code`",
    "percent %% comment",
    "amp #35; &amp; entity",
    "\ufb02\u00b0\u00b0x\u00b6\u00df",
    "ctl\x01x",
)
# Names a [[wikilink]] can hold (no |, #, ], ^): the hub links to these.
_LINKABLE = [n for n in NAMES if not any(c in n for c in "|#[]^")]


def _title(name: str) -> str:
    return f'T: "{name}" --> </i>'


def build(root: Path) -> list[str]:
    """Write the vault; return every note's title (as the graph holds it)."""
    root.mkdir(parents=True, exist_ok=True)
    titles = []
    for number, name in enumerate(NAMES):
        layer = ('sub"graph ]; end', "<i>&amp; #35;</i>", "über")[number % 3]
        title = _title(name)
        titles.append(title)
        text = (
            "---\n"
            f"aliases: [{_yaml(name + ' alias')}, {_yaml('x --> y; z')}]\n"
            f"layer: {_yaml(layer)}\n"
            f"type: {_yaml('me' + chr(34) + 'ch')}\n"
            "---\n\n"
            f"# {title}\n\n"
            "## Residuals\n\n"
            f"- residue of {name} [with] {{braces}} --> ;\n\n"
            "## What this is NOT\n\n"
            f"- Not {name.replace('`', '')} (the name itself, again).\n"
            "- Not a `end` --> thing (nothing of that name).\n"
        )
        (root / f"{name}.md").write_text(text, encoding="utf-8")
    hub = ["# Hub", "", "## Structural dependencies", ""]
    hub += [f"- [[{name}]]" for name in _LINKABLE]
    (root / "hub.md").write_text("\n".join(hub) + "\n", encoding="utf-8")
    titles.append("Hub")
    return titles


def _yaml(text: str) -> str:
    """A YAML double-quoted scalar."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\x01", "\\x01")
    return f'"{escaped}"'
