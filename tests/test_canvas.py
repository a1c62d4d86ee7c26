"""Obsidian canvases (JSON Canvas 1.0): their cards are links, in lint, the graph and the RDF.

The fixture vaults (links/broken-link, links/orphan-note, text/invalid-canvas) hold what the
rules report; these tests hold what markers cannot: positions in JSON, the cache after a
canvas is edited, the size bound, and the edges of the graph and its exports.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conceptgraph.api import lint_paths
from conceptgraph.config import load_config
from conceptgraph.graph import graph_parts
from conceptgraph.lint.cache import CACHE_DIR_ENV
from conceptgraph.model import LinkKind
from conceptgraph.vault import read
from conceptgraph.vault.canvas import node_offsets, parse_canvas
from conceptgraph.vault.load import load_vault
from tests.conftest import write_vault
from tests.test_cli import run


def _card(file: str) -> dict[str, object]:
    return {"id": file, "type": "file", "file": file, "x": 0, "y": 0, "width": 9, "height": 9}


def _canvas(*files: str) -> str:
    return json.dumps({"nodes": [_card(f) for f in files], "edges": []}, indent=2) + "\n"


def _findings(root: Path, cache: bool = False) -> set[tuple[str, int, int, str]]:
    result = lint_paths([root], jobs=1, cache=cache)
    return {(f.path, f.line, f.column, f.rule) for f in result.findings}


def test_a_card_is_placed_at_its_brace_whatever_its_strings_hold() -> None:
    text = (
        '{"edges": [{"x": "nodes"}], "title": "nodes",\n "nodes": [\n'
        '  {"text": "} { [ ]\\" ,"},\r\n\t{"a": [{}]}\n]}'
    )
    assert len(json.loads(text)["nodes"]) == 2
    assert node_offsets(text) == [text.index('{"text"'), text.index('{"a"')]
    record = parse_canvas(
        "b.canvas",
        b'{"nodes": [\n  {"type": "text", "text": "a \\"}\\" [[x]] and ![[y|z]]"},\n'
        b'    {"type": "file", "file": "n.md", "subpath": "#H"}]}',
        b"",
    )
    spans = [(link.target, link.subpath, link.span.line, link.span.column) for link in record.links]
    assert spans == [("x", None, 2, 3), ("y", None, 2, 3), ("n.md", "H", 3, 5)]
    assert {link.kind for link in record.links} == {LinkKind.CANVAS}


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\xff\xfe{}", "UTF-16"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"nodes": [1, "x", {"type": "file", "file": 3}]}', None),
    ],
)
def test_odd_canvases_are_findings_never_tracebacks(tmp_path: Path, data: bytes, why: str) -> None:
    root = write_vault(tmp_path / "v", {"a.md": "# A\n"})
    (root / "odd.canvas").write_bytes(data)
    result = run("lint", root)
    assert "Traceback" not in result.stderr
    messages = [line for line in result.stdout.splitlines() if line.startswith("odd.canvas")]
    if why is None:
        assert messages == [], result.stdout  # cards that are not cards are skipped
    else:
        assert len(messages) == 1 and why in messages[0], result.stdout


def test_a_canvas_is_bounded_in_size_as_a_note_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault(tmp_path / "v", {"a.md": "# A\n", "big.canvas": _canvas("gone.md")})
    monkeypatch.setattr(read, "MAX_NOTE_BYTES", 64)
    found = _findings(root)
    assert ("big.canvas", 1, 1, "unreadable-file") in found
    assert not any(rule == "broken-link" for *_, rule in found)


def test_editing_a_canvas_changes_the_findings_of_a_cached_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "caches"))
    root = write_vault(tmp_path / "v", {"a.md": "# A\n\n[[b]]\n", "b.md": "# B\n", "c.md": "# C\n"})
    board = root / "board.canvas"
    board.write_text(_canvas("c.md"), encoding="utf-8")
    assert _findings(root, cache=True) == set()
    board.write_text(_canvas("c.md", "gone.md"), encoding="utf-8")
    os.utime(board, ns=(0, board.stat().st_mtime_ns + 5 * 10**9))
    assert _findings(root, cache=True) == {("board.canvas", 12, 5, "broken-link")}
    board.write_text(_canvas("a.md"), encoding="utf-8")
    os.utime(board, ns=(0, board.stat().st_mtime_ns + 10 * 10**9))
    # c.md lost its only link: it is an orphan now, in the cached run as in a cold one.
    assert _findings(root, cache=True) == {("c.md", 1, 1, "orphan-note")} == _findings(root)
    board.write_text("{", encoding="utf-8")
    os.utime(board, ns=(0, board.stat().st_mtime_ns + 15 * 10**9))
    assert ("board.canvas", 1, 2, "invalid-canvas") in _findings(root, cache=True)


def test_cards_are_canvas_edges_in_the_graph_and_the_rdf(tmp_path: Path) -> None:
    root = write_vault(tmp_path / "v", {"a.md": "# A\n", "pic.png": ""})
    (root / "board.canvas").write_text(_canvas("a.md", "pic.png"), encoding="utf-8")
    parts = graph_parts(load_vault(root, load_config(root)))
    assert parts.nodes["file:board.canvas"]["kind"] == "file"
    edges = [(s, t, e["kind"], e["line"]) for s, t, e in parts.edge_list()]
    assert edges == [
        ("file:board.canvas", "note:a.md", "canvas", 3),
        ("file:board.canvas", "file:pic.png", "canvas", 12),
    ]
    turtle = run("export", "--format", "turtle", root).stdout
    assert "cg:showsOnCanvas" in turtle
    assert "canvas" in run("export", "--format", "json", "--kinds", "canvas", root).stdout
