"""A vault cannot make conceptgraph read, write or delete outside it (SECURITY.md).

Each test plants what a vault from a zip file or a pull request could hold (symbolic links in
the cache folder, notes and folders linked out of the vault, a render block naming a vault
elsewhere) and runs the real command on real files, as a user would.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.generate_vault import generate_vault
from conceptgraph.api import lint_paths
from conceptgraph.config import Config
from conceptgraph.errors import UsageError
from conceptgraph.export.render import render_files
from conceptgraph.lint.cache import CACHE_DIR, CACHE_DIR_ENV
from conceptgraph.lint.fix import apply_fixes
from conceptgraph.rdf import store
from conceptgraph.vault.discovery import discover

REPO = Path(__file__).resolve().parent.parent
DAMAGED = "# TOPSECRET plans\n\nA â†’ B, see [[Beside]]\n"


def _age(*paths: Path) -> None:
    """Date files and folders an hour back: past the grace a prune leaves young entries."""
    for top in paths:
        for path in [top, *top.rglob("*")] if top.is_dir() else [top]:
            info = os.stat(path, follow_symlinks=False)
            os.utime(path, ns=(0, info.st_mtime_ns - 3600 * 10**9), follow_symlinks=False)


def _run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The real command, with its caches where a user's are: in the vault."""
    env = {k: v for k, v in os.environ.items() if k != CACHE_DIR_ENV}
    env["XDG_CACHE_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "conceptgraph", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )


def _tree(folder: Path) -> dict[str, str | bytes | None]:
    """Every entry below ``folder``: a file's bytes, a link's text, a folder as None."""
    found: dict[str, str | bytes | None] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[rel] = os.readlink(path)
        else:
            found[rel] = None if path.is_dir() else path.read_bytes()
    return found


@pytest.fixture
def beside(tmp_path: Path) -> Path:
    """A folder beside the vault, with files a user would not want touched."""
    folder = tmp_path / "beside"
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "one.jpg").write_bytes(b"\xff\xd8 a photo")
    (folder / "letter.txt").write_text("dear reader\n", encoding="utf-8")
    (folder / "secret.md").write_text(DAMAGED, encoding="utf-8")
    _age(folder)
    return folder


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    generate_vault(root, notes=20, seed=4)
    _age(root)
    return root


def test_a_store_folder_linked_out_of_the_vault_deletes_nothing(
    vault: Path, beside: Path, tmp_path: Path
) -> None:
    # On adb2245 the second query's pruning removed the folder beside the vault and the vault.
    (vault / CACHE_DIR).mkdir()
    os.symlink("../..", vault / CACHE_DIR / store.STORE_DIR)
    before, own = _tree(beside), _tree(vault)
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    answers = [_run("query", str(vault), query, home=tmp_path / "home") for _ in range(3)]
    assert _tree(beside) == before
    assert _tree(vault) == own
    assert [a.returncode for a in answers] == [0, 0, 0], answers[0].stderr
    assert len({a.stdout for a in answers}) == 1
    assert "is a symbolic link, which conceptgraph did not make" in answers[0].stderr
    assert (vault / CACHE_DIR / store.STORE_DIR).is_symlink()


def test_a_cache_database_linked_elsewhere_is_left_alone(vault: Path, tmp_path: Path) -> None:
    # On adb2245 lint dropped that database's tables and made its own in their place.
    other = tmp_path / "accounts.sqlite3"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE accounts (name TEXT, balance INTEGER)")
        db.execute("INSERT INTO accounts VALUES ('ada', 100)")
    db.close()
    original = other.read_bytes()
    (vault / CACHE_DIR).mkdir()
    os.symlink(other, vault / CACHE_DIR / "lint.sqlite3")
    uncached = _run("lint", str(vault), "--no-cache", "--format", "json", home=tmp_path / "h")
    linted = _run("lint", str(vault), "--format", "json", home=tmp_path / "h")
    assert other.read_bytes() == original
    assert linted.returncode == uncached.returncode
    assert linted.stdout == uncached.stdout
    assert "lint.sqlite3 is a symbolic link" in linted.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("accounts")) == [
        "accounts.sqlite3"
    ]


@pytest.mark.parametrize("planted", ["folder", "gitignore"])
def test_a_cache_folder_that_is_or_holds_a_link_is_not_written(
    vault: Path, beside: Path, tmp_path: Path, planted: str
) -> None:
    if planted == "folder":
        os.symlink(beside, vault / CACHE_DIR)
    else:
        (vault / CACHE_DIR).mkdir()
        os.symlink(beside / "letter.txt", vault / CACHE_DIR / ".gitignore")
    before = _tree(beside)
    runs = []
    for _ in range(2):
        runs.append(_run("lint", str(vault), home=tmp_path / "home"))
        runs.append(_run("query", str(vault), "ASK { ?s ?p ?o }", home=tmp_path / "home"))
    assert _tree(beside) == before
    for done in runs:
        assert done.returncode in (0, 1), done.stderr
        assert "which conceptgraph did not make" in done.stderr


