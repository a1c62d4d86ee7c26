"""Records that flow through conceptgraph: one note's parts, and the findings about them.

Every record is frozen: files become ``NoteRecord`` once, and everything downstream only reads.
The parts a note has dozens of (spans, links, headings, sections, list items, block ids) are
named tuples, the rest frozen dataclasses: a tuple is made, unpickled (from worker processes
and the cache) and compared several times faster, and records come by the hundred thousand.
Positions are 1-based lines and columns counted over the whole file, frontmatter included,
columns in Unicode code points.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import NamedTuple

# Obsidian, CommonMark and editors all end a line at CRLF, CR or LF, and at nothing else.
LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Severity(enum.IntEnum):
    """How bad a finding is; ordered so that ``>=`` compares against a fail level."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        """The lowercase name used in every output format."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a severity from its lowercase name."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of {names})") from None


# A span's four numbers as a plain tuple (``Span.plain()``), for what stores plain values only.
PlainSpan = tuple[int, int, int, int]


class Span(NamedTuple):
    """A range in a file: start line/column and end line/column (end exclusive)."""

    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, line: int, column: int = 1) -> Span:
        """A zero-width span at one position."""
        return cls(line, column, line, column)

    def plain(self) -> PlainSpan:
        """The four numbers as a plain tuple, for what stores only plain values; ``Span(*p)``."""
        return (self.line, self.column, self.end_line, self.end_column)


class LinkKind(enum.Enum):
    """Where a link was written."""

    WIKI = "wiki"  # [[target]] and ![[target]]
    MARKDOWN = "markdown"  # [text](target.md): Obsidian indexes these as links too
    FRONTMATTER = "frontmatter"  # a "[[target]]" string in a property


class Link(NamedTuple):
    """One link as written: ``[[target#subpath|display]]`` or an embed ``![[...]]``."""

    target: str
    subpath: str | None
    display: str | None
    embed: bool
    kind: LinkKind
    span: Span
    section: int | None
    raw: str
    frontmatter_key: str | None = None

    @property
    def heading(self) -> str | None:
        """The heading part of the subpath (``A#B`` for nested headings), if any."""
        if self.subpath is None or self.subpath.startswith("^"):
            return None
        return self.subpath

    @property
    def block(self) -> str | None:
        """The block id of a ``#^id`` subpath, without the caret."""
        if self.subpath is None or not self.subpath.startswith("^"):
            return None
        return self.subpath[1:]


class Heading(NamedTuple):
    """A Markdown heading: its level, its text as written, and where it stands."""

    level: int
    text: str
    span: Span


class Section(NamedTuple):
    """The part of a note under one heading, up to the next heading of any level."""

    title: str
    level: int
    span: Span
    end_line: int
    parent: int | None


class ListItem(NamedTuple):
    """A list item's first line of text, with the section it stands in and its nesting depth."""

    text: str
    span: Span
    section: int | None
    depth: int


class BlockId(NamedTuple):
    """A block id ``^id`` that ``[[note#^id]]`` can point at."""

    id: str
    span: Span


@dataclass(frozen=True, slots=True)
class Directive:
    """An inline ``<!-- conceptgraph-disable rule -->`` comment: its kind, rules and line.

    Kinds: ``disable``/``enable`` (from this line on), ``disable-line``, ``disable-next-line``,
    ``disable-file``. No rules means every rule.
    """

    kind: str
    rules: tuple[str, ...]
    line: int


class ProblemKind(enum.Enum):
    """What went wrong while reading one file; rules turn these into findings."""

    BINARY = "binary"
    ENCODING = "encoding"
    YAML_SYNTAX = "yaml-syntax"
    YAML_UNCLOSED = "yaml-unclosed"
    YAML_NOT_MAPPING = "yaml-not-mapping"
    YAML_UNSAFE = "yaml-unsafe"
    UNREADABLE = "unreadable"
    NESTING = "nesting"


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem met while reading a file, with its position."""

    kind: ProblemKind
    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Frontmatter:
    """The YAML block at the top of a note: its values and where each key stands."""

    data: Mapping[str, object]
    keys: Mapping[str, Span]
    span: Span


@dataclass(frozen=True, slots=True)
class NoteRecord:
    """Everything conceptgraph knows about one Markdown file, read once."""

    path: str
    text: str
    frontmatter: Frontmatter | None = None
    headings: tuple[Heading, ...] = ()
    sections: tuple[Section, ...] = ()
    links: tuple[Link, ...] = ()
    list_items: tuple[ListItem, ...] = ()
    block_ids: tuple[BlockId, ...] = ()
    problems: tuple[Problem, ...] = ()
    directives: tuple[Directive, ...] = ()
    decoded: bool = True  # False when the bytes could not be read as text at all
    # A hash of the bytes the record was read from (empty when none were read): the cache
    # tells an edited file from a touched one by it.
    digest: bytes = b""

    @property
    def name(self) -> str:
        """The note's name as Obsidian shows it: the file name without ``.md``."""
        base = self.path.rsplit("/", 1)[-1]
        return base[:-3] if base.lower().endswith(".md") else base

    @property
    def title(self) -> Heading | None:
        """The first level-1 heading, if the note has one."""
        return next((h for h in self.headings if h.level == 1), None)

    def lines(self) -> list[str]:
        """The note's lines without their line ends, as positions count them."""
        return LINE_BREAK.split(self.text)

    def first_lines(self, count: int) -> list[str]:
        """The note's first ``count`` lines, as ``lines()`` gives them, not splitting the rest."""
        return LINE_BREAK.split(self.text, count)[:count]

    def property(self, key: str) -> object:
        """A frontmatter value, or None when the note has no such key."""
        if self.frontmatter is None:
            return None
        return self.frontmatter.data.get(key)


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text between two positions (end exclusive) with new text."""

    span: Span
    replacement: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A change that repairs a finding; ``safe`` fixes may be applied without review."""

    description: str
    edits: tuple[Edit, ...]
    safe: bool = True


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One thing a rule found, at one place in one file."""

    path: str
    line: int
    column: int
    rule: str
    severity: Severity = field(compare=False)
    message: str = field(compare=False)
    end_line: int = field(default=0, compare=False)
    end_column: int = field(default=0, compare=False)
    fix: Fix | None = field(default=None, compare=False)

    @classmethod
    def at(
        cls,
        path: str,
        span: Span,
        rule: str,
        severity: Severity,
        message: str,
        fix: Fix | None = None,
    ) -> Finding:
        """A finding covering ``span``."""
        return cls(
            path=path,
            line=span.line,
            column=span.column,
            rule=rule,
            severity=severity,
            message=message,
            end_line=span.end_line,
            end_column=span.end_column,
            fix=fix,
        )


def _pickled_by_fields(cls: type) -> None:
    """Pickle a record as its class and its field values, in order.

    Records cross process boundaries by the hundred thousand when a vault is parsed in parallel;
    rebuilding them from a plain tuple unpickles about twice as fast as the dataclass default.
    """
    names: tuple[str, ...] = cls.__slots__  # type: ignore[attr-defined]
    get = attrgetter(*names)  # one C call for every field
    if len(names) == 1:
        setattr(cls, "__reduce__", lambda record: (cls, (get(record),)))  # noqa: B010
    else:
        setattr(cls, "__reduce__", lambda record: (cls, get(record)))  # noqa: B010


for _record in (
    Directive,
    Problem,
    Frontmatter,
    NoteRecord,
    Finding,
):
    _pickled_by_fields(_record)
