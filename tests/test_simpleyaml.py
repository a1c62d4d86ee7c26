"""The reader of simple frontmatter (conceptgraph.note.plain_frontmatter) against PyYAML.

Whatever it reads, it must read exactly as ``frontmatter.load`` reads it with PyYAML: the same
values, of the same types, and the same key positions. Whatever it cannot be sure of, it
declines, and PyYAML reads.
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from benchmarks.generate_vault import generate_vault
from conceptgraph.model import LINE_BREAK
from conceptgraph.note import frontmatter
from conceptgraph.note.plain_frontmatter import load_simple
from tests.test_sparql import NOTES


def _with_pyyaml(text: str) -> tuple[str, str, list[str]] | None:
    """What ``frontmatter.load`` makes of the text with PyYAML alone, as comparable text."""
    with mock.patch.object(frontmatter, "load_simple", lambda text: None):
        found, problems = frontmatter.load(text, text.count("\n") + 3)
    if found is None or problems:
        return None
    return repr(dict(found.data)), repr(dict(found.keys)), list(found.data)


def _simple(text: str) -> tuple[str, str, list[str]] | None:
    simple = load_simple(text)
    if simple is None:
        return None
    data, keys = simple
    return repr(data), repr(keys), list(data)


_KEYS = ["type", "aliases", "a", "_x", "my key", "a-b", "k2", "true", "True", "null", "yes", "é"]
_KEYS += ["on", "n", "y", "<<", "~", "a ", " a", "a\tb", "1", "a#b", "a:b", "[a]"]
_WORDS = ["mechanism", "a b", "true", "False", "TRUE", "null", "Null", "yes", "no", "off", "y"]
_WORDS += ["1", "1.5", "2024-01-01", ".inf", "0x1F", "~", "", " ", "a: b", "a:b", "a #b", "a#b"]
_WORDS += ["a,b", "é", "\xa0x", "x\u2028y", "x\x85y", "x\ufeffy", "a'b", "-a", "_a", "a.", "a)"]
_WORDS += ["a ", "a\tb", "*a", "&a", "!a", "|", ">", "@a", "`a", "%a", "[a]", "{a}", "a]", "a?"]
_WORDS += ["[[link]]", "a - b", "NULL", "Yes", "ON", "a=b", "=", "<<", "a\\b", "👍", "x\x7fy"]
_QUOTE_BODIES = ["", "a b", "[[migration]]", "a # b", "a: b", "it's", 'say "x"', "a\\nb", "é"]
_QUOTE_BODIES += ["\t", "x\u2028y", "x\x01y", "  lead", "trail  ", "\ufeff"]


def _quoted(body: str, quote: str) -> str:
    return f"{quote}{body}{quote}"


_PROBES = [*_WORDS, *(_quoted(body, q) for body in _QUOTE_BODIES for q in "\"'")]
# Mostly what it reads, so that whole blocks often are simple; a probe among them.
_GOOD = ["mechanism", "a b", "true", "False", '"transition"', "'move'", '"[[migration]]"']
_SCALARS = st.sampled_from(_GOOD * 8 + _PROBES)
_SEPARATORS = st.sampled_from([": "] * 8 + [":  ", ":", ": \t", " : "])


@st.composite
def _lines(draw: st.DrawFn) -> list[str]:
    key = draw(st.sampled_from(_KEYS[:7] * 4 + _KEYS))
    shape = draw(st.sampled_from(["scalar", "block", "flow", "blank", "other"]))
    if shape == "scalar":
        return [f"{key}{draw(_SEPARATORS)}{draw(_SCALARS)}"]
    if shape == "block":
        indent = " " * draw(st.sampled_from([0, 2, 4]))
        items = draw(st.lists(_SCALARS, max_size=3))
        lines = [f"{key}:"]
        for item in items:
            inner = indent if draw(st.booleans()) or not lines else " " * draw(st.integers(0, 5))
            lines.append(f"{inner}{draw(st.sampled_from(['- ', '-  ', '-']))}{item}")
        return lines
    if shape == "flow":
        items = draw(st.lists(_SCALARS, max_size=3))
        comma = draw(st.sampled_from([", ", ",", " , "]))
        trail = draw(st.sampled_from(["", ",", ", "]))
        return [f"{key}: [{comma.join(items)}{trail}]"]
    if shape == "blank":
        return [draw(st.sampled_from(["", "  ", "\t"]))]
    return [draw(st.sampled_from(["# a comment", "...", "- stray", "  nested: x", "%YAML 1.2"]))]


@settings(max_examples=1500, deadline=None)
@given(st.lists(_lines(), max_size=6))
@example([["aliases:", '  - "transition"', '  - "move"'], ["canonical: true"]])
@example([["tags: [a, b,]"], ["list:", "- a", "", "- b"]])
@example([["tags:", "  - "], ["aliases:", "-"], ["empty:"], ["last: "]])
@example([["tags:", "  -", "  - a", "- b"]])
def test_what_it_reads_pyyaml_reads_alike(groups: list[list[str]]) -> None:
    text = "\n".join(line for group in groups for line in group)
    simple = _simple(text)
    if simple is not None:
        assert simple == _with_pyyaml(text)


def _contexts(probe: str) -> list[str]:
    return [
        f"key: {probe}",
        f"key:\n  - {probe}\n  - x",
        f"key:\n- x\n- {probe}",
        f"key: [{probe}]",
        f"key: [x, {probe}]",
        f"key: [{probe}, x,]",
        f"{probe}: x",
        f"a: x\n{probe}\nb: y",
    ]


@pytest.mark.parametrize("probe", _PROBES)
def test_each_probe_in_each_place(probe: str) -> None:
    for text in _contexts(probe):
        simple = _simple(text)
        assert simple is None or simple == _with_pyyaml(text), text


@pytest.mark.parametrize(
    "text",
    [
        "created: 2024-01-01",  # a date
        "count: 3",
        "nothing: null",
        "key:value",  # one plain scalar, not a mapping
        "a: 1\na: 2",  # a duplicate key
        "true: x",  # a boolean key
        "base: &b x\nother: *b",
        "# a comment\ntype: x",
        "type: x # a comment",
        "type:\tx",
        "aliases:\n  - a\n    - b",
        'text: "a \\n b"',
        "block: |\n  text",
    ],
)
def test_what_it_leaves_to_pyyaml(text: str) -> None:
    assert load_simple(text) is None


@pytest.mark.parametrize(
    ("text", "data"),
    [
        # What templates leave: an empty item, an empty property, a key and a space.
        ("tags:\n  - \naliases:\n  -", {"tags": [None], "aliases": [None]}),
        ("tags:\n  - a\n  -\n  - b", {"tags": ["a", None, "b"]}),
        ("empty:\ntype: x", {"empty": None, "type": "x"}),
        ("type: x\nempty:", {"type": "x", "empty": None}),
        ("spaced:   \n- a", {"spaced": ["a"]}),
    ],
)
def test_what_templates_leave_is_read_without_pyyaml(text: str, data: object) -> None:
    simple = load_simple(text)
    assert simple is not None and simple[0] == data
    assert _simple(text) == _with_pyyaml(text)


@pytest.mark.parametrize("text", ["key:\n  nested: x", "key:\n-\n  - a", "key:\n-\n  a: b"])
def test_what_nests_under_an_empty_key_or_item_is_left_to_pyyaml(text: str) -> None:
    assert load_simple(text) is None


def _frontmatters(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.md")):
        parts = frontmatter.split(LINE_BREAK.split(path.read_text(encoding="utf-8")))
        if parts.yaml_text is not None:
            found.append(parts.yaml_text)
    return found


def test_concept_notes_are_read_without_pyyaml(tmp_path: Path) -> None:
    # The format's own notes and the benchmark's: the reader pays only if it takes them.
    generate_vault(tmp_path / "v", notes=60, seed=4)
    texts = _frontmatters(NOTES) + _frontmatters(tmp_path / "v")
    assert len(texts) > 70
    for text in texts:
        assert _simple(text) is not None, text
        assert _simple(text) == _with_pyyaml(text)
