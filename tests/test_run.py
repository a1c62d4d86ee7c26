"""One lint run: each way it can go discovers the vault and selects the rules once."""

from __future__ import annotations

from pathlib import Path

import pytest

from conceptgraph.api import lint_paths
from conceptgraph.config import load_config
from conceptgraph.lint import engine, parallel
from conceptgraph.lint import run as run_module
from conceptgraph.lint.incremental import lint_cached
from conceptgraph.lint.rule import Rule
from conceptgraph.vault import discovery


def _vault(root: Path, notes: int) -> Path:
    root.mkdir()
    for index in range(notes):
        (root / f"n{index}.md").write_text(
            f"# N{index}\n\nSee [[n{(index + 1) % notes}]] and [[gone]].\n"
        )
    return root


@pytest.mark.parametrize(
    ("cache", "notes", "jobs"),
    [(True, 3, 1), (False, 3, 1), (False, 40, 2), (True, 40, 2)],
    ids=["cached", "in-process", "workers", "cached-first-run-in-workers"],
)
@pytest.mark.parametrize("named", [False, True], ids=["vault", "one-note"])
def test_a_run_discovers_and_selects_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cache: bool,
    notes: int,
    jobs: int,
    named: bool,
) -> None:
    root = _vault(tmp_path / "v", notes)
    monkeypatch.setattr(parallel, "MIN_NOTES", 20)  # the worker ways on a small vault
    calls = {"discover": 0, "select": 0}
    real_discover, real_select = discovery.discover, engine.selected_rules

    def counted_discover(*args: object) -> discovery.Discovery:
        calls["discover"] += 1
        return real_discover(*args)  # type: ignore[arg-type]

    def counted_select(*args: object) -> list[Rule]:
        calls["select"] += 1
        return real_select(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(run_module, "discover", counted_discover)
    monkeypatch.setattr(run_module, "selected_rules", counted_select)
    (root / ".obsidian").mkdir()  # a note named alone is linted as part of this vault
    result = lint_paths([root / "n1.md"] if named else [root], jobs=jobs, cache=cache)
    assert calls == {"discover": 1, "select": 1}
    broken = [f for f in result.findings if f.rule == "broken-link"]
    expected = ["n1.md"] if named else [f"n{i}.md" for i in range(notes)]
    assert sorted(f.path for f in broken) == sorted(expected)


def test_every_way_finds_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _vault(tmp_path / "v", 40)
    (root / "n3.md").write_text("---\naliases: [\n---\n# N3\n[[n4#nowhere]]\n")
    monkeypatch.setattr(parallel, "MIN_NOTES", 20)
    ways = {
        "in-process": lint_paths([root], jobs=1).findings,
        "workers": lint_paths([root], jobs=2).findings,
        "cached": lint_paths([root], jobs=1, cache=True).findings,
        "cached-again": lint_paths([root], jobs=2, cache=True).findings,
    }
    reference = ways["in-process"]
    assert {f.rule for f in reference} >= {"broken-link", "broken-heading", "frontmatter-syntax"}
    assert all(found == reference for found in ways.values())
    assert lint_cached(root.resolve(), load_config(root), jobs=1).findings == reference