def test_pruning_removes_only_what_queries_wrote(tmp_path: Path) -> None:
    folder = tmp_path / "rdf"
    folder.mkdir()
    ours = folder / ("a" * 40)
    ours.mkdir()
    (ours / "conceptgraph-copy").write_bytes(b"")
    (ours / "CURRENT").write_bytes(b"rocksdb")
    unmarked = folder / ("b" * 40)  # named like a copy, but not made as one
    unmarked.mkdir()
    (unmarked / "keep.txt").write_bytes(b"not ours")
    (folder / "holiday").mkdir()
    (folder / "holiday" / "keep.jpg").write_bytes(b"jpeg")
    (folder / ".tmp-12-abcdef01.nt").write_bytes(b"<a> <b> <c> .\n")
    (folder / "notes.txt").write_bytes(b"mine")
    _age(folder)
    store._prune(folder, "c" * 40)
    assert sorted(p.name for p in folder.iterdir()) == ["b" * 40, "holiday", "notes.txt"]
    assert (unmarked / "keep.txt").read_bytes() == b"not ours"


def test_a_note_linked_out_of_the_vault_is_not_read(
    vault: Path, beside: Path, tmp_path: Path
) -> None:
    os.symlink(beside / "secret.md", vault / "secret.md")
    linted = _run("lint", str(vault), "--no-cache", "--format", "json", home=tmp_path / "h")
    exported = _run("export", str(vault), "--format", "json", home=tmp_path / "h")
    assert exported.returncode == 0, exported.stderr
    for output in (linted.stdout + linted.stderr, exported.stdout + exported.stderr):
        assert "TOPSECRET" not in output
    assert '"rule": "symlink-out-of-vault"' in linted.stdout
    assert '"path": "secret.md"' in linted.stdout


def test_fix_never_writes_through_a_link_out_of_the_vault(vault: Path, beside: Path) -> None:
    # Even where the configuration lets the link be read, the note it leads to is not written.
    os.symlink(beside / "secret.md", vault / "secret.md")
    (vault / "conceptgraph.toml").write_text(
        f'allow-symlinks-to = ["{beside.as_posix()}"]\n', encoding="utf-8"
    )
    result = lint_paths([vault], jobs=1, cache=False)
    assert any(f.path == "secret.md" and f.rule == "mojibake" for f in result.findings)
    report = apply_fixes(result)
    assert (beside / "secret.md").read_text(encoding="utf-8") == DAMAGED
    assert (vault / "secret.md").is_symlink()
    assert [str(s) for s in report.skipped if s.path == "secret.md"] == [
        f"secret.md: not fixed: cannot write it: a symbolic link that leads out of {vault}"
        f" (to {beside / 'secret.md'}); conceptgraph writes only inside it"
    ]


def test_a_folder_linked_to_the_root_of_the_disk_is_not_walked(vault: Path) -> None:
    os.symlink("/", vault / "everything")
    found = discover(vault, Config())
    assert all(not path.startswith("everything") for path in found.files)
    assert [r.path for r in found.broken] == ["everything"]
    findings = lint_paths([vault], jobs=1, cache=False).findings
    named = [(f.path, f.rule) for f in findings if f.path == "everything"]
    assert named == [("everything", "symlink-out-of-vault")]


def test_a_render_block_cannot_draw_a_vault_from_outside_the_repository(
    tmp_path: Path,
) -> None:
    elsewhere = tmp_path / "elsewhere"
    generate_vault(elsewhere, notes=5, seed=2)
    repository = tmp_path / "work" / "repo"
    (repository / ".git").mkdir(parents=True)
    (repository / "notes").mkdir()
    (repository / "notes" / "a.md").write_text("# A\n", encoding="utf-8")
    doc = repository / "docs" / "README.md"
    doc.parent.mkdir()
    text = "<!-- conceptgraph:diagram vault=../../../elsewhere -->\n<!-- /conceptgraph -->\n"
    doc.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as raised:
        render_files([doc])
    assert str(raised.value).startswith(f"{doc}:1: vault=../../../elsewhere leads out of")
    assert doc.read_text(encoding="utf-8") == text
    doc.write_text(text.replace("../../../elsewhere", "../notes"), encoding="utf-8")
    assert render_files([doc]).files[0].written
