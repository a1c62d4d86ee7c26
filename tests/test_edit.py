"""`conceptgraph mv`, `rename-heading` and `rename-block`: links rewritten byte for byte."""

from __future__ import annotations

import posixpath
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conceptgraph.api import lint_paths, open_vault
from conceptgraph.edit import (
    apply_plan,
    plan_move,
    plan_moves,
    plan_rename_block,
    plan_rename_heading,
)
from conceptgraph.errors import EditError, UsageError
from tests.conftest import FIXTURES, run_conceptgraph, write_vault

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate_vault import generate_vault

TOMATO = "---\ntype: fruit\n---\n# Tomato\n\n## Ripe fruit\n\nRed. ^red-one\n"


def _vault(tmp_path: Path, linking: str, **more: str) -> Path:
    files = {"notes/tomato.md": TOMATO, "other/a.md": linking, **more}
    root = write_vault(tmp_path / "vault", files)
    (root / ".obsidian").mkdir()
    return root


def _move(root: Path, old: str, new: str) -> None:
    apply_plan(plan_move(open_vault(root), old, new))


# (as written in other/a.md, after `mv notes/tomato.md fruit/tomate.md`)
FORMS = [
    ("[[tomato]]", "[[tomate]]"),
    ("[[Tomato]]", "[[tomate]]"),
    ("[[tomato|the fruit]]", "[[tomate|the fruit]]"),
    ("![[tomato#Ripe fruit]]", "![[tomate#Ripe fruit]]"),
    ("[[tomato#^red-one|red]]", "[[tomate#^red-one|red]]"),
    ("[[ tomato | spaced ]]", "[[ tomate | spaced ]]"),
    ("| [[tomato\\|T]] | x |", "| [[tomate\\|T]] | x |"),
    ("[[notes/tomato]]", "[[fruit/tomate]]"),
    ("[[notes/tomato.md#Ripe fruit]]", "[[fruit/tomate.md#Ripe fruit]]"),
    ("[[/notes/tomato]]", "[[/fruit/tomate]]"),
    ("[[../notes/tomato]]", "[[../fruit/tomate]]"),
    ("[t](../notes/tomato.md)", "[t](../fruit/tomate.md)"),
    ("[t](../notes/tomato.md#Ripe%20fruit)", "[t](../fruit/tomate.md#Ripe%20fruit)"),
    ('![t](<../notes/tomato.md> "title")', '![t](<../fruit/tomate.md> "title")'),
    ("`[[tomato]]` in code", "`[[tomato]]` in code"),
    ("$[[tomato]]$ in math", "$[[tomato]]$ in math"),
    ("<!-- [[tomato]] --> in a comment", "<!-- [[tomato]] --> in a comment"),
]


@pytest.mark.parametrize(("written", "expected"), FORMS)
def test_a_link_keeps_its_form(tmp_path: Path, written: str, expected: str) -> None:
    body = f"# A\n\n{written}\nAfter. [[a]]\r\n"
    root = _vault(tmp_path, body)
    _move(root, "notes/tomato.md", "fruit/tomate.md")
    after = (root / "other/a.md").read_bytes()
    assert after == f"# A\n\n{expected}\nAfter. [[a]]\r\n".encode()
    assert (root / "fruit/tomate.md").read_bytes() == TOMATO.encode()
    assert not (root / "notes/tomato.md").exists()


def test_a_markdown_link_with_spaces_stays_percent_encoded(tmp_path: Path) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "my note.md": "# My note\n",
            "a.md": "[x](my%20note.md) [[my note]] [y](./my%20note.md)\n",
        },
    )
    _move(root, "my note.md", "in here/my new note.md")
    assert (root / "a.md").read_text() == (
        "[x](my%20new%20note.md) [[my new note]] [y](./in%20here/my%20new%20note.md)\n"
    )


