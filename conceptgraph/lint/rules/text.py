"""The text family: a note must be a readable file with a usable name, holding clean UTF-8 text."""

from __future__ import annotations

import difflib
import posixpath
import unicodedata
from collections import Counter
from collections.abc import Iterator

from conceptgraph.lint.rule import Hit, rule
from conceptgraph.model import LINE_BREAK, Edit, Fix, NoteRecord, ProblemKind, Severity, Span
from conceptgraph.vault.load import Vault

_ENDING_NAMES = {"\r\n": "CRLF", "\n": "LF", "\r": "CR"}
_EXPECTED = {"lf": "\n", "crlf": "\r\n"}


@rule("mojibake", family="text", severity=Severity.WARNING, fixable=True)
def mojibake(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag text that is UTF-8 once decoded as another encoding, such as ``â†’`` for ``→``.

    ftfy decides, line by line, what is damage; well-formed text with curly quotes, dashes or
    accents is left alone.
    Why: the damage spreads with every copy and export, and the words no longer match search.
    Example:  Scheme A â†’ mixed A/B
    Instead:  Scheme A → mixed A/B
    Fix: safe. Only the damaged characters are replaced, with ftfy's repair; every other byte of
    the line stays as it is.
    """
    if note.text.isascii():
        return
    import ftfy
    import ftfy.badness

    for number, line in enumerate(note.lines(), start=1):
        if line.isascii() or not ftfy.badness.is_bad(line):
            continue
        fixed = ftfy.fix_encoding(line)
        if fixed == line:
            continue
        matcher = difflib.SequenceMatcher(None, line, fixed, autojunk=False)
        edits = tuple(
            Edit(Span(number, start + 1, number, end + 1), fixed[new_start:new_end])
            for op, start, end, new_start, new_end in matcher.get_opcodes()
            if op != "equal"
        )
        first = edits[0].span
        damaged = line[first.column - 1 : first.end_column - 1]
        places = f" ({len(edits)} places)" if len(edits) > 1 else ""
        message = f"{damaged!r} is damaged text for {edits[0].replacement!r}{places}"
        yield Hit(
            Span(number, first.column, number, edits[-1].span.end_column),
            message,
            Fix(f"repair {len(edits)} damaged sequence(s)", edits),
        )


@rule("invalid-encoding", family="text", severity=Severity.ERROR)
def invalid_encoding(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    r"""Flag a note that is not UTF-8 text: invalid bytes, UTF-16, or binary content.

    Why: Obsidian reads notes as UTF-8; other bytes show as replacement characters, and a binary
    file named ``.md`` is not a note at all.
    Example:  a note saved as Latin-1: caf\xe9
    Instead:  save it as UTF-8: café
    Fix: none. Which encoding was meant cannot be known for certain.
    """
    for problem in note.problems:
        if problem.kind in (ProblemKind.ENCODING, ProblemKind.BINARY):
            yield Hit(problem.span, problem.message)


@rule("unreadable-file", family="text", severity=Severity.ERROR)
def unreadable_file(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a note file that could not be read at all (permissions, a dangling link, I/O).

    Why: its links and its place in the graph are missing from every result.
    Example:  notes/secret.md with mode 000
    Instead:  make it readable, or move it out of the vault.
    Fix: none.
    """
    for problem in note.problems:
        if problem.kind is ProblemKind.UNREADABLE:
            yield Hit(problem.span, problem.message)


@rule("invalid-canvas", family="text", severity=Severity.ERROR)
def invalid_canvas(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a ``.canvas`` file that is not JSON Canvas: not JSON, or not an object of nodes.

    Reported where the JSON parser stopped. Links of a canvas that reads as JSON are checked
    like a note's (broken-link, at the node's ``{``).
    Why: Obsidian shows such a canvas empty, and none of its cards count as links here.
    Example:  board.canvas holding {"nodes": [{"type": "file", "file": "a.md"},]}
    Instead:  {"nodes": [{"type": "file", "file": "a.md"}]}
    Fix: none. Where the JSON was cut or mistyped cannot be known.
    """
    for problem in note.problems:
        if problem.kind is ProblemKind.CANVAS:
            yield Hit(problem.span, problem.message)


@rule("symlink-out-of-vault", family="text", severity=Severity.WARNING)
def symlink_out_of_vault(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a symbolic link in the vault that leads out of it: it is not followed.

    A vault is its folder, as in Obsidian. A link to a file or folder outside it (``shared ->
    ../other-vault``, ``root -> /``) would make every run read what lies there, echo it in
    messages and exports, and ``--fix`` write through it; so it is not followed. Name the
    folders links may lead into with ``allow-symlinks-to`` in ``conceptgraph.toml`` (relative
    to the vault or absolute); they are then read, never written: a fix that would write there
    is refused.
    Why: a vault from a zip file or a pull request must not read or change the rest of the disk.
    Example:  notes/shared -> /home/me/elsewhere
    Instead:  allow-symlinks-to = ["/home/me/elsewhere"], or move the notes into the vault.
    Fix: none. Only the owner can say whether the link's target belongs to the vault.
    """
    for problem in note.problems:
        if problem.kind is ProblemKind.OUTSIDE:
            yield Hit(problem.span, problem.message)


@rule("line-endings", family="text", severity=Severity.WARNING, fixable=True)
def line_endings(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag line ends that differ from the rest of the file, or from the configured style.

    By default (``line-endings = "consistent"``) a file may use LF or CRLF, but one of them
    throughout; a lone CR is always flagged. ``"lf"`` or ``"crlf"`` demand that style.
    Why: mixed line ends make every diff noisy and break tools that split on one of them.
    Example:  most lines end in LF, line 7 in CRLF
    Instead:  every line ends in LF
    Fix: safe. Rewrites only the offending line ends.
    """
    style = vault.config.line_endings
    if "\r" not in note.text and style != "crlf":
        return
    ends = [(m.start(), m.group()) for m in LINE_BREAK.finditer(note.text)]
    if not ends:
        return
    if style in _EXPECTED:
        expected = _EXPECTED[style]
    else:
        counts = Counter(end for _, end in ends if end != "\r")
        expected = "\r\n" if counts["\r\n"] > counts["\n"] else "\n"
    wrong = [(number, end) for number, (_, end) in enumerate(ends, start=1) if end != expected]
    if not wrong:
        return
    lines = note.lines()
    edits = tuple(
        Edit(Span(number, len(lines[number - 1]) + 1, number + 1, 1), expected)
        for number, _ in wrong
    )
    end = wrong[0][1]
    more = f" and {len(wrong) - 1} more line(s)" if len(wrong) > 1 else ""
    found, wanted = _ENDING_NAMES[end], _ENDING_NAMES[expected]
    if style != "consistent":
        message = f"line ends with {found}{more}; the line-endings setting asks for {wanted}"
    elif len(wrong) == len(ends):
        message = f"line ends with {found}{more}; use {wanted}"
    else:
        message = f"line ends with {found}{more}, unlike the file's other lines ({wanted})"
    yield Hit(edits[0].span, message, Fix(f"end every line with {_ENDING_NAMES[expected]}", edits))


# Characters that change the order in which the text around them is shown (Trojan Source).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Obsidian reads these in a link as heading, block, or display-text marks, or as its brackets.
_LINK_BREAKING = "#^[]|"


def _unsafe_characters(path: str) -> Iterator[str]:
    chars = dict.fromkeys(path)
    bidi = [f"U+{ord(c):04X} {unicodedata.name(c, '')}".rstrip() for c in chars if c in _BIDI]
    if bidi:
        yield f"the path holds {', '.join(bidi)}, which reorders how the name is shown"
    controls = [f"U+{ord(c):04X}" for c in chars if unicodedata.category(c) == "Cc"]
    if controls:
        yield f"the path holds the control character(s) {', '.join(controls)}"
    breaking = [repr(c) for c in dict.fromkeys(posixpath.basename(path)) if c in _LINK_BREAKING]
    if breaking:
        yield (
            f"the file name holds {', '.join(breaking)}: a [[link]] ends the name there, "
            "so no link reaches this note"
        )


@rule("unsafe-file-name", family="text", severity=Severity.WARNING)
def unsafe_file_name(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a note path with control or bidirectional characters, or a name no link can reach.

    Control characters (tab, newline, escape, ...) and bidirectional controls (U+202E and its
    kin) anywhere in the path; in the file name, the characters Obsidian reads as parts of a
    link: ``#`` ``^`` ``[`` ``]`` ``|``.
    Why: a bidirectional control makes ``txt.exe`` show as ``exe.txt``; control characters
    break terminals, line-based tools and sync; and ``[[a#b]]`` means heading ``b`` of ``a``,
    so a note named ``a#b.md`` cannot be linked at all.
    Example:  notes/review#2.md
    Instead:  notes/review 2.md
    Fix: none. Renaming a note is the author's call, and links to it must change with it.
    """
    for message in _unsafe_characters(note.path):
        yield Hit(Span.point(1), message)


@rule("name-collision", family="text", severity=Severity.ERROR)
def name_collision(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag a note whose path differs from another file's only in case or in Unicode form.

    Two such files can exist side by side on Linux (``Note.md`` and ``note.md``; ``café.md``
    written in NFC and in NFD), but not on macOS or Windows, and Obsidian compares names
    without case and in NFC. Links to the name are reported as ambiguous-link. Of an NFC and
    an NFD name, only the NFC file is read.
    Why: synced to a Mac or a Windows machine, one file overwrites the other; and which one a
    link opens depends on the order Obsidian happened to index them in.
    Example:  names/Note.md and names/note.md
    Instead:  merge them, or rename one: names/note (draft).md
    Fix: none. Which file to keep, and what to merge, is the author's call.
    """
    others = vault.collisions(note.path)
    if others:
        listed = ", ".join(repr(other) for other in others)
        message = (
            f"{note.path!r} and {listed} differ only in case: they cannot both exist on macOS "
            "or Windows, and no link tells them apart"
        )
        yield Hit(Span.point(1), message)
    shadowed = vault.shadowed.get(note.path, ())
    if shadowed:
        # Both names look the same on screen: show the other one's code points.
        listed = ", ".join(ascii(name) for name in shadowed)
        message = (
            f"{listed} is this file's name in another Unicode form: they cannot both exist on "
            "macOS, and Obsidian sees one name; that file is not read"
        )
        yield Hit(Span.point(1), message)


@rule("deep-nesting", family="text", severity=Severity.WARNING)
def deep_nesting(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
    """Flag lists or quotes nested as deep as the Markdown parser stops reading (100 levels).

    A list level counts two (the list and its item), a quote one: the text of a list item 50
    levels deep, or of a quote in 100 quotes, is too deep. Those lines are read for
    ``[[links]]`` by pattern only; their headings, list items and block ids do not count, and
    links in code there are taken as links.
    Why: no reader follows 50 levels of indentation, and what the parser cannot place in the
    note's structure (negation items, residuals) silently drops out of the graph.
    Example:  a list indented 50 levels deep
    Instead:  split the outline into sections or notes.
    Fix: none. How to restructure an outline is the author's call.
    """
    for problem in note.problems:
        if problem.kind is ProblemKind.NESTING:
            yield Hit(problem.span, problem.message)
