"""Obsidian's property types: ``.obsidian/types.json`` read safely, ``[properties]``, the cache.

The fixture vaults under tests/fixtures/frontmatter/ (property-type, property-shape-mixed,
invalid-tag, tag-case-mismatch, frontmatter-shape) hold what each rule flags and why; here is
what a marker cannot say: a types file that is broken, too big or a link out of the vault
gives a finding naming it and never a traceback, a bad ``[properties]`` is a config error with
its line, the cache follows the types file and the other notes, and the graph reads one text
as one alias.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conceptgraph.api import lint_paths, open_vault
from conceptgraph.config import load_config
from conceptgraph.errors import ConfigError
from conceptgraph.graph import build_graph
from conceptgraph.model import LINE_BREAK, Finding
from conceptgraph.note import frontmatter
from conceptgraph.note.plain_frontmatter import load_simple
from conceptgraph.note.properties import MAX_TYPES_BYTES, TYPES_FILE
from conceptgraph.vault.concepts import note_aliases
from tests.conftest import FIXTURES, write_vault
from tests.test_cli import run


def _findings(root: Path, *, cache: bool = False) -> list[tuple[str, int, str]]:
    found: list[Finding] = lint_paths([root], jobs=1, cache=cache).findings
    return [(f.path, f.line, f.rule) for f in found if f.rule.startswith(("property", "tag"))]


def _vault(root: Path, types: str | None) -> Path:
    write_vault(
        root,
        {
            "a.md": "---\npages: '12'\n---\n# A\n\n[[b]]\n",
            "b.md": "---\npages: 12\n---\n# B\n\n[[a]]\n",
        },
    )
    if types is not None:
        (root / ".obsidian").mkdir()
        (root / TYPES_FILE).write_text(types, encoding="utf-8")
    return root


def test_a_declared_type_flags_the_note_that_does_not_fit(tmp_path: Path) -> None:
    root = _vault(tmp_path, json.dumps({"types": {"Pages": "number"}}))
    assert _findings(root) == [("a.md", 2, "property-type")]


def test_without_a_types_file_the_most_common_shape_decides(tmp_path: Path) -> None:
    # One note each: a tie, and nothing says which is meant.
    assert _findings(_vault(tmp_path, None)) == []
    (tmp_path / "c.md").write_text("---\npages: 3\n---\n# C\n\n[[a]]\n", encoding="utf-8")
    assert _findings(tmp_path) == [("a.md", 2, "property-shape-mixed")]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('{"types": {"pages": "number",}}', 1, "not valid JSON"),
        ('{\n  "types": {\n    "pages": number\n  }\n}', 3, "not valid JSON"),
        ('["pages"]', 1, '{"types"'),
        ('{"types": ["pages"]}', 1, '{"types"'),
        ("\xff\xfe", 1, "not UTF-8"),
        ("[" * 100_000 + "]" * 100_000, 1, ""),
    ],
)
def test_a_broken_types_file_is_a_finding_naming_it(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    root = _vault(tmp_path, None)
    (root / ".obsidian").mkdir()
    (root / TYPES_FILE).write_bytes(text.encode("latin-1" if "\xff" in text else "utf-8"))
    found = lint_paths([root], jobs=1).findings
    about = [f for f in found if f.path == TYPES_FILE]
    assert [(f.line, f.rule) for f in about] == [(line, "property-type")], found
    assert words in about[0].message
    assert not any("internal error" in f.message for f in found)


def test_the_cli_reports_a_broken_types_file_and_exits_1(tmp_path: Path) -> None:
    root = _vault(tmp_path, "{not json")
    result = run("lint", "--no-cache", "--format", "json", root)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    rows = json.loads(result.stdout)
    assert [(r["path"], r["rule"]) for r in rows if r["path"] == TYPES_FILE] == [
        (TYPES_FILE, "property-type")
    ]


def test_a_types_file_past_the_bound_is_not_read(tmp_path: Path) -> None:
    padding = " " * MAX_TYPES_BYTES
    root = _vault(tmp_path, json.dumps({"types": {"pages": "number"}}) + padding)
    found = lint_paths([root], jobs=1).findings
    assert [(f.path, f.rule) for f in found if f.rule == "property-type"] == [
        (TYPES_FILE, "property-type")
    ]
    assert "larger than" in next(f.message for f in found if f.path == TYPES_FILE)


def test_a_types_file_linked_from_outside_the_vault_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.json"
    outside.write_text(json.dumps({"types": {"pages": "number"}}), encoding="utf-8")
    root = _vault(tmp_path / "vault", None)
    (root / ".obsidian").mkdir()
    os.symlink(outside, root / TYPES_FILE)
    found = lint_paths([root], jobs=1).findings
    assert [(f.path, f.rule) for f in found if f.rule == "property-type"] == [
        (TYPES_FILE, "property-type")
    ]
    assert load_config(root).property_types.types == {}


def test_a_type_in_properties_that_obsidian_lacks_is_a_config_error(tmp_path: Path) -> None:
    root = _vault(tmp_path, None)
    (root / "conceptgraph.toml").write_text(
        'select = []\n\n[properties]\npages = "integer"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(root)
    assert caught.value.line == 4
    assert "'integer'" in str(caught.value) and "number" in str(caught.value)
    result = run("lint", root)
    assert result.returncode == 2
    assert "conceptgraph.toml:4" in result.stderr and "Traceback" not in result.stderr


def test_properties_in_the_config_win_over_the_types_file(tmp_path: Path) -> None:
    root = _vault(tmp_path, json.dumps({"types": {"pages": "number"}}))
    (root / "conceptgraph.toml").write_text('[properties]\npages = "text"\n', encoding="utf-8")
    assert _findings(root) == []


def test_the_cache_follows_the_types_file(tmp_path: Path) -> None:
    root = _vault(tmp_path, json.dumps({"types": {"pages": "text"}}))
    assert _findings(root, cache=True) == []
    (root / TYPES_FILE).write_text(json.dumps({"types": {"pages": "number"}}), encoding="utf-8")
    assert _findings(root, cache=True) == [("a.md", 2, "property-type")]


def test_the_cache_reruns_the_shape_count_when_another_note_changes(tmp_path: Path) -> None:
    root = _vault(tmp_path, None)
    (root / "c.md").write_text("---\npages: 3\n---\n# C\n\n[[a]]\n", encoding="utf-8")
    assert _findings(root, cache=True) == [("a.md", 2, "property-shape-mixed")]
    # Two notes now have text: b.md is the odd one, though only c.md was edited.
    (root / "c.md").write_text("---\npages: three\n---\n# C\n\n[[a]]\n", encoding="utf-8")
    assert _findings(root, cache=True) == [("b.md", 2, "property-shape-mixed")]
    assert _findings(root, cache=True) == _findings(root)


def test_tag_case_across_notes_follows_an_edit_through_the_cache(tmp_path: Path) -> None:
    write_vault(
        tmp_path,
        {
            "a.md": "---\ntags: [recipe]\n---\n# A\n\n[[b]]\n",
            "b.md": "---\ntags: [recipe]\n---\n# B\n\n[[c]]\n",
            "c.md": "---\ntags: [Recipe]\n---\n# C\n\n[[a]]\n",
        },
    )
    assert _findings(tmp_path, cache=True) == [("c.md", 2, "tag-case-mismatch")]
    (tmp_path / "a.md").write_text("---\ntags: [Recipe]\n---\n# A\n\n[[b]]\n", encoding="utf-8")
    assert _findings(tmp_path, cache=True) == [("b.md", 2, "tag-case-mismatch")]


def test_one_text_is_one_alias_in_the_graph(tmp_path: Path) -> None:
    write_vault(
        tmp_path,
        {
            "fold.md": "---\naliases: Fold over\n---\n# Fold\n\n[[other]]\n",
            "other.md": "---\naliases:\n  - \n---\n# Other\n\n[[fold]]\n",
            "day.md": "---\naliases: [2024-01-01]\n---\n# Day\n\n[[fold]]\n",
        },
    )
    vault = open_vault(tmp_path)
    assert note_aliases(vault.notes["fold.md"]) == ["Fold over"]
    assert note_aliases(vault.notes["other.md"]) == []
    # PyYAML reads a date; Obsidian (js-yaml) the text, which is the alias.
    assert note_aliases(vault.notes["day.md"]) == ["2024-01-01"]
    assert vault.alias_owners("fold over") == ["fold.md"]
    graph = build_graph(vault)
    alias_edges = [(u, v) for u, v, kind in graph.edges(data="kind") if kind == "alias"]
    assert len(alias_edges) == 2
    assert _findings(tmp_path) == []
    assert not [f for f in lint_paths([tmp_path], jobs=1).findings if f.rule == "frontmatter-shape"]


def test_the_fixture_frontmatter_reads_alike_with_and_without_pyyaml() -> None:
    # Each decision in the fixtures, read by both readers: the fast one takes it or declines.
    from tests.test_simpleyaml import _with_pyyaml

    taken = 0
    for path in sorted((FIXTURES / "frontmatter").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        parts = frontmatter.split(LINE_BREAK.split(text))
        if parts.yaml_text is None:
            continue
        simple = load_simple(parts.yaml_text)
        if simple is not None:
            taken += 1
            assert (repr(simple[0]), repr(simple[1]), list(simple[0])) == _with_pyyaml(
                parts.yaml_text
            ), path
    assert taken > 0
