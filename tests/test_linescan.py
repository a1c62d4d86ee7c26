"""Differential tests: the plain-note engine (note/markdown/plain.py) gives what the reference does.

The line scanner either returns exactly markdown-it-py's links, embeds, headings, sections,
list items, block ids and positions, or says ``Unsure`` and the note goes to the next engine.
Checked on every fixture note, the concept vault, the hostile vault, generated vaults (where it
must take most notes, or the speed-up would be a claim), random Markdown, random plain notes
(the constructs it does take, combined at random), and each corner it must refuse.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.generate_vault import generate_vault
from conceptgraph.model import LINE_BREAK
from conceptgraph.note.markdown import plain
from conceptgraph.note.markdown.parts import MarkdownParts
from conceptgraph.note.parse import parse_note
from tests import differential
from tests.differential import (
    concept_texts,
    fixture_texts,
    hostile_texts,
    notes_under,
    users_texts,
)
from tests.test_fuzz import FUZZ, markdown


def both(text: str) -> tuple[MarkdownParts | None, MarkdownParts]:
    """The scanner's parts (None when it is unsure) and the reference's, for a whole note."""
    return differential.both(text, plain.parse_plain, plain.Unsure)


def assert_same(text: str) -> bool:
    """Whether the scanner took the note; fails when it took it and differs."""
    return differential.assert_same(text, plain.parse_plain, plain.Unsure)


def test_every_fixture_and_concept_note() -> None:
    taken = [assert_same(text) for text in fixture_texts()]
    assert len(taken) > 200
    # Not a vacuous pass: the scanner takes half the fixtures (they are made to be odd).
    assert sum(taken) >= 0.5 * len(taken)
    assert all(assert_same(text) for text in concept_texts() + users_texts())


@pytest.mark.parametrize("seed", [3, 4])
def test_generated_vaults(tmp_path: Path, seed: int) -> None:
    generate_vault(tmp_path / "v", notes=300, seed=seed)
    paths = notes_under(tmp_path / "v")
    taken = [assert_same(p.read_text(encoding="utf-8")) for p in paths]
    assert sum(taken) >= 0.8 * len(taken)


def test_the_hostile_vault(tmp_path: Path) -> None:
    for text in hostile_texts(tmp_path / "vault"):
        assert_same(text)


@FUZZ
@given(markdown)
def test_random_markdown(text: str) -> None:
    assert_same("\n".join(LINE_BREAK.split(text.replace("\x00", ""))))


# Lines of what the scanner does take, and of what it must refuse, to be combined at random:
# many random notes from these are taken, so each case is compared, not only refused.
WORDS = [
    "word",
    "Ünïcödé",
    "**bold**",
    "*em*",
    "_u_",
    "__s__",
    "#tag",
    "(a)",
    "x: y",
    "!",
    "%%c%%",
    "2024",
    "a*b",
    "🙂",
    "[[a]]",
    "[[b|B]]",
    "[[c#H]]",
    "[[d#^id]]",
    "![[e.png]]",
    "[[f/g]]",
    "`code`",
    "``a`b``",
    "`[[x]]`",
    "[[y]]`z`",
    "`$`",
    "`<b>`",
    "`&a;`",
    "`\\`",
    "`|`",
    "`^`",
    "^",
    "#",
    "-",
    "+",
    "=",
    "|",
]
OTHER_LINES = [
    "",
    "",
    " ",
    "```",
    "```py",
    "~~~",
    "````",
    "``` a ` b",
    "---",
    "***",
    "* x",
    "+ y",
    "1. z",
    "> q",
    "===",
    "- ",
    "-",
    "# ",
    "#",
    "## H ##",
    "- # h",
    "- ```",
    "    code",
]
_TEXTS = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join)
_LINE = st.one_of(
    _TEXTS,
    _TEXTS.map(lambda t: f"{t} ^b-1"),
    _TEXTS.map(lambda t: f"{t}   "),
    st.tuples(st.integers(1, 7), _TEXTS).map(lambda p: "#" * p[0] + " " + p[1]),
    st.tuples(st.integers(0, 4), _TEXTS).map(lambda p: "  " * p[0] + "- " + p[1]),
    st.tuples(st.integers(0, 5), _TEXTS).map(lambda p: " " * p[0] + p[1]),
    st.sampled_from(OTHER_LINES),
)


@FUZZ
@given(st.lists(_LINE, max_size=25).map("\n".join))
def test_random_plain_notes(text: str) -> None:
    assert_same(text)


def _random_plain(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randrange(25)):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
        kind = rng.randrange(7)
        if kind == 1:
            text = "#" * rng.randint(1, 7) + " " + text
        elif kind in (2, 3):
            text = "  " * rng.choice([0, 0, 1, 1, 2, 4]) + "- " + text
        elif kind == 4:
            text = rng.choice(OTHER_LINES)
        elif kind == 5:
            text += rng.choice([" ^b-1", "   ", " ", ""])
        lines.append(text)
    return "\n".join(lines)


def test_random_plain_notes_are_compared_not_only_refused() -> None:
    rng = random.Random(8)
    taken = [assert_same(_random_plain(rng)) for _ in range(2000)]
    assert sum(taken) >= 200


REFUSED = {
    "lazy continuation": "- a [[x]]\ncontinued",
    "indented code": "text\n\n    [[x]]",
    "code across lines": "a `b\n[[x]] c` d",
    "setext": "Title [[x]]\n===",
    "ordered": "1. [[x]]",
    "quote": "> [[x]]",
    "table": "| a | [[x]] |\n|---|---|",
    "html": "<div>\n[[x]]\n</div>",
    "escape": "\\[[x]]",
    "markdown link": "[t](a.md)",
    "glued": "[[a]](b)",
    "id then more": "text ^id\nmore",
    "deep jump": "- a\n      - b",
    "bullet after text": "text\n  - b",
    "fence in bullet": "- ```\n  [[x]]\n  ```",
    "math": "$[[x]]$",
    "empty link": "[[ ]]",
    "unicode space": "a\u00a0[[x]]",
    # Found by benchmarks/fuzz_parsers.py: markdown-it tries a table before a fence.
    "fence or table": "```|\n--\n[[x]]",
}


@pytest.mark.parametrize("text", REFUSED.values(), ids=REFUSED.keys())
def test_what_it_refuses(text: str) -> None:
    assert both(text)[0] is None


def test_a_refused_note_still_gets_the_reference_parts() -> None:
    # Through parse_note, a note the scanner refuses is read by the next engine in the chain.
    text = "# T\n\n- a [[x]]\ncontinued [[y]]\n"
    record = parse_note("n.md", text.encode(), "pyromark")
    assert [link.target for link in record.links] == ["x", "y"]
    assert record.list_items[0].text == "a [[x]]"
