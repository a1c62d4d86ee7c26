"""`conceptgraph render`: diagram blocks in Markdown files, filled in place between markers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conceptgraph.api import open_vault
from conceptgraph.errors import UsageError
from conceptgraph.export import ExportOptions, export
from conceptgraph.export.render import render_files
from tests.mermaid_check import mermaid_parse

REPO = Path(__file__).parent.parent
FIXTURE = Path(__file__).parent / "data" / "diagram-vault"
OPEN = "<!-- conceptgraph:diagram focus=alpha depth=1 -->"
CLOSE = "<!-- /conceptgraph -->"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    shutil.copytree(FIXTURE, root)
    (root / "conceptgraph.toml").write_text("", encoding="utf-8")  # marks the vault root
    return root


def diagram(root: Path, **options: Any) -> str:
    data = export(open_vault(root), "mermaid", ExportOptions(**options))
    return "```mermaid\n" + data.decode("utf-8") + "```\n"


def run_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conceptgraph", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def test_block_is_filled_and_nothing_else_changes(vault: Path) -> None:
    doc = vault / "doc.md"
    before, after = "# Doc\n\nSome text.\n\n", "\nMore text, *kept* as is.  \n"
    doc.write_text(f"{before}{OPEN}\nstale content\n{CLOSE}{after}", encoding="utf-8")
    result = render_files([doc])
    assert [f.stale for f in result.files] == [(5,)]
    text = doc.read_text(encoding="utf-8")
    assert text == f"{before}{OPEN}\n{diagram(vault, focus='alpha', depth=1)}{CLOSE}{after}"


def test_render_is_idempotent_and_check_agrees(vault: Path) -> None:
    doc = vault / "doc.md"
    doc.write_text(f"{OPEN}\n{CLOSE}\n", encoding="utf-8")
    assert render_files([doc], check=True).stale  # empty block: out of date
    assert doc.read_text(encoding="utf-8") == f"{OPEN}\n{CLOSE}\n"  # --check writes nothing
    render_files([doc])
    once = doc.read_bytes()
    stat = doc.stat()
    assert not render_files([doc]).stale
    assert doc.read_bytes() == once
    assert doc.stat().st_mtime_ns == stat.st_mtime_ns  # not even rewritten
    assert not render_files([doc], check=True).stale


def test_blocks_follow_their_options(vault: Path, tmp_path: Path) -> None:
    doc = vault / "doc.md"
    doc.write_text(
        "<!-- conceptgraph:diagram -->\n<!-- /conceptgraph -->\n\n"
        '<!-- conceptgraph:diagram focus="the start" depth=2 kinds=dependency -->\n'
        "<!-- /conceptgraph -->\n",
        encoding="utf-8",
    )
    render_files([doc])
    text = doc.read_text(encoding="utf-8")
    whole = diagram(vault)
    part = diagram(vault, focus="alpha", depth=2, kinds=("dependency",))
    assert text == (
        f"<!-- conceptgraph:diagram -->\n{whole}<!-- /conceptgraph -->\n\n"
        '<!-- conceptgraph:diagram focus="the start" depth=2 kinds=dependency -->\n'
        f"{part}<!-- /conceptgraph -->\n"
    )
    body = text.split("```mermaid\n")
    results = mermaid_parse(
        {"whole": body[1].split("```")[0], "part": body[2].split("```")[0]}, tmp_path
    )
    assert all(r["ok"] for r in results.values()), results


def test_markers_in_code_are_text(vault: Path) -> None:
    doc = vault / "doc.md"
    text = f"```markdown\n{OPEN}\n{CLOSE}\n```\n\n    {OPEN}\n    {CLOSE}\n\nUse `{OPEN}`.\n"
    doc.write_text(text, encoding="utf-8")
    result = render_files([doc])
    assert result.files[0].blocks == 0
    assert doc.read_text(encoding="utf-8") == text


def test_line_ends_bom_and_blockquotes_are_kept(vault: Path) -> None:
    doc = vault / "doc.md"
    raw = f"\ufeff# Doc\r\n\r\n> {OPEN}\r\n> {CLOSE}\r\nEnd\r\n"
    doc.write_bytes(raw.encode("utf-8"))
    render_files([doc])
    text = doc.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff# Doc\r\n\r\n> " + OPEN + "\r\n> ```mermaid\r\n> ---\r\n")
    assert text.endswith("> ```\r\n> " + CLOSE + "\r\nEnd\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert not render_files([doc]).stale


def test_vault_from_option_or_marker(vault: Path, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # docs/ and vault/ are folders of one repository
    elsewhere = tmp_path / "docs"
    elsewhere.mkdir()
    doc = elsewhere / "README.md"
    doc.write_text(f"{OPEN}\n{CLOSE}\n", encoding="utf-8")
    render_files([doc], vault=vault)
    assert "Alpha" in doc.read_text(encoding="utf-8")
    doc.write_text(f"{OPEN.replace('-->', 'vault=../vault -->')}\n{CLOSE}\n", encoding="utf-8")
    render_files([doc])
    assert "Alpha" in doc.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{OPEN}\n", "doc.md:1: diagram block has no closing"),
        (f"x\n\n{CLOSE}\n", "doc.md:3: <!-- /conceptgraph --> closes no diagram block"),
        (f"{OPEN}\n{OPEN}\n{CLOSE}\n", "doc.md:2: diagram block opened at line 1"),
        (f"{OPEN.replace('depth=1', 'colour=red')}\n{CLOSE}\n", "doc.md:1: unknown diagram"),
        (f"{OPEN.replace('depth=1', 'depth=x')}\n{CLOSE}\n", "doc.md:1: depth must be"),
        (f"\n{OPEN.replace('alpha', 'nobody')}\n{CLOSE}\n", "doc.md:2: --focus 'nobody' names no"),
        (f"{OPEN.replace('depth=1', 'kinds=nope')}\n{CLOSE}\n", "doc.md:1: unknown edge kind"),
    ],
)
def test_bad_blocks_say_where(vault: Path, text: str, message: str) -> None:
    doc = vault / "doc.md"
    doc.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        render_files([doc])
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(doc))
    assert doc.read_text(encoding="utf-8") == text


def test_cli_check_exit_codes(vault: Path) -> None:
    doc = vault / "doc.md"
    doc.write_text(f"# Doc\n\n{OPEN}\n{CLOSE}\n", encoding="utf-8")
    stale = run_cli("render", "--check", str(doc))
    assert stale.returncode == 1
    assert "out of date (block at line 3)" in stale.stderr
    assert doc.read_text(encoding="utf-8") == f"# Doc\n\n{OPEN}\n{CLOSE}\n"
    done = run_cli("render", str(doc))
    assert done.returncode == 0
    assert "updated (block at line 3)" in done.stderr
    current = run_cli("render", "--check", str(doc))
    assert (current.returncode, current.stderr) == (0, "")


def test_cli_errors_exit_2(vault: Path) -> None:
    doc = vault / "doc.md"
    doc.write_text(f"{OPEN}\n", encoding="utf-8")
    result = run_cli("render", str(doc))
    assert result.returncode == 2
    assert "diagram block has no closing" in result.stderr
    missing = run_cli("render", str(vault / "missing.md"))
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr


def test_the_readme_diagram_is_current() -> None:
    result = run_cli("render", "--check", "README.md")
    assert result.returncode == 0, result.stderr
    assert "<!-- conceptgraph:diagram" in (REPO / "README.md").read_text(encoding="utf-8")


def test_pre_commit_hook_runs_render() -> None:
    import yaml

    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "conceptgraph-render")
    assert hook["entry"] == "conceptgraph render"
    assert hook["types"] == ["markdown"]
