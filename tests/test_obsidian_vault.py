"""A vault made of Obsidian users' habits: only the findings Obsidian's behaviour implies.

The corpus is ``tests/data/obsidian-vault``: templates with empty lists and placeholders,
canvases, property types, per-folder ``index.md``, emoji and CJK names, ``%%comments%%``,
callouts, links in tables, embeds with sizes, percent-encoded Markdown links and same-note
links, each note saying which habit it holds. Its few real defects are marked where they are.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conceptgraph.api import lint_paths
from conceptgraph.config import load_config
from conceptgraph.vault.load import load_vault
from tests.conftest import expected_markers, run_conceptgraph

CORPUS = Path(__file__).parent / "data" / "obsidian-vault"


def test_the_vault_gets_only_the_findings_it_marks() -> None:
    findings = lint_paths([CORPUS], jobs=1).findings
    got = {(f.path, f.line, f.rule) for f in findings}
    want = expected_markers(CORPUS)
    assert got == want, f"missing: {sorted(want - got)}\nfalse: {sorted(got - want)}"


def test_each_defect_is_told_in_the_users_words() -> None:
    findings = lint_paths([CORPUS], jobs=1).findings
    messages = {f.rule: f.message for f in findings if f.path == "Daily/2026-12-07.md"}
    assert messages["broken-link"].endswith("did you mean: Spec Notes?")
    assert messages["broken-heading"].endswith("did you mean: Details?")
    assert "should be a number" in messages["property-type"]
    assert "'four'" in messages["property-type"]
    assert "spelt 'reading' in 2 notes" in messages["tag-case-mismatch"]


@pytest.mark.parametrize(
    ("source", "written", "opens"),
    [
        # A bare [[index]] is the note whose path is exactly "index", not a folder's index.md.
        ("Projects/Alpha/index.md", "index", "index.md"),
        ("index.md", "Projects/Beta/index", "Projects/Beta/index.md"),
        ("index.md", "概念", "日本語/概念.md"),
        ("index.md", "🚀 Launch", "🚀 Launch.md"),
        ("Projects/Alpha/index.md", "diagram.png", "attachments/diagram.png"),
        ("Projects/Alpha/index.md", "spec.pdf", "attachments/spec.pdf"),
        ("Projects/Beta/index.md", "../Alpha/index.md", "Projects/Alpha/index.md"),
        ("Projects/Beta/index.md", "Spec Notes.md", "Projects/Beta/Spec Notes.md"),
        (
            "Projects/Beta/index.md",
            "../../日本語/概念.md",
            "日本語/概念.md",
        ),
        (
            "Projects/Beta/Spec Notes.md",
            "Pasted image 20231201093000.png",
            "attachments/Pasted image 20231201093000.png",
        ),
    ],
)
def test_links_open_what_obsidian_opens(source: str, written: str, opens: str) -> None:
    vault = load_vault(CORPUS, load_config(CORPUS))
    targets = {link.target: found.path for link, found in vault.resolved(vault.notes[source])}
    assert written in targets, sorted(targets)
    assert targets[written] == opens


def test_links_in_callouts_tables_comments_and_properties_are_links() -> None:
    vault = load_vault(CORPUS, load_config(CORPUS))
    alpha = vault.notes["Projects/Alpha/index.md"]
    written = [(link.target, link.subpath, link.display, link.embed) for link in alpha.links]
    assert ("Projects/Beta/index", None, "the Beta project", False) in written  # callout
    assert ("index", None, "home", False) in written  # a callout in a callout
    assert ("Projects/Beta/index", None, "Beta", False) in written  # `\|` in a table
    assert ("Spec Notes", "Details", "the details", False) in written
    assert ("diagram.png", None, "300", True) in written  # an embed's size
    assert ("", "Tasks", None, False) in written  # [[#Tasks]], this note
    # Obsidian indexes the links in a %%comment%%, and those of a multitext property.
    text = (CORPUS / alpha.path).read_text(encoding="utf-8").splitlines()
    comment = next(n for n, line in enumerate(text, 1) if line.startswith("%%A private"))
    assert ("Spec Notes", comment) in {(link.target, link.span.line) for link in alpha.links}
    assert {link.frontmatter_key for link in alpha.links} >= {"related", None}
    spec = vault.notes["Projects/Beta/Spec Notes.md"]
    targets = {link.target for link in spec.links}
    assert "not-a-link-in-math" not in targets and "not-a-link-in-code" not in targets


def test_template_folders_come_from_both_plugins() -> None:
    config = load_config(CORPUS)
    assert config.templates == ("templates", "Templater")
    assert config.is_template("templates/Project.md")
    assert config.is_template("Templater/Daily.md")
    assert not config.is_template("Daily/2026-12-07.md")


def test_a_template_outside_a_template_folder_is_a_note_like_any(tmp_path: Path) -> None:
    # Without the plugin's setting, {{title}} is a link to nothing, as Obsidian shows it.
    vault = tmp_path / "v"
    shutil.copytree(CORPUS, vault)
    (vault / ".obsidian" / "templates.json").unlink()
    findings = lint_paths([vault], jobs=1).findings
    in_templates = {(f.path, f.rule) for f in findings if f.path.startswith("templates/")}
    assert ("templates/Project.md", "broken-link") in in_templates
    assert ("templates/Meeting.md", "frontmatter-syntax") in in_templates
    assert not any(f.path.startswith("Templater/") for f in findings)


def test_a_template_keeps_its_text_checks(tmp_path: Path) -> None:
    vault = tmp_path / "v"
    shutil.copytree(CORPUS, vault)
    damaged = vault / "templates" / "Project.md"
    damaged.write_bytes(damaged.read_bytes().replace(b"from", b"fr\xc3\x83\xc2\xb3m"))
    findings = lint_paths([vault], jobs=1).findings
    assert {f.rule for f in findings if f.path == "templates/Project.md"} == {"mojibake"}


def test_placeholders_of_templates_make_no_nodes_in_the_exports() -> None:
    done = run_conceptgraph("export", CORPUS, "--format", "json")
    assert done.returncode == 0, done.stderr
    graph = json.loads(done.stdout)
    names = {node["id"] for node in graph["nodes"]}
    assert not [name for name in names if "{{" in name or "<%" in name]
    canvas = {
        (edge["source"], edge["target"]) for edge in graph["links"] if edge["kind"] == "canvas"
    }
    assert ("file:board.canvas", "note:Projects/Alpha/index.md") in canvas
    assert ("file:board.canvas", "note:Projects/Beta/Spec Notes.md") in canvas  # a text card
    assert ("file:board.canvas", "note:🚀 Launch.md") in canvas


def test_the_command_line_says_the_same(tmp_path: Path) -> None:
    done = run_conceptgraph("lint", CORPUS, "--format", "json", "--no-cache")
    assert done.returncode == 1, done.stderr
    got = {(f["path"], f["line"], f["rule"]) for f in json.loads(done.stdout)}
    assert got == expected_markers(CORPUS)


@pytest.mark.parametrize(
    ("written", "folders"),
    [
        ('{"folder": "./Templates/"}', ("Templates",)),
        ('{"folder": "Meta\\\\Templates"}', ("Meta/Templates",)),
        ('{"folder": ""}', ()),
        ('{"folder": "../elsewhere"}', ()),
        ('{"folder": 3}', ()),
        ('{"folder": "Templates"', ()),  # not JSON: Obsidian uses no folder either
        ("[]", ()),
    ],
)
def test_template_folder_settings_as_obsidian_writes_them(
    tmp_path: Path, written: str, folders: tuple[str, ...]
) -> None:
    from conceptgraph.obsidian import template_folders

    (tmp_path / ".obsidian").mkdir()
    (tmp_path / ".obsidian" / "templates.json").write_text(written, encoding="utf-8")
    assert template_folders(tmp_path) == folders


def test_a_settings_file_linked_from_outside_the_vault_is_not_read(tmp_path: Path) -> None:
    from conceptgraph.obsidian import read_settings, template_folders

    outside = tmp_path / "outside.json"
    outside.write_text('{"folder": "templates"}', encoding="utf-8")
    vault = tmp_path / "v"
    (vault / ".obsidian").mkdir(parents=True)
    (vault / ".obsidian" / "templates.json").symlink_to(outside)
    assert template_folders(vault) == ()
    value, problem = read_settings(vault, ".obsidian/templates.json")
    assert value is None and problem is not None and "out of the vault" in problem[2]
