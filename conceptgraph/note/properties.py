"""Obsidian's property types: which values fit which type, named in the words Obsidian uses.

Obsidian reads frontmatter with js-yaml, which leaves a date as the text it is written in
(``2024-01-01``) where PyYAML makes a ``datetime.date``; both are "a date" here. A type is one
of ``TYPES``, as ``.obsidian/types.json`` names it (``{"types": {"status": "text"}}``); the
vault's declared types are that file's, and ``[properties]`` in ``conceptgraph.toml`` on top.
The file is read like any other file a vault hands us: only inside the vault, at most
``MAX_TYPES_BYTES``, and a file that is not what Obsidian writes becomes a finding naming it.

Sources: https://help.obsidian.md/properties (the types, "Number type properties must always
be an integer", "An empty property will be treated as false", date formats) and
https://help.obsidian.md/tags (tag characters, "at least one non-numerical character").
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

TYPES = ("text", "multitext", "number", "checkbox", "date", "datetime", "aliases", "tags")
TYPES_FILE = ".obsidian/types.json"
# Obsidian writes a line per property: a megabyte is tens of thousands of them.
MAX_TYPES_BYTES = 1 << 20

# js-yaml leaves dates as text: a property holding such text is a date to Obsidian.
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_DATETIME = re.compile(r"\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\S*")


@dataclass(frozen=True, slots=True)
class DeclaredTypes:
    """The property types a vault declares, by lower-cased name, and what was wrong on the way.

    ``problem`` is ``(line, column, message)`` about ``TYPES_FILE``; the types it could not
    give are left out.
    """

    types: Mapping[str, str] = field(default_factory=dict)
    problem: tuple[int, int, str] | None = None

    def of(self, key: str) -> str | None:
        """The declared type of a property; Obsidian's names ignore case."""
        return self.types.get(key.lower())


def read_types_file(root: Path, allowed: tuple[str, ...] = ()) -> DeclaredTypes:
    """The types in the vault's ``.obsidian/types.json``, or none when it has no such file."""
    from conceptgraph.obsidian import read_settings

    parsed, problem = read_settings(root, TYPES_FILE, allowed, MAX_TYPES_BYTES)
    if problem is not None:
        return DeclaredTypes(problem=problem)
    if parsed is None:
        return DeclaredTypes()
    table = parsed.get("types") if isinstance(parsed, dict) else None
    if not isinstance(table, dict):
        return DeclaredTypes(problem=(1, 1, 'not {"types": {"property": "type", ...}}; not read'))
    # A type Obsidian does not have is a plugin's: nothing here can check it.
    types = {str(k).lower(): v for k, v in table.items() if isinstance(v, str) and v in TYPES}
    return DeclaredTypes(types)


def describe(value: object) -> str:
    """A value as a user of Obsidian would name it: text, a number, a list, ..."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"a checkbox ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, datetime.datetime):
        return f"a date and time ({value.isoformat()})"
    if isinstance(value, datetime.date):
        return f"a date ({value.isoformat()})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "..."
        return f"the text {shown!r}"
    if isinstance(value, list):
        odd = [describe(item) for item in value if not _is_text(item) and item is not None]
        return f"a list holding {odd[0]}" if odd else "a list"
    if isinstance(value, dict):
        return "nested properties"
    return f"a value Obsidian cannot show ({type(value).__name__})"


def as_text(value: object) -> str | None:
    """A value as the text Obsidian reads it as: a string, or a date as written; else None.

    PyYAML makes ``2024-01-01`` a date, js-yaml leaves it the text it is; a date alone has one
    way to be written, so its ISO form is that text.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    return None


def _is_text(value: object) -> bool:
    """What Obsidian shows as text: a string, or a date js-yaml would have left as text."""
    return isinstance(value, str | datetime.date)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_date(value: object) -> bool:
    if isinstance(value, datetime.date):
        return True
    return isinstance(value, str) and (
        _DATE.fullmatch(value) is not None or _DATETIME.fullmatch(value) is not None
    )


def _is_list_of(value: object) -> bool:
    """A list (or one text, which Obsidian shows as a list of one) of text; empty items too."""
    if _is_text(value):
        return True
    if not isinstance(value, list):
        return False
    return all(item is None or _is_text(item) or _is_number(item) for item in value)


def fits(kind: str, value: object) -> bool:
    """Whether Obsidian shows ``value`` as a property of type ``kind`` without a mismatch.

    Empty (null) fits every type: it is Obsidian's empty property. Where it is unsure what
    Obsidian shows, this says the value fits: a finding must be one Obsidian would agree with.
    """
    if value is None:
        return True
    if kind == "text":
        return _is_text(value) or _is_number(value)
    if kind == "number":
        return _is_number(value)
    if kind == "checkbox":
        return isinstance(value, bool)
    if kind in ("date", "datetime"):
        return _is_date(value)
    if kind in ("multitext", "aliases", "tags"):
        return _is_list_of(value)
    return True


def expected(kind: str) -> str:
    """What a property of type ``kind`` holds, in words."""
    return {
        "text": "text",
        "multitext": "a list",
        "number": "a number",
        "checkbox": "a checkbox (true or false)",
        "date": "a date (YYYY-MM-DD)",
        "datetime": "a date and time (YYYY-MM-DDTHH:MM)",
        "aliases": "a list of aliases",
        "tags": "a list of tags",
    }.get(kind, kind)


def shape_of(value: object) -> str | None:
    """The type Obsidian would take ``value`` for, in words; None for an empty value."""
    if value is None or value == [] or value == "":
        return None
    if isinstance(value, bool):
        return "a checkbox"
    if _is_number(value):
        return "a number"
    if isinstance(value, datetime.datetime) or (
        isinstance(value, str) and _DATETIME.fullmatch(value)
    ):
        return "a date and time"
    if isinstance(value, datetime.date) or (isinstance(value, str) and _DATE.fullmatch(value)):
        return "a date"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "nested properties"
    return None


# Obsidian's tag characters: letters, numbers, "_", "-" and "/" for nesting; marks and emoji
# are letters to it too (#café, #📚 are tags).
_TAG_CATEGORIES = ("L", "N", "M", "So", "Sk", "Cf")


def tag_values(value: object) -> Iterator[str]:
    """The tags a ``tags`` property holds as Obsidian splits them, ``#`` and blanks dropped.

    A single text is split at commas and spaces (``tags: recipe, cooking``); a list item is one
    tag whatever it holds, so a space inside one is reported, not split. Empty items are none.
    """
    if isinstance(value, str):
        for part in re.split(r"[,\s]+", value):
            if part.lstrip("#"):
                yield part.lstrip("#")
        return
    if _is_number(value):
        yield str(value)
        return
    if not isinstance(value, list):
        return
    for item in value:
        if isinstance(item, str) and item.strip().lstrip("#").strip():
            yield item.strip().lstrip("#").strip()
        elif _is_number(item):
            yield str(item)


def tag_problem(tag: str) -> str | None:
    """Why Obsidian does not take ``tag`` as a tag, or None when it does."""
    if any(char.isspace() for char in tag):
        return "holds a space; Obsidian's tags cannot (use tag-name or tag_name)"
    if tag.isdecimal():
        return "is only a number; a tag needs at least one other character (y1984)"
    for char in tag:
        if char in "_-/" or unicodedata.category(char).startswith(_TAG_CATEGORIES):
            continue
        return f"holds {char!r}; tags hold letters, numbers, _, - and / only"
    return None
