"""A file's bytes -> text, as Obsidian reads notes (UTF-8), with what is not UTF-8 reported."""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

from conceptgraph.model import (
    LINE_BREAK,
    Problem,
    ProblemKind,
    Span,
)

if TYPE_CHECKING:
    pass


def decode(data: bytes) -> tuple[str | None, list[Problem]]:
    """Decode bytes as Obsidian reads them (UTF-8), reporting what is not UTF-8.

    Returns no text for content that is not text at all, so it is not parsed.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        message = "file is UTF-16 (byte order mark); Obsidian reads notes as UTF-8"
        return None, [Problem(ProblemKind.ENCODING, Span.point(1), message)]
    nul = data.find(b"\x00")
    if nul >= 0:
        line, column = _byte_position(data, nul)
        message = "file holds NUL bytes: binary content or UTF-16 without a byte order mark"
        return None, [Problem(ProblemKind.BINARY, Span.point(line, column), message)]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line, column = _byte_position(data, exc.start)
        bad = data[exc.start : exc.end].hex(" ")
        message = f"not valid UTF-8 (byte {bad}); read with replacement characters"
        problem = Problem(ProblemKind.ENCODING, Span(line, column, line, column + 1), message)
        return data.decode("utf-8", "replace"), [problem]


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = max(data.rfind(b"\n", 0, offset), data.rfind(b"\r", 0, offset)) + 1
    line = len(LINE_BREAK.findall(data[:line_start].decode("latin-1"))) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return line, column
