r"""The frontmatter most notes have, read without a YAML parser; anything else is left to PyYAML.

Concept notes carry a handful of properties: ``type: mechanism``, ``canonical: true``, a list of
quoted aliases. PyYAML takes 40 µs to compose and build such a block (a fifth of a note's parse
time), and importing it takes 11 ms of a one-note run. This reader takes only text whose meaning
it can be sure of, and returns None for anything else, which ``conceptgraph.note.frontmatter`` then
loads with PyYAML. It reads lines of these forms, keys at the left margin:

- ``key: value`` and ``key: [value, value]``;
- ``key:`` followed by items ``- value``, all at one indentation; an item left empty (``-``,
  as templates leave one) is null;
- ``key:`` followed by another key, or by nothing: null, Obsidian's empty property;
- blank lines (spaces only).

A key is a plain word (letters, digits, ``_``, ``-``, inner spaces) starting with a letter or
``_``. A value is quoted (``"..."`` without ``\``, or ``'...'`` without ``''``: no escapes) or a
plain scalar that starts with a letter or ``_`` and holds no ``:``, ``#`` or brackets. Under the
resolvers of ``conceptgraph.note.frontmatter`` (YAML 1.2 booleans) such a scalar is a string, except
``true``/``false`` in their three spellings, which are booleans, and ``null`` in its three, which
this reader declines. Characters YAML reads specially (tabs, controls, line separators, the
byte order mark) make it decline too. tests/test_frontmatter.py holds it to PyYAML.
"""

from __future__ import annotations

import re

from conceptgraph.model import Span

# Characters YAML does not read as plain text (controls, tabs, line and paragraph separators,
# the byte order mark, what is not a character): text holding one is left to PyYAML. Every
# other character beyond ASCII is text to YAML, so the shapes below are matched with each
# of them standing as an "a" (the same length: positions hold).
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")
_BEYOND_ASCII = re.compile("[^\x00-\x7f]")
_KEY = re.compile(r"([A-Za-z_](?:[A-Za-z0-9_ -]*[A-Za-z0-9_-])?):(?: +(.*))?")
_ITEM = re.compile(r"( *)-(?: +(.*))?")
_QUOTED = re.compile(r"\"[ !#-\[\]-~]*\"|'[ -&(-~]*'")
_PLAIN = re.compile(r"[A-Za-z_](?:[A-Za-z0-9_ .,/()'+&*!?=-]*[A-Za-z0-9_.)'])?")
_BOOLEANS = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
}
_NULLS = frozenset({"null", "Null", "NULL"})

Scalar = str | bool
Value = Scalar | None | list[Scalar | None]


def load_simple(yaml_text: str) -> tuple[dict[str, Value], dict[str, Span]] | None:
    """The values and key spans of simple frontmatter (starting on file line 2), or None."""
    if _UNSAFE.search(yaml_text) is not None:
        return None
    shapes = yaml_text if yaml_text.isascii() else _BEYOND_ASCII.sub("a", yaml_text)
    data: dict[str, Value] = {}
    keys: dict[str, Span] = {}
    listing: list[Scalar | None] | None = None  # the block list being read, if any
    last = ""  # the key of that list
    indent: int | None = None
    for number, (line, shape) in enumerate(
        zip(yaml_text.split("\n"), shapes.split("\n"), strict=True)
    ):
        if not line.strip(" "):
            continue
        if listing is not None:
            item = _ITEM.fullmatch(shape)
            if item is not None and indent in (None, len(item.group(1))):
                if item.group(2) is None or not item.group(2).strip(" "):
                    entry: Scalar | None = None  # "- " alone: an empty item
                else:
                    entry = _scalar(line[item.start(2) :], item.group(2))
                    if entry is None:
                        return None
                listing.append(entry)
                indent = len(item.group(1))
                continue
            if indent is None:
                if shape.startswith(" "):
                    return None  # "key:" with something nested under it
                data[last] = None  # "key:" and another key: null
            listing = None
        found = _KEY.fullmatch(shape)
        if found is None:
            return None
        key = line[: found.end(1)]
        if key in data or key in _BOOLEANS or key in _NULLS:
            return None  # a duplicate (an error), or a key YAML reads as a boolean or null
        keys[key] = Span(number + 2, 1, number + 2, len(key) + 1)
        if found.group(2) is None or not found.group(2).strip(" "):
            data[key] = listing = []
            last, indent = key, None
            continue
        rest, rest_shape = line[found.start(2) :], found.group(2)
        value = _flow(rest, rest_shape) if rest.startswith("[") else _scalar(rest, rest_shape)
        if value is None:
            return None
        data[key] = value
    if listing is not None and indent is None:
        data[last] = None  # "key:" last, with nothing under it: null
    return data, keys


def _flow(text: str, shape: str) -> list[Scalar | None] | None:
    if not shape.endswith("]"):
        return None
    values: list[Scalar | None] = []
    if not shape[1:-1].strip(" "):
        return values
    start = 1
    for part in shape[1:-1].split(","):
        lead = len(part) - len(part.lstrip(" "))
        inner = part.strip(" ")
        value = _scalar(text[start + lead : start + lead + len(inner)], inner)
        if value is None:
            return None
        values.append(value)
        start += len(part) + 1
    return values


def _scalar(text: str, shape: str) -> Scalar | None:
    """A scalar ``text`` (``shape``: its ASCII stand-in) if it is sure to be a string or boolean."""
    if _QUOTED.fullmatch(shape) is not None:
        return text[1:-1]
    if _PLAIN.fullmatch(shape) is None or text in _NULLS:
        return None
    return _BOOLEANS.get(text, text)
