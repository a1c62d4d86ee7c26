"""The text family: the bytes of a note must be clean UTF-8 text with consistent line ends."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterator

from conceptgraph.lint.engine import Hit, rule
from conceptgraph.model import LINE_BREAK, Edit, Fix, NoteRecord, ProblemKind, Severity, Span
from conceptgraph.vault import Vault

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