def test_properties_and_canvas_cards_follow(tmp_path: Path) -> None:
    canvas = (
        '{"nodes":[{"id":"1","type":"file","file":"notes/tomato.md","subpath":"#Ripe fruit"},'
        '{"id":"2","type":"text","text":"see [[tomato]] and [[tomato|it]]"}],"edges":[]}'
    )
    linking = "---\nup: \"[[tomato]]\"\nalso: '[[notes/tomato#Ripe fruit]]'\n---\n# A\n"
    root = _vault(tmp_path, linking, **{"board.canvas": canvas})
    _move(root, "notes/tomato.md", "fruit/tomate.md")
    assert (root / "other/a.md").read_text() == (
        "---\nup: \"[[tomate]]\"\nalso: '[[fruit/tomate#Ripe fruit]]'\n---\n# A\n"
    )
    assert (root / "board.canvas").read_text() == canvas.replace(
        '"notes/tomato.md"', '"fruit/tomate.md"'
    ).replace("[[tomato]] and [[tomato|it]]", "[[tomate]] and [[tomate|it]]")


def test_a_link_that_would_become_ambiguous_gets_the_shortest_unique_path(
    tmp_path: Path,
) -> None:
    root = _vault(
        tmp_path, "[[tomato]] [[notes/tomato]]\n", **{"old/tomato.md": "# old\n", "b.md": "[[x]]\n"}
    )
    # Two tomato notes already: [[tomato]] from other/a.md is ambiguous before and after.
    (root / "old/tomato.md").unlink()
    write_vault(root, {"old/x.md": "# X\n"})
    _move(root, "old/x.md", "notes/tomato/../x.md")
    assert (root / "b.md").read_text() == "[[x]]\n"  # still the only x: shortest form stays
    _move(root, "notes/x.md", "deep/er/tomato.md")
    # Now two notes are called tomato: each link names the one it named, uniquely.
    assert (root / "b.md").read_text() == "[[er/tomato]]\n"
    assert (root / "other/a.md").read_text() == "[[notes/tomato]] [[notes/tomato]]\n"
    assert not [
        f for f in lint_paths([root]).findings if f.rule in ("ambiguous-link", "broken-link")
    ]


def test_moving_a_note_rewrites_its_own_relative_links(tmp_path: Path) -> None:
    root = _vault(tmp_path, "[[../notes/tomato]] [up](../notes/tomato.md) [[tomato]]\n")
    _move(root, "other/a.md", "far/away/a.md")
    assert (root / "far/away/a.md").read_text() == (
        "[[../../notes/tomato]] [up](../../notes/tomato.md) [[tomato]]\n"
    )


def test_a_folder_moves_with_its_links(tmp_path: Path) -> None:
    root = _vault(tmp_path, "[[notes/tomato]] [[tomato]]\n", **{"notes/sub/pip.png": "png"})
    (root / "notes/tomato.md").write_text(TOMATO + "![[notes/sub/pip.png]]\n")
    _move(root, "notes", "garden/beds")
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*.*") if p.is_file()) == [
        "garden/beds/sub/pip.png",
        "garden/beds/tomato.md",
        "other/a.md",
    ]
    assert (root / "other/a.md").read_text() == "[[garden/beds/tomato]] [[tomato]]\n"
    assert (root / "garden/beds/tomato.md").read_text().endswith("![[garden/beds/sub/pip.png]]\n")


def test_a_case_only_rename_rewrites_the_links_that_spell_the_old_case(tmp_path: Path) -> None:
    root = write_vault(tmp_path / "v", {"Tomato.md": "# T\n", "a.md": "[[Tomato]] [[tomato|x]]\n"})
    _move(root, "Tomato.md", "TOMATO.md")
    assert (root / "TOMATO.md").exists()
    # Resolution ignores case: the link in another case still leads there, and is left so.
    assert (root / "a.md").read_text() == "[[TOMATO]] [[tomato|x]]\n"


