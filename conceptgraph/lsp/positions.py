"""Positions between conceptgraph and the editor.

conceptgraph counts lines and columns from 1, columns in code points; the protocol counts from
0, columns in the code units the client and server agreed on (UTF-16 unless both say
otherwise), which differ from code points past the Basic Multilingual Plane (an emoji).
"""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import PositionCodec

from conceptgraph.model import Span, split_lines


class Lines:
    """A note's text, to turn positions in it one way or the other."""

    def __init__(self, text: str, codec: PositionCodec) -> None:
        self.lines = split_lines(text)
        self.codec = codec

    def position(self, line: int, column: int) -> types.Position:
        """The protocol's position of a 1-based line and code-point column."""
        if line - 1 >= len(self.lines):
            return types.Position(line=max(line - 1, 0), character=0)
        text = self.lines[line - 1]
        return types.Position(
            line=line - 1, character=self.codec.client_num_units(text[: column - 1])
        )

    def range(self, span: Span) -> types.Range:
        """The protocol's range of a span (a point where the span has no end)."""
        start = self.position(span.line, span.column)
        if span.end_line < span.line or (
            span.end_line == span.line and span.end_column < span.column
        ):
            return types.Range(start=start, end=start)
        return types.Range(start=start, end=self.position(span.end_line, span.end_column))

    def point(self, position: types.Position) -> tuple[int, int]:
        """The 1-based line and code-point column of a protocol position."""
        if position.line >= len(self.lines):
            return len(self.lines), len(self.lines[-1]) + 1 if self.lines else 1
        text = self.lines[position.line]
        units = 0
        for index, char in enumerate(text):
            if units >= position.character:
                return position.line + 1, index + 1
            units += self.codec.client_num_units(char)
        return position.line + 1, len(text) + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line end ('' past the end)."""
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""
