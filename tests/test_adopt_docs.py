"""The walk-through of ``docs/adopt.md`` runs as written.

Every line of the page's ``sh`` blocks runs, in order, in one shell, in an empty folder with
the repository's ``benchmarks/`` beside it, and must end with the exit status its comment
gives (``# exit N``; 0 without one). A flag renamed, an output changed so that a step no longer
fails or passes as the page says, and this test fails.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.test_docs_commands import REPO, _logical_lines

PAGE = REPO / "docs" / "adopt.md"
_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
_STATUS = re.compile(r"#\s*exit (\d+)")


def steps() -> list[tuple[str, int]]:
    found = []
    for block in _BLOCK.findall(PAGE.read_text(encoding="utf-8")):
        for line in _logical_lines(block):
            status = _STATUS.search(line)
            found.append((line, int(status.group(1)) if status else 0))
    return found


def test_the_walk_through_runs_as_written(tmp_path: Path) -> None:
    shown = steps()
    assert len(shown) >= 10
    assert any("--write-baseline" in line for line, _ in shown)
    (tmp_path / "benchmarks").symlink_to(REPO / "benchmarks")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # The page's `python` and `conceptgraph` are this interpreter and its conceptgraph.
    (bin_dir / "python").symlink_to(sys.executable)
    (bin_dir / "conceptgraph").write_text(
        f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m conceptgraph "$@"\n', encoding="utf-8"
    )
    (bin_dir / "conceptgraph").chmod(0o755)
    script = ["set -u"]
    for index, (line, status) in enumerate(shown):
        script.append(line)
        script.append(
            f'got=$?; echo "=== step {index} exit $got"; '
            f'[ "$got" -eq {status} ] || {{ echo "step {index}: $got, not {status}"; exit 99; }}'
        )
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("CONCEPTGRAPH_CACHE", None)
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    outputs = result.stdout.split("=== step ")
    # What the page says of the steps: only the new link is reported; stale entries are told.
    new_link = next(i for i, (line, _) in enumerate(shown) if line.startswith("echo"))
    reported = outputs[new_link + 1].split("\n", 1)[1]
    assert reported.count("broken-link") == 1 and "a note nobody wrote" in reported
    assert "no longer match" in result.stderr
    assert "did you mean broken-link" in result.stderr
    assert "# rules that run" in result.stdout
