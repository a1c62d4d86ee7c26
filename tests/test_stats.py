"""`conceptgraph stats`: a vault's shape, in text, JSON and one HTML page drawn by a browser.

The vault below is built with a known shape (a main cluster with a bridge, a second cluster,
an orphan, a dependency chain through a cycle, broken links), so each figure can be checked
against what the files say, and against the lint rules that measure the same thing.
"""

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from conceptgraph.api import lint_paths, stats_vault
from conceptgraph.settings import Overrides
from conceptgraph.stats import _articulation_points, stats_html
from tests.conftest import run_conceptgraph, write_vault


def _depends(*names: str) -> str:
    return "## Structural dependencies\n\n" + "".join(f"- [[{n}]]\n" for n in names)


def _shaped_vault(root: Path) -> Path:
    return write_vault(
        root,
        {
            # The main cluster: hub links to a, b, c; c is the only way to d and e (a bridge).
            "hub.md": "# Hub\n\n[[a]] [[b]] [[c]] [[gone]]\n",
            "a.md": "# A\n\n[[b]]\n",
            "b.md": "# B\n\n[[missing]] and [[also-missing]]\n",
            "c.md": "# C\n\n" + _depends("d"),
            "d.md": "# D\n\n" + _depends("e"),
            "e.md": "# E\n\n" + _depends("f", "g"),
            # f and g depend on each other: one knot of the chain.
            "f.md": "# F\n\n" + _depends("g"),
            "g.md": "# G\n\n" + _depends("f"),
            # A second cluster, and a note alone.
            "island/x.md": "# X\n\n[[y]]\n",
            "island/y.md": "# Y\n",
            "alone.md": "# Alone\n",
        },
    )


def test_stats_measure_the_shape_of_the_vault(tmp_path: Path) -> None:
    vault = _shaped_vault(tmp_path)
    stats = stats_vault(vault, jobs=1)
    assert stats.notes == 11
    assert stats.broken_links == 3
    assert stats.orphans == ["alone.md"]
    assert stats.clusters == [8, 2, 1]  # a note alone is a cluster of one
    assert stats.most_linked[0] == ("b.md", 2)
    assert stats.hubs[0] == ("hub.md", 3)
    assert {path for path, _ in stats.bridges} == {"hub.md", "c.md", "d.md", "e.md"}
    # c -> d -> e -> {f, g}: the knot f/g is one step, written as its first note.
    assert stats.deepest_chains[0] == ["c.md", "d.md", "e.md", "f.md"]
    assert stats.deepest_chain_lengths[0] == 4
    assert stats.degrees[0] == 1  # alone.md


def test_stats_agree_with_the_lint_rules_that_measure_the_same(tmp_path: Path) -> None:
    vault = _shaped_vault(tmp_path)
    quality = Overrides.from_options(extend_select=["quality"])
    stats = stats_vault(vault, jobs=1, overrides=quality)
    findings = lint_paths([vault], jobs=1, overrides=quality).findings
    assert stats.findings == len(findings)
    by_rule = {f.rule for f in findings}
    assert stats.findings_per_rule == {r: sum(f.rule == r for f in findings) for r in by_rule}
    assert stats.orphans == sorted(f.path for f in findings if f.rule == "orphan-note")
    clusters = [f for f in findings if f.rule == "disconnected-cluster"]
    assert len(stats.clusters) == 1 + len(clusters) + len(stats.orphans)
    assert stats.findings_per_rule["broken-link"] == stats.broken_links


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), max_size=25))
def test_bridges_are_networkx_articulation_points(edges: list[tuple[int, int]]) -> None:
    neighbours: dict[str, set[str]] = {f"n{i}": set() for i in range(10)}
    graph = nx.Graph()
    graph.add_nodes_from(neighbours)
    for one, other in edges:
        if one != other:
            neighbours[f"n{one}"].add(f"n{other}")
            neighbours[f"n{other}"].add(f"n{one}")
            graph.add_edge(f"n{one}", f"n{other}")
    assert _articulation_points(neighbours) == set(nx.articulation_points(graph))


def test_stats_command_text_and_json(tmp_path: Path) -> None:
    vault = _shaped_vault(tmp_path)
    text = run_conceptgraph("stats", vault)
    assert text.returncode == 0, text.stderr
    assert "links" in text.stdout and "(3 broken)" in text.stdout
    assert "clusters       3, sizes 8, 2, 1" in text.stdout
    assert "c.md -> d.md -> e.md -> f.md" in text.stdout
    result = run_conceptgraph("stats", vault, "--format", "json")
    data = json.loads(result.stdout)
    assert data["orphans"] == ["alone.md"]
    assert data["most_linked"][0] == {"path": "b.md", "linked_from": 2}
    assert data["findings_per_rule"]["broken-link"] == 3
    missing = run_conceptgraph("stats", tmp_path / "nowhere")
    assert missing.returncode == 2
    assert "not a vault folder" in missing.stderr
    assert "Traceback" not in missing.stderr


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB(A) pixels of an 8-bit, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, header = 8, b"", b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunk = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0) and colour in (2, 6)
    size = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * size
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - size] if i >= size else 0
            up = previous[i]
            corner = previous[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                near = min((abs(guess - left), 0), (abs(guess - up), 1), (abs(guess - corner), 2))
                line[i] = (line[i] + (left, up, corner)[near[1]]) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, size, rows


def test_the_html_page_draws_its_charts_in_a_real_browser(tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    # A missing browser is a missing install step (.ci/run installs it), not a pass.
    assert chromium is not None, "chromium is not installed (Debian: apt-get install chromium)"
    vault = _shaped_vault(tmp_path / "vault")
    page = tmp_path / "stats.html"
    result = run_conceptgraph("stats", vault, "--format", "html", "-o", page)
    assert result.returncode == 0, result.stderr
    text = page.read_text(encoding="utf-8")
    # One file, nothing fetched: no scripts, styles or images from anywhere.
    assert "<script" not in text and "<link" not in text and "src=" not in text
    browser = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    dom = subprocess.run(
        [*browser, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert dom.count('<svg class="chart"') == 3
    stats = stats_vault(vault, jobs=1)
    bars = len(stats.findings_per_rule) + len(stats.clusters)
    assert dom.count("<rect") >= bars + 1
    shot = tmp_path / "shot.png"
    subprocess.run(
        [*browser, "--window-size=1000,1400", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    width, size, rows = _png_pixels(shot.read_bytes())
    # The bars' blue (#4c78a8), as painted: the charts were drawn, not only parsed.
    blue = sum(
        1
        for row in rows
        for x in range(0, width * size, size)
        if abs(row[x] - 0x4C) < 12 and abs(row[x + 1] - 0x78) < 12 and abs(row[x + 2] - 0xA8) < 12
    )
    assert blue > 2000, f"{blue} pixels of the bars' colour"


def test_html_escapes_what_the_vault_names(tmp_path: Path) -> None:
    vault = write_vault(tmp_path, {"<b>.md": "# B\n\n[[x]]\n", "x.md": "# X\n\n[[<b>]]\n"})
    page = stats_html(stats_vault(vault, jobs=1))
    assert "<b>.md" not in page and "&lt;b&gt;.md" in page
