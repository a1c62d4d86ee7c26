"""Mermaid: every diagram parsed by the real Mermaid parser, whatever the note names hold."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from conceptgraph.api import open_vault
from conceptgraph.export import ExportOptions, export
from conceptgraph.export.mermaid import _escape
from conceptgraph.vault.load import Vault
from tests import hostile_names
from tests.mermaid_check import mermaid_parse

REPO = Path(__file__).parent.parent
FIXTURE = Path(__file__).parent / "data" / "diagram-vault"


@pytest.fixture(scope="module")
def notes() -> Vault:
    return open_vault(REPO / "notes")


def mermaid(vault: Vault, **options: Any) -> str:
    return export(vault, "mermaid", ExportOptions(**options)).decode("utf-8")


def assert_all_parse(texts: dict[str, str], tmp_path: Path) -> None:
    results = mermaid_parse(texts, tmp_path)
    failed = {name: r["error"] for name, r in results.items() if not r["ok"]}
    assert not failed, failed
    assert {r["type"] for r in results.values()} == {"flowchart-v2"}


def test_the_parser_rejects_what_is_broken(tmp_path: Path) -> None:
    # The check is worth something only if the parser says no to bad diagrams.
    results = mermaid_parse(
        {
            "good": 'flowchart TB\n  n0["a"] --> n1["b"]\n',
            "keyword": "flowchart TB\n  end --> b\n",
            "unclosed": 'flowchart TB\n  n0["a --> n1\n',
            "bracket": "flowchart TB\n  n0[a[b]c] --> n1\n",
            "link_style": 'flowchart TB\n  n0["a"] --> n1["b"]\n  linkStyle 3 stroke:red\n',
        },
        tmp_path,
    )
    assert results["good"]["ok"]
    assert not results["keyword"]["ok"]
    assert not results["unclosed"]["ok"]
    assert not results["bracket"]["ok"]
    assert not results["link_style"]["ok"]


def test_notes_parse_whole_and_in_parts(notes: Vault, tmp_path: Path) -> None:
    texts = {
        "whole": mermaid(notes),
        "focus": mermaid(notes, focus="migration", depth=1),
        "focus2": mermaid(notes, focus="transition", depth=2),
        "kinds": mermaid(notes, kinds=("dependency", "negation")),
        "alone": mermaid(notes, focus="residual", depth=0),
    }
    assert_all_parse(texts, tmp_path)


def test_fixture_vault_parses_every_node_and_edge_kind(tmp_path: Path) -> None:
    vault = open_vault(FIXTURE)
    text = mermaid(vault)
    for arrow in ("-.-x", "-->", "==>", "--o"):
        assert f" {arrow} " in text, arrow
    assert '{{"phantom"}}' in text  # a concept with no note
    assert '[/"sheet.csv"/]' in text
    assert "cg_dashed" in text
    texts = {"whole": text, "alpha": mermaid(vault, focus="alpha", depth=2)}
    texts["dependency"] = mermaid(vault, kinds=("dependency",))
    assert_all_parse(texts, tmp_path)


def test_styles_are_class_defs_and_link_styles(notes: Vault) -> None:
    text = mermaid(notes, focus="migration", depth=1)
    assert "classDef cg_note fill:#ffffff" in text
    assert "classDef cg_focus stroke:#ef6c00" in text
    assert re.search(
        r"linkStyle [\d,]+ stroke:#d32f2f,stroke-width:[\d.]+px,stroke-dasharray", text
    )
    assert re.search(r'subgraph g\d+\["mechanism"\]', text)
    assert "style g0 fill:" in text
    assert text.startswith('---\ntitle: "notes: Migration and its neighbours within 1 step"\n---\n')


def test_hostile_names_parse(tmp_path: Path) -> None:
    hostile_names.build(tmp_path / "vault")
    vault = open_vault(tmp_path / "vault")
    texts = {"whole": mermaid(vault)}
    for number, name in enumerate(hostile_names.NAMES):
        texts[f"focus{number}"] = mermaid(vault, focus=name, depth=1)
    texts["kinds"] = mermaid(vault, kinds=("negation", "alias"))
    # Ids are ours; no name reaches the text unescaped.
    ids = set(re.findall(r"^\s+(\w+)[(\[{>]", texts["whole"], re.MULTILINE))
    assert all(re.fullmatch(r"n\d+", i) for i in ids), ids
    assert "He said #34;hi#34;" in texts["whole"]
    assert_all_parse(texts, tmp_path)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ('say "hi"', "say #34;hi#34;"),
        ("C#; x", "C#35;#59; x"),
        ("a --> b", "a --#62; b"),
        ("[x](y){z}", "#91;x#93;#40;y#41;#123;z#125;"),
        ("<b>&amp;</b>", "#60;b#62;#38;amp#59;#60;/b#62;"),
        ("tab\there\nnew", "tab here new"),
        ("über 日本語 😀", "über 日本語 😀"),
    ],
)
def test_escape(text: str, escaped: str) -> None:
    assert _escape(text) == escaped


def test_same_vault_same_bytes(notes: Vault) -> None:
    assert mermaid(notes) == mermaid(open_vault(REPO / "notes"))


def test_a_layer_has_one_colour_in_every_picture(notes: Vault) -> None:
    def colours(text: str) -> dict[str, str]:
        names = dict(re.findall(r'subgraph (g\d+)\["([^"]+)"\]', text))
        fills = dict(re.findall(r"style (g\d+) fill:(#\w+)", text))
        return {names[g]: fills[g] for g in names}

    whole = colours(mermaid(notes))
    part = colours(mermaid(notes, focus="migration", kinds=("dependency",)))
    assert "dynamics" not in part
    assert part == {name: whole[name] for name in part}
