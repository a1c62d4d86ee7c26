"""`python -m conceptgraph.export.refresh`: exports/ in every format, in one command."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from conceptgraph.export import refresh
from conceptgraph.export.refresh import main, refresh_exports, refresh_formats

REPO = Path(__file__).parent.parent
NOTES = REPO / "notes"


def test_refresh_writes_every_format_once(tmp_path: Path) -> None:
    out = tmp_path / "exports"
    first = refresh_exports(NOTES, out)
    names = sorted(path.name for path in first.changed)
    expected = {"json": "json", "dot": "dot", "svg": "svg", "mermaid": "mmd", "turtle": "ttl"}
    expected.update(ntriples="nt", jsonld="jsonld", rdfxml="rdf")
    wanted = sorted([f"notes.{expected[name]}" for name in refresh_formats()] + ["README.md"])
    assert names == wanted
    assert sorted(p.name for p in out.iterdir()) == wanted
    again = refresh_exports(NOTES, out)
    assert again.changed == ()
    assert len(again.unchanged) == len(wanted)


def test_rdf_formats_join_once_their_exporter_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def without_rdf(name: str, package: str | None = None) -> object:
        return None if name == "conceptgraph.export.rdf" else real(name, package)

    monkeypatch.setattr(refresh.importlib.util, "find_spec", without_rdf)
    assert refresh_formats() == ("json", "dot", "svg", "mermaid")
    monkeypatch.undo()
    if real("conceptgraph.export.rdf") is not None:
        assert refresh_formats()[4:] == ("turtle", "ntriples", "jsonld", "rdfxml")


def test_check_reports_stale_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "exports"
    assert main([str(NOTES), str(out), "--check"]) == 1
    assert not out.exists()
    assert main([str(NOTES), str(out), "--quiet"]) == 0
    assert main([str(NOTES), str(out), "--check"]) == 0
    (out / "notes.mmd").write_text("flowchart TB\n", encoding="utf-8")
    assert main([str(NOTES), str(out), "--check"]) == 1
    (out / "notes.mmd").unlink()
    assert main([str(NOTES), str(out), "--check"]) == 1


def test_bad_vault_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "missing"), str(tmp_path / "out")]) == 2
    assert "not a vault folder" in capsys.readouterr().err


def test_module_runs_from_the_command_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "conceptgraph.export.refresh", "notes", str(tmp_path / "x")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stderr
    assert (tmp_path / "x" / "notes.svg").is_file()
