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
import marshal
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple

# Obsidian, CommonMark and editors all end a line at CRLF, CR or LF, and at nothing else.
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str, most: int | None = None) -> list[str]:
    """A text's lines without their line ends, as positions count them.

    Given ``most``, split at most that many times: the rest of the text is the last item.
    """
    if "\r" not in text:
        # The same lines, four times as quick: str.split finds "\n" with memchr.
        return text.split("\n", -1 if most is None else most)
    return LINE_BREAK.split(text, 0 if most is None else most)


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
    CANVAS = "canvas"  # a file node of a .canvas, or a [[link]] in one of its text nodes


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
    OUTSIDE = "outside"  # a symbolic link that leads out of the vault, not followed
    NESTING = "nesting"
    CANVAS = "canvas"  # a .canvas file that is not JSON Canvas


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


def name_of(path: str) -> str:
    """A note's name as Obsidian shows it, from its path: the file name without ``.md``."""
    base = path.rsplit("/", 1)[-1]
    return base[:-3] if base.lower().endswith(".md") else base


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
        return name_of(self.path)

    @property
    def title(self) -> Heading | None:
        """The first level-1 heading, if the note has one."""
        return next((h for h in self.headings if h.level == 1), None)

    def lines(self) -> list[str]:
        """The note's lines without their line ends, as positions count them."""
        return split_lines(self.text)

    def first_lines(self, count: int) -> list[str]:
        """The note's first ``count`` lines, as ``lines()`` gives them, not splitting the rest."""
        # For a count of 0 the regex splits every line (0 is its "no limit"): none are kept.
        return split_lines(self.text, count)[:count]

    def property(self, key: str) -> object:
        """A frontmatter value, or None when the note has no such key."""
        if self.frontmatter is None:
            return None
        return self.frontmatter.data.get(key)

    def plain(self) -> PlainRecord:
        """The record as plain tuples, to be sent to another process: ``from_plain`` inverts it.

        Parsing workers send records by the ten thousand, each of a hundred named tuples. The
        pickler calls back into Python for every named tuple, enum and dataclass, where marshal
        and the pickler pack plain tuples, lists and dicts in C: ``packed()`` is four times
        quicker than pickling the record, and unpacking as quick as unpickling it. Frontmatter
        values stay as YAML made them (dates included). One entry a field, in field order.
        """
        fm = self.frontmatter
        return (
            self.path,
            self.text,
            None if fm is None else (fm.data, {k: (*s,) for k, s in fm.keys.items()}, (*fm.span,)),
            [(h.level, h.text, (*h.span,)) for h in self.headings],
            [(s.title, s.level, (*s.span,), s.end_line, s.parent) for s in self.sections],
            [
                (
                    k.target,
                    k.subpath,
                    k.display,
                    k.embed,
                    k.kind.value,
                    (*k.span,),
                    k.section,
                    k.raw,
                    k.frontmatter_key,
                )
                for k in self.links
            ],
            [(i.text, (*i.span,), i.section, i.depth) for i in self.list_items],
            [(b.id, (*b.span,)) for b in self.block_ids],
            [(p.kind.value, (*p.span,), p.message) for p in self.problems],
            [(d.kind, d.rules, d.line) for d in self.directives],
            self.decoded,
            self.digest,
        )

    def packed(self) -> bytes:
        """The record as bytes for another process of this run: ``unpacked`` inverts it.

        Marshal packs plain values quickest; frontmatter it cannot pack (a date) is pickled.
        """
        plain = self.plain()
        try:
            # Format 2 is the quickest: later ones look every value up to refer back to it.
            return marshal.dumps(plain, 2)
        except ValueError:
            return pickle.dumps(plain, pickle.HIGHEST_PROTOCOL)

    @classmethod
    def unpacked(cls, data: bytes | memoryview) -> NoteRecord:
        """The record ``packed()`` gave these bytes for; never bytes from anywhere else."""
        # A pickle (protocol 2 on) opens with PROTO, 0x80; marshal's tuple with "(".
        plain = pickle.loads(data) if data[:1] == b"\x80" else marshal.loads(data)
        return cls.from_plain(plain)

    @classmethod
    def from_plain(cls, plain: PlainRecord) -> NoteRecord:
        """The record ``plain()`` was made from, equal to it."""
        path, text, fm, headings, sections, links, items, blocks, problems, directives = plain[:10]
        kinds = _LINK_KINDS
        return cls(
            path,
            text,
            None
            if fm is None
            else Frontmatter(fm[0], {k: Span(*s) for k, s in fm[1].items()}, Span(*fm[2])),
            tuple([Heading(level, t, Span(*s)) for level, t, s in headings]),
            tuple([Section(t, level, Span(*s), end, up) for t, level, s, end, up in sections]),
            tuple(
                [
                    Link(target, sub, shown, embed, kinds[kind], Span(*s), section, raw, key)
                    for target, sub, shown, embed, kind, s, section, raw, key in links
                ]
            ),
            tuple([ListItem(t, Span(*s), section, depth) for t, s, section, depth in items]),
            tuple([BlockId(i, Span(*s)) for i, s in blocks]),
            tuple([Problem(ProblemKind(kind), Span(*s), m) for kind, s, m in problems]),
            tuple([Directive(kind, rules, line) for kind, rules, line in directives]),
            plain[10],
            plain[11],
        )


# What ``NoteRecord.plain()`` gives: its fields, in order, as plain tuples, lists and dicts.
PlainRecord = tuple[Any, ...]
_LINK_KINDS = {kind.value: kind for kind in LinkKind}


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
