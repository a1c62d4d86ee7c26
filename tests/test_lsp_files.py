"""Notes made or deleted on disk while the server runs: its findings are still ``lint``'s."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from lsprotocol import types

from conceptgraph.api import lint_paths
from conceptgraph.lsp.workspace import FilesChanged, Workspace
from tests.conftest import FIXTURES, write_vault
from tests.lsp_client import session

VAULTS = sorted(p for p in FIXTURES.glob("*/*") if p.is_dir())


def _everything(ws: Workspace) -> list[object]:
    return sorted(f for path in ws.vault.notes for f in ws.findings(path))


def _linted(vault: Path) -> list[object]:
    return sorted(lint_paths([vault]).findings)


def _refiled(ws: Workspace) -> FilesChanged | None:
    """What the server does on a file made or deleted: take it in, then check what it says."""
    changed = ws.refile()
    if changed is None:
        ws.reload()
    else:
        ws.check(changed.dependants)
        ws.check_vault_rules()
    return changed


@pytest.mark.parametrize("fixture", VAULTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_findings_after_a_note_is_deleted_and_made_again_are_lints(
    fixture: Path, tmp_path: Path
) -> None:
    vault = tmp_path / fixture.name
    shutil.copytree(fixture, vault, symlinks=True)
    ws = Workspace(vault)
    ws.warm()
    assert _everything(ws) == _linted(vault)
    for path in sorted(ws.vault.notes):
        disk = vault / ws.vault.disk.get(path, path)
        if not path.endswith(".md") or disk.is_symlink() or not disk.is_file():
            continue
        data = disk.read_bytes()
        disk.unlink()
        deleted = _refiled(ws)
        assert _everything(ws) == _linted(vault), ("deleted", path)
        disk.write_bytes(data)
        made = _refiled(ws)
        assert _everything(ws) == _linted(vault), ("made", path)
        if deleted is not None and made is not None:
            assert (deleted.removed, made.added) == ([path], [path])


def test_a_note_made_and_deleted_is_taken_in_alone(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            "conceptgraph.toml": "",
            "a.md": "# A\n\nSee [[missing]] and [[b]].\n",
            "b.md": "# B\n\n[[a]]\n",
            "c.md": "# C\n\n[[b]], nothing else.\n",
            "d.md": "# D\n\n[[missin]] [[c]]\n",
        },
    )
    ws = Workspace(vault)
    ws.warm()
    assert [f.rule for f in ws.findings("a.md")] == ["broken-link"]
    (vault / "missing.md").write_text("# Missing\n\n[[a]]\n", encoding="utf-8")
    made = _refiled(ws)
    assert made is not None
    assert made.added == ["missing.md"]
    # a.md links to it by name; c.md's findings cannot change, and it is not checked again.
    assert "a.md" in made.dependants
    assert "c.md" not in made.dependants
    assert ws.findings("a.md") == []
    assert ws.vault.backlinks["missing.md"] == {"a.md"}
    # A broken link is told of the name it may have meant.
    assert [f.message for f in ws.findings("d.md")] == [
        "link target 'missin' matches no note or file; did you mean: missing?"
    ]
    assert _everything(ws) == _linted(vault)
    (vault / "missing.md").unlink()
    deleted = _refiled(ws)
    assert deleted is not None and deleted.removed == ["missing.md"]
    assert [f.rule for f in ws.findings("a.md")] == ["broken-link"]
    assert "missing.md" not in ws.vault.backlinks
    assert _everything(ws) == _linted(vault)


def test_the_server_pushes_what_a_note_made_or_deleted_on_disk_changes(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            "conceptgraph.toml": "",
            "a.md": "# A\n\nSee [[missing]] and [[b]].\n",
            "b.md": "# B\n\n[[a]]\n",
        },
    )
    made = vault / "missing.md"

    def watched(change: types.FileChangeType) -> types.DidChangeWatchedFilesParams:
        return types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=made.resolve().as_uri(), type=change)]
        )

    def broken(found: list[types.Diagnostic]) -> list[str]:
        return [d.message for d in found if d.code == "broken-link"]

    async def main() -> None:
        async with session(vault) as s:
            # a.md is not open: its diagnostics are pushed as the vault is loaded.
            s.open("b.md")
            await s.wait_for("a.md", lambda d: len(broken(d)) == 1)
            made.write_text("# Missing\n\n[[nowhere]]\n", encoding="utf-8")
            s.client.workspace_did_change_watched_files(watched(types.FileChangeType.Created))
            await s.wait_for("a.md", lambda d: broken(d) == [])
            await s.wait_for("missing.md", lambda d: len(broken(d)) == 1)
            made.unlink()
            s.client.workspace_did_change_watched_files(watched(types.FileChangeType.Deleted))
            await s.wait_for("a.md", lambda d: len(broken(d)) == 1)
            # The note is gone, and with it its diagnostics.
            await s.wait_for("missing.md", lambda d: d == [])

    asyncio.run(main())