def test_it_refuses_to_write_over_a_file(tmp_path: Path) -> None:
    root = _vault(tmp_path, "[[tomato]]\n", **{"fruit/tomate.md": "# mine\n"})
    before = {p: p.read_bytes() for p in root.rglob("*.md")}
    with pytest.raises(EditError, match="already exists"):
        plan_move(open_vault(root), "notes/tomato.md", "fruit/tomate.md")
    result = run_conceptgraph("mv", root / "notes/tomato.md", root / "fruit/tomate.md")
    assert result.returncode == 2
    assert "fruit/tomate.md already exists; nothing was changed" in result.stderr
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in root.rglob("*.md")} == before


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("nothing.md", "x.md", "no file or folder of the vault"),
        ("notes", "notes/inner", "cannot move a folder into itself"),
        ("notes/tomato.md", "../outside.md", "not inside the vault"),
        ("notes/tomato.md", "a|b.md", "cannot be linked to"),
        ("link.md", "b.md", "is a symbolic link"),
        ("notes/tomato.md", "other/a.md/t.md", "other/a.md is a file, not a folder"),
    ],
)
def test_it_refuses_what_cannot_be_moved(tmp_path: Path, old: str, new: str, message: str) -> None:
    root = _vault(tmp_path, "[[tomato]]\n")
    (root / "link.md").symlink_to("notes/tomato.md")
    result = run_conceptgraph("mv", old, new, cwd=root)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert (root / "notes/tomato.md").exists()


