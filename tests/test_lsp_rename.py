"""Rename through the server: the rewriting library's plans as workspace edits, for a client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from lsprotocol import types

from tests.conftest import write_vault
from tests.lsp_client import Session, session


def _run(vault: Path, steps: Callable[[Session], Awaitable[None]]) -> None:
    async def main() -> None:
        async with session(vault) as started:
            await steps(started)

    asyncio.run(main())


def _applied(text: str, edits: list[types.TextEdit]) -> str:
    """A text with the protocol's edits applied (positions in code points: no emoji here)."""
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    for edit in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        start = starts[edit.range.start.line] + edit.range.start.character
        end = starts[edit.range.end.line] + edit.range.end.character
        text = text[:start] + edit.new_text + text[end:]
    return text


def _edits(
    found: types.WorkspaceEdit | None,
) -> tuple[dict[str, list[types.TextEdit]], list[object]]:
    assert found is not None and found.document_changes is not None
    edits: dict[str, list[types.TextEdit]] = {}
    others: list[object] = []
    for change in found.document_changes:
        if isinstance(change, types.TextDocumentEdit):
            edits.setdefault(change.text_document.uri, []).extend(
                e for e in change.edits if isinstance(e, types.TextEdit)
            )
        else:
            others.append(change)
    return edits, others


def test_rename_a_note_from_a_link_rewrites_every_link_and_moves_the_file(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            "b.md": "# B\n\n## Part\n\nText.\n",
            "a.md": "# A\n\nSee [[b]] and [[b#Part]].\n",
            "c.md": "# C\n\n| x | y |\n| --- | --- |\n| [[b\\|shown]] | ![[b]] |\n",
        },
    )
    unsaved = "# A\n\nSee [[b]] and [[b#Part]].\n\nAnd [[b|unsaved]] too.\n"

    async def steps(s: Session) -> None:
        s.open("a.md", unsaved)
        await s.wait_for("a.md", lambda d: True)
        found = await s.client.text_document_rename_async(
            types.RenameParams(
                text_document=types.TextDocumentIdentifier(uri=s.uri("a.md")),
                position=types.Position(line=2, character=7),
                new_name="bee",
            )
        )
        edits, others = _edits(found)
        # The edits count in the text the editor has, not the one saved.
        assert _applied(unsaved, edits[s.uri("a.md")]) == (
            "# A\n\nSee [[bee]] and [[bee#Part]].\n\nAnd [[bee|unsaved]] too.\n"
        )
        c = (vault / "c.md").read_text(encoding="utf-8")
        assert _applied(c, edits[s.uri("c.md")]).endswith("| [[bee\\|shown]] | ![[bee]] |\n")
        assert others == [types.RenameFile(old_uri=s.uri("b.md"), new_uri=s.uri("bee.md"))]

    _run(vault, steps)
    assert (vault / "b.md").exists() and not (vault / "bee.md").exists()  # the editor moves it


def test_rename_a_heading_at_the_heading(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {"b.md": "# B\n\n## Part\n\nText.\n", "a.md": "# A\n\nSee [[b#Part]] and [[b]].\n"},
    )

    async def steps(s: Session) -> None:
        s.open("b.md")
        await s.wait_for("b.md", lambda d: True)
        found = await s.client.text_document_rename_async(
            types.RenameParams(
                text_document=types.TextDocumentIdentifier(uri=s.uri("b.md")),
                position=types.Position(line=2, character=4),
                new_name="Whole",
            )
        )
        edits, others = _edits(found)
        assert others == []
        assert (
            _applied("# B\n\n## Part\n\nText.\n", edits[s.uri("b.md")])
            == "# B\n\n## Whole\n\nText.\n"
        )
        a = (vault / "a.md").read_text(encoding="utf-8")
        assert _applied(a, edits[s.uri("a.md")]) == "# A\n\nSee [[b#Whole]] and [[b]].\n"

    _run(vault, steps)


def test_will_rename_files_gives_the_link_edits_alone(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {"b.md": "# B\n", "a.md": "# A\n\nSee [[b]].\n", "sub/other.md": "# O\n\n[[a]]\n"},
    )

    async def steps(s: Session) -> None:
        s.open("a.md")
        await s.wait_for("a.md", lambda d: True)
        found = await s.client.workspace_will_rename_files_async(
            types.RenameFilesParams(
                files=[types.FileRename(old_uri=s.uri("b.md"), new_uri=s.uri("sub/moved.md"))]
            )
        )
        edits, others = _edits(found)
        assert others == []
        assert _applied("# A\n\nSee [[b]].\n", edits[s.uri("a.md")]) == "# A\n\nSee [[moved]].\n"

    _run(vault, steps)


def test_a_rename_the_library_refuses_is_an_error_with_its_reason(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "v", {"b.md": "# B\n", "c.md": "# C\n", "a.md": "[[b]]\n"})

    async def steps(s: Session) -> None:
        s.open("a.md")
        await s.wait_for("a.md", lambda d: True)
        with pytest.raises(Exception, match=r"c\.md"):
            await s.client.text_document_rename_async(
                types.RenameParams(
                    text_document=types.TextDocumentIdentifier(uri=s.uri("a.md")),
                    position=types.Position(line=0, character=3),
                    new_name="c",
                )
            )

    _run(vault, steps)
