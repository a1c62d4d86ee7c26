"""The server's vault state: after any edit, its findings are those ``lint`` gives on disk."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conceptgraph.api import lint_paths
from conceptgraph.lsp.workspace import Workspace
from tests.conftest import FIXTURES

VAULTS = sorted(p for p in FIXTURES.glob("*/*") if p.is_dir())


def _edits(text: str) -> list[str]:
    """Edits that move lines, rename a heading, add one, break or make an alias, and add or
    change a property (one that only this note's rules read, and its type)."""
    edits = [
        text.replace("## ", "### ", 1) + "\n# Extra\n",
        "\n" + text,
        text.replace("aliases", "alias", 1),
        text + "\n[[nowhere]] [[index#Nope]]\n",
    ]
    if text.startswith("---\n"):
        edits.append("---\nstatus: draft\n" + text[4:])
        edits.append(text.replace("type: ", "type: x", 1))
        edits.append(text.replace("canonical: true", "canonical: false", 1))
        edits.append(text.replace("canonical: false", "canonical: true", 1))
    return edits


def _everything(ws: Workspace) -> list[object]:
    return sorted(f for path in ws.vault.notes for f in ws.findings(path))


def _linted(vault: Path, ws: Workspace) -> list[object]:
    return [f for f in lint_paths([vault]).findings if f.path in ws.vault.notes]


@pytest.mark.parametrize("fixture", VAULTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_findings_after_each_edit_are_lints(fixture: Path, tmp_path: Path) -> None:
    vault = tmp_path / fixture.name
    shutil.copytree(fixture, vault, symlinks=True)
    ws = Workspace(vault)
    assert _everything(ws) == _linted(vault, ws)
    linked = {p.resolve() for p in vault.rglob("*") if p.is_symlink()}
    for path in sorted(ws.vault.notes):
        note = ws.vault.notes[path]
        disk = vault / ws.vault.disk.get(path, path)
        # Saved through a symbolic link or under one, the text would be another note's too.
        if (
            not path.endswith(".md")
            or not note.decoded
            or disk.is_symlink()
            or disk.resolve() in linked
        ):
            continue
        for text in _edits(ws.text(path)):
            update = ws.update(path, text)
            ws.check(update.dependants)
            if update.vault_rules:
                ws.check_vault_rules()
            # The same text saved: lint reads it from disk.
            disk.write_bytes(text.encode("utf-8"))
            assert _everything(ws) == _linted(vault, ws), (path, text)


def test_unsaved_text_is_never_written(tmp_path: Path) -> None:
    vault = tmp_path / "v"
    vault.mkdir()
    (vault / "a.md").write_text("# A\n\nSee [[b]].\n", encoding="utf-8")
    (vault / "b.md").write_text("# B\n", encoding="utf-8")
    ws = Workspace(vault)
    ws.update("a.md", "# A\n\nSee [[c]].\n")
    assert [f.rule for f in ws.findings("a.md")] == ["broken-link"]
    assert (vault / "a.md").read_text(encoding="utf-8") == "# A\n\nSee [[b]].\n"
    # Closed unsaved: the file's text is the note again.
    ws.update("a.md", None)
    assert ws.findings("a.md") == []
