"""The benchmark's vaults: the defects vault has the defects it says, found by lint, and
both engines report them alike (so the defects figures of ``benchmarks/run.py`` time real
findings, not a parse that gave up)."""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from pathlib import Path

from conceptgraph.api import lint_paths
from conceptgraph.note.markdown.engine import parser_in_use, use_parser

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from generate_vault import generate_vault  # noqa: E402

# The rule each kind of defect the generator plants is found by.
PLANTED = {
    "broken-link",
    "dependency-cycle",
    "mojibake",
    "alias-collision",
    "duplicate-canonical",
    "negation-contradicts-alias",
    "missing-section",
    "frontmatter-shape",
    "line-endings",
}


def _digest(root: Path) -> str:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()


def _findings(root: Path, parser: str) -> list[tuple[str, int, int, str, str]]:
    before = parser_in_use()
    use_parser(parser)
    try:
        findings = lint_paths([root], jobs=1).findings
    finally:
        use_parser(before)
    return sorted((f.path, f.line, f.column, f.rule, f.message) for f in findings)


def test_the_defects_vault_holds_every_planted_defect_and_is_reproducible(
    tmp_path: Path,
) -> None:
    generate_vault(tmp_path / "clean", notes=800, seed=5)
    generate_vault(tmp_path / "a", notes=800, seed=5, defects=True)
    generate_vault(tmp_path / "b", notes=800, seed=5, defects=True)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _findings(tmp_path / "clean", "pyromark") == []
    rules = Counter(finding[3] for finding in _findings(tmp_path / "a", "pyromark"))
    assert set(rules) >= PLANTED, PLANTED - set(rules)
    # At the rates of a user's vault: about one broken link in eight notes, not one in two.
    assert 50 <= rules["broken-link"] <= 150


def test_both_engines_report_the_defects_alike(tmp_path: Path) -> None:
    generate_vault(tmp_path / "v", notes=400, seed=7, defects=True)
    assert _findings(tmp_path / "v", "pyromark") == _findings(tmp_path / "v", "markdown-it")
