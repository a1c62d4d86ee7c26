"""Run the real Mermaid parser (the npm package, under jsdom) over diagram texts.

``tests/mermaid/`` holds the parser: ``package.json``, ``package-lock.json`` and ``parse.mjs``.
``.ci/run`` installs it with ``npm ci``; by hand, ``npm ci --prefix tests/mermaid``. A missing
parser fails the tests that need it: they are never skipped.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

FOLDER = Path(__file__).parent / "mermaid"


def mermaid_parse(texts: dict[str, str], folder: Path) -> dict[str, dict[str, Any]]:
    """Each text's parse result by name: ``{"ok": True, "type": ...}`` or ``{"ok": False,
    "error": ...}``."""
    if not (FOLDER / "node_modules" / "mermaid").is_dir():
        pytest.fail("the Mermaid parser is not installed: run `npm ci --prefix tests/mermaid`")
    files = []
    for name, text in texts.items():
        path = folder / f"{name}.mmd"
        path.write_text(text, encoding="utf-8")
        files.append(str(path))
    done = subprocess.run(
        ["node", str(FOLDER / "parse.mjs"), *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(texts), done.stderr
    return {Path(r["file"]).stem: r for r in results}
