"""JSON text as ``json.dumps(value, ensure_ascii=False, indent=2)`` writes it, faster.

With ``indent`` set, the standard library leaves its C encoder for one written in Python,
which takes 1.2 s to write the JSON-LD export of 10,000 notes (53 MB) where the C encoder
takes 0.4 s without indentation. This writer makes the same text, byte for byte (tests
compare the two on generated values), for what our documents hold: dicts with string keys,
lists, tuples, strings, integers, booleans and None, its strings escaped by the standard
library's C function. Anything else (a float, say) is written by ``json.dumps`` itself.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring

_SCALARS: dict[object, str] = {True: "true", False: "false", None: "null"}


def dumps(
    value: object,
    indent: int = 2,
    sort_keys: bool = False,
    allow_nan: bool = True,
    depth: int = 0,
) -> str:
    """``value`` as ``json.dumps(value, ensure_ascii=False, indent=indent, ...)`` gives it.

    ``depth``: as it is written that many levels into a document (its lines indented so far).
    """
    step = " " * indent
    encode = encode_basestring
    if type(value) is dict and value:
        # A dict of plain values, the most common item of a streamed document, at once
        # (without setting up the writer below).
        text = _flat_text(value, sort_keys, "\n" + step * depth, step)
        if text is not None:
            return text
    out: list[str] = []
    add = out.append

    def nested(value: object, newline: str) -> str:
        # What this writer leaves to json.dumps, written at the depth ``newline`` indents to.
        text = json.dumps(
            value, ensure_ascii=False, indent=indent, sort_keys=sort_keys, allow_nan=allow_nan
        )
        return text.replace("\n", newline)

    def write(value: object, newline: str) -> None:
        # Types are checked exactly: a subclass of str or int may write itself otherwise, and
        # bool is a subclass of int. Strings, the most common leaves, are written in the loops.
        kind = type(value)
        if kind is dict:
            assert isinstance(value, dict)
            if not value:
                add("{}")
                return
            text = _flat_text(value, sort_keys, newline, step)
            if text is not None:
                add(text)  # items of a list are most often dicts of plain values
                return
            inner = newline + step
            if any(type(key) is not str for key in value):
                add(nested(value, newline))  # json.dumps turns such keys into strings its way
                return
            separator = "{" + inner
            items = sorted(value.items()) if sort_keys else value.items()
            for key, item in items:
                add(separator)
                add(encode(key))
                if type(item) is str:
                    add(": " + encode(item))
                else:
                    add(": ")
                    write(item, inner)
                separator = "," + inner
            add(newline + "}")
        elif kind is list or kind is tuple:
            assert isinstance(value, list | tuple)
            if not value:
                add("[]")
                return
            inner = newline + step
            separator = "[" + inner
            for item in value:
                if type(item) is str:
                    add(separator + encode(item))
                else:
                    add(separator)
                    write(item, inner)
                separator = "," + inner
            add(newline + "]")
        elif kind is str:
            add(encode(value))  # type: ignore[arg-type]
        elif kind is int:
            add(int.__repr__(value))
        elif kind is bool or value is None:
            add(_SCALARS[value])
        else:
            add(nested(value, newline))

    write(value, "\n" + step * depth)
    return "".join(out)


def _flat_text(value: dict[object, object], sort_keys: bool, newline: str, step: str) -> str | None:
    """A dict of plain values (see ``_flat``) as written at the depth ``newline`` indents to."""
    flat = _flat(value, sort_keys)
    if flat is None:
        return None
    inner = newline + step
    return "{" + inner + ("," + inner).join(flat) + newline + "}"


_KEYS: dict[str, str] = {}  # each key as written, with its ": " (keys repeat item after item)


def _flat(value: dict[object, object], sort_keys: bool) -> list[str] | None:
    """Each ``"key": value`` of a dict of strings, integers, booleans and None; else None."""
    keys = _KEYS
    lines = []
    for key, item in sorted(value.items()) if sort_keys else value.items():
        if type(key) is not str:
            return None
        written = keys.get(key)
        if written is None:
            if len(keys) > 4096:
                keys.clear()
            written = keys[key] = encode_basestring(key) + ": "
        kind = type(item)
        if kind is str:
            lines.append(written + encode_basestring(item))  # type: ignore[arg-type]
        elif kind is int:
            lines.append(written + int.__repr__(item))
        elif kind is bool or item is None:
            lines.append(written + _SCALARS[item])
        else:
            return None
    return lines