def test_diff_shows_the_change_and_writes_nothing(tmp_path: Path) -> None:
    root = _vault(tmp_path, "See [[notes/tomato]].\n")
    result = run_conceptgraph("mv", "notes/tomato.md", "fruit/", "--diff", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "rename from notes/tomato.md\nrename to fruit/tomato.md\n" in result.stdout
    assert "-See [[notes/tomato]].\n+See [[fruit/tomato]].\n" in result.stdout
    assert (root / "notes/tomato.md").exists() and not (root / "fruit").exists()
    assert (root / "other/a.md").read_text() == "See [[notes/tomato]].\n"


def test_the_command_moves_and_says_so(tmp_path: Path) -> None:
    root = _vault(tmp_path, "See [[notes/tomato]].\n")
    result = run_conceptgraph("mv", "notes/tomato.md", "fruit/", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "Moved notes/tomato.md to fruit/tomato.md; rewrote 1 link in 1 file." in result.stderr
    assert (root / "other/a.md").read_text() == "See [[fruit/tomato]].\n"


def test_rename_heading_rewrites_the_heading_and_its_links(tmp_path: Path) -> None:
    linking = (
        "[[tomato#Ripe fruit]] ![[tomato#ripe fruit|r]] [x](../notes/tomato.md#Ripe%20fruit)\n"
        "[[tomato#Other]] [[tomato]]\n"
    )
    root = _vault(tmp_path, linking)
    (root / "notes/tomato.md").write_text(TOMATO + "\nSee [[#Ripe fruit]].\n")
    result = run_conceptgraph(
        "rename-heading", "notes/tomato.md", "Ripe fruit", "Ripe berry", cwd=root
    )
    assert result.returncode == 0, result.stderr
    assert (root / "notes/tomato.md").read_text() == (
        TOMATO.replace("## Ripe fruit", "## Ripe berry") + "\nSee [[#Ripe berry]].\n"
    )
    assert (root / "other/a.md").read_text() == (
        "[[tomato#Ripe berry]] ![[tomato#Ripe berry|r]] [x](../notes/tomato.md#Ripe%20berry)\n"
        "[[tomato#Other]] [[tomato]]\n"
    )


def test_several_moves_at_once_rewrite_each_link_for_where_all_end(tmp_path: Path) -> None:
    root = _vault(tmp_path, "[[notes/tomato]] [[../notes/tomato]]\n")
    plan = plan_moves(
        open_vault(root), [("notes/tomato.md", "fruit/tomato.md"), ("other/a.md", "x/y/a.md")]
    )
    apply_plan(plan)
    assert (root / "x/y/a.md").read_text() == "[[fruit/tomato]] [[../../fruit/tomato]]\n"
    with pytest.raises(UsageError, match="moved twice"):
        plan_moves(open_vault(root), [("x/y/a.md", "b.md"), ("x", "z")])


def test_rename_heading_follows_into_a_canvas_card(tmp_path: Path) -> None:
    canvas = '{"nodes":[{"id":"1","type":"file","file":"notes/tomato.md","subpath":"#Ripe fruit"}]}'
    root = _vault(tmp_path, "# A\n", **{"board.canvas": canvas})
    apply_plan(plan_rename_heading(open_vault(root), "notes/tomato.md", "Ripe fruit", "Ripe"))
    assert (root / "board.canvas").read_text() == canvas.replace("#Ripe fruit", "#Ripe")


def test_rename_heading_refuses_a_name_taken_or_twice_there(tmp_path: Path) -> None:
    root = _vault(tmp_path, "[[tomato#Ripe fruit]]\n")
    (root / "notes/tomato.md").write_text(TOMATO + "## Green\n## Green\n")
    vault = open_vault(root)
    with pytest.raises(EditError, match="already has a heading"):
        plan_rename_heading(vault, "notes/tomato.md", "Ripe fruit", "green")
    with pytest.raises(EditError, match="2 headings 'Green'"):
        plan_rename_heading(vault, "notes/tomato.md", "Green", "Blue")
    with pytest.raises(EditError, match="no heading"):
        plan_rename_heading(vault, "notes/tomato.md", "Absent", "Blue")
    with pytest.raises(UsageError, match="none of"):
        plan_rename_heading(vault, "notes/tomato.md", "Ripe fruit", "a#b")


def test_rename_block_rewrites_the_id_and_its_links(tmp_path: Path) -> None:
    root = _vault(tmp_path, "[[tomato#^red-one]] [[tomato#^RED-ONE|r]] [[tomato#^other]]\n")
    apply_plan(plan_rename_block(open_vault(root), "notes/tomato.md", "^red-one", "ripe"))
    assert (root / "notes/tomato.md").read_text() == TOMATO.replace("^red-one", "^ripe")
    assert (root / "other/a.md").read_text() == (
        "[[tomato#^ripe]] [[tomato#^ripe|r]] [[tomato#^other]]\n"
    )


def test_a_note_changed_since_the_plan_is_not_written(tmp_path: Path) -> None:
    root = _vault(tmp_path, "[[notes/tomato]]\n")
    plan = plan_move(open_vault(root), "notes/tomato.md", "fruit/tomato.md")
    (root / "other/a.md").write_text("[[notes/tomato]] edited\n")
    with pytest.raises(EditError, match="changed on disk"):
        apply_plan(plan)
    assert (root / "notes/tomato.md").exists()
    assert (root / "other/a.md").read_text() == "[[notes/tomato]] edited\n"


# A note renamed is another concept: rules about what its name says may speak differently.
_ABOUT_NAMES = frozenset(
    {
        "title-mismatch",
        "unresolved-negation",
        "duplicate-canonical",
        "alias-collision",
        "negation-contradicts-alias",
        "negation-contradicts-canonical",
        "negation-contradicts-type",
        "self-negation",
        "link-by-alias",
        # A new name another note has too: two concepts with one label.
        "overlapping-labels",
    }
)


# Rules that report a group of notes once, at whichever member sorts first: a move may change
# which one that is, never how many groups there are.
_PER_GROUP = frozenset({"disconnected-cluster"})


def _findings(root: Path, moved: dict[str, str] | None = None) -> Counter[tuple[str, int, str]]:
    moved = moved or {}
    return Counter(
        ("", 0, f.rule) if f.rule in _PER_GROUP else (moved.get(f.path, f.path), f.line, f.rule)
        for f in lint_paths([root], jobs=1).findings
    )


def _check_invariant(root: Path, old: str, new: str, ignore: frozenset[str] = frozenset()) -> None:
    """Findings after a move are those before (paths moved), less the ones the move fixed."""
    try:
        plan = plan_move(open_vault(root), old, new)
    except EditError:
        return  # refused (a symbolic link in the way): nothing was written
    before = _findings(root, {m.old: m.new for m in plan.moves})
    applied = apply_plan(plan)
    assert not applied.skipped
    # A link in a file that is not clean UTF-8 is reported and left: it may break there.
    left = {(plan.moved(skip.path), skip.line) for skip in plan.skipped}
    assert all("not clean UTF-8" in skip.reason for skip in plan.skipped)
    added = Counter(
        {
            k: n
            for k, n in (_findings(root) - before).items()
            if k[2] not in ignore and k[:2] not in left
        }
    )
    assert added == Counter(), f"{old} -> {new}: new findings {added}"


FIXTURE_VAULTS = sorted(p for p in FIXTURES.glob("*/*") if p.is_dir())


@pytest.mark.parametrize("fixture", FIXTURE_VAULTS, ids=lambda p: p.name)
def test_a_move_adds_no_finding_in_any_fixture_vault(tmp_path: Path, fixture: Path) -> None:
    root = tmp_path / fixture.name
    shutil.copytree(fixture, root, symlinks=True)
    notes = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.md") if not p.is_symlink())
    for index, path in enumerate(notes[:3]):
        # Into a new folder, keeping its name: the rules about names have nothing to say.
        _check_invariant(root, path, f"moved-{index}/{path}")
    # The note most linked to, renamed; a rename may change what the name rules say.
    vault = open_vault(root)
    notes = sorted(p for p in vault.notes if p.endswith(".md") and not (root / p).is_symlink())
    backlinks = vault.backlinks
    linked = max(notes, key=lambda p: (len(backlinks.get(p, ())), p))
    _check_invariant(root, linked, "renamed/a-new-name.md", ignore=_ABOUT_NAMES)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated") / "vault"
    generate_vault(root, notes=60, seed=3, defects=True)
    return root


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_moves_in_a_generated_vault_add_no_finding(
    generated: Path, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "vault"
        shutil.copytree(generated, root)
        for _ in range(data.draw(st.integers(1, 3), label="moves")):
            files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.md"))
            folders = sorted({posixpath.dirname(p) for p in files} | {"new", "deep/er"})
            old = data.draw(st.sampled_from(files), label="note")
            name = data.draw(
                st.sampled_from(
                    [posixpath.basename(old), "renamed.md", posixpath.basename(files[0])]
                ),
                label="name",
            )
            new = posixpath.join(data.draw(st.sampled_from(folders), label="folder"), name)
            if new == old or (root / new).exists():
                continue
            try:
                plan = plan_move(open_vault(root), old, new)
            except (EditError, UsageError):
                continue
            moved = {m.old: m.new for m in plan.moves}
            renamed = posixpath.basename(new) != posixpath.basename(old)
            before = _findings(root, moved)
            applied = apply_plan(plan)
            assert not applied.skipped, applied.skipped
            assert not plan.skipped, plan.skipped
            after = _findings(root)
            new_findings = after - before
            if renamed:
                new_findings = Counter(
                    {key: n for key, n in new_findings.items() if key[2] not in _ABOUT_NAMES}
                )
            assert new_findings == Counter(), f"{old} -> {new}"


def test_a_link_that_cannot_be_rewritten_is_named_and_the_exit_is_1(tmp_path: Path) -> None:
    root = _vault(tmp_path, "---\nup: '[[tomato]]'\n---\n# A\n\n[[tomato]]\n")
    result = run_conceptgraph("mv", "notes/tomato.md", "notes/tom'ato.md", cwd=root)
    assert result.returncode == 1, result.stderr
    assert "other/a.md:2: link not rewritten: the new link would need escapes" in result.stderr
    assert (root / "other/a.md").read_text() == "---\nup: '[[tomato]]'\n---\n# A\n\n[[tom'ato]]\n"
    assert (root / "notes/tom'ato.md").exists()
