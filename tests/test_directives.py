"""Inline ``<!-- conceptgraph-... -->`` directives and config ``[per-path-ignores]``.

Each test writes a small real vault and lints it with ``lint_paths``, as the CLI does. Every
vault holds an ``index.md`` that links to the other notes, so that orphan-note stays quiet.
"""

from pathlib import Path

import pytest

from conceptgraph.api import lint_paths
from conceptgraph.lint.report import text_report

Found = set[tuple[str, int, str]]


def lint_vault(root: Path, files: dict[str, str]) -> Found:
    """Write the files into a vault at ``root`` and return (path, line, rule) of each finding."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    findings = lint_paths([root], jobs=1).findings
    crashes = [f for f in findings if "internal error" in f.message]
    assert not crashes, text_report(crashes)
    return {(f.path, f.line, f.rule) for f in findings}


def lint_note(tmp_path: Path, body: str, **others: str) -> Found:
    """Lint a vault of one note ``note.md`` (plus ``others``) and its index."""
    files = {"note.md": body, "index.md": "# Index\n\n[[note]]\n"}
    files.update({f"{name}.md": text for name, text in others.items()})
    return lint_vault(tmp_path / "vault", files)


def broken(found: Found, path: str = "note.md") -> list[int]:
    """The lines of ``path`` with a broken-link finding."""
    return sorted(line for p, line, rule in found if p == path and rule == "broken-link")


# --------------------------------------------------------------------------------- disable / enable


def test_disable_and_enable_silence_the_lines_between(tmp_path: Path) -> None:
    body = (
        "# Note\n"  # 1
        "\n"  # 2
        "Before [[gone-1]].\n"  # 3
        "\n"  # 4
        "<!-- conceptgraph-disable broken-link -->\n"  # 5
        "\n"  # 6
        "Inside [[gone-2]].\n"  # 7
        "\n"  # 8
        "- and in a list [[gone-3]]\n"  # 9
        "\n"  # 10
        "<!-- conceptgraph-enable broken-link -->\n"  # 11
        "\n"  # 12
        "After [[gone-4]].\n"  # 13
    )
    assert broken(lint_note(tmp_path, body)) == [3, 13]


def test_disable_without_enable_lasts_to_the_end_of_the_file(tmp_path: Path) -> None:
    body = "# Note\n\n[[gone-1]]\n\n<!-- conceptgraph-disable broken-link -->\n\n[[gone-2]]\n"
    assert broken(lint_note(tmp_path, body)) == [3]


def test_disable_of_one_rule_leaves_the_others_on(tmp_path: Path) -> None:
    body = (
        "# Note\n"  # 1
        "\n"  # 2
        "<!-- conceptgraph-disable self-link -->\n"  # 3
        "\n"  # 4
        "[[gone]] and [[note]]\n"  # 5
    )
    found = lint_note(tmp_path, body)
    assert ("note.md", 5, "broken-link") in found
    assert ("note.md", 5, "self-link") not in found


def test_enable_of_one_rule_after_disable_of_all(tmp_path: Path) -> None:
    body = (
        "# Note\n"  # 1
        "\n"  # 2
        "<!-- conceptgraph-disable -->\n"  # 3
        "<!-- conceptgraph-enable broken-link -->\n"  # 4
        "\n"  # 5
        "[[gone]] and [[note]]\n"  # 6
    )
    found = lint_note(tmp_path, body)
    assert ("note.md", 6, "broken-link") in found
    assert ("note.md", 6, "self-link") not in found


# ------------------------------------------------------------------------------------- single lines


def test_disable_next_line_silences_only_the_next_line(tmp_path: Path) -> None:
    body = (
        "# Note\n"  # 1
        "\n"  # 2
        "<!-- conceptgraph-disable-next-line broken-link -->\n"  # 3
        "[[gone-1]]\n"  # 4
        "[[gone-2]]\n"  # 5
    )
    assert broken(lint_note(tmp_path, body)) == [5]


def test_disable_line_silences_its_own_line(tmp_path: Path) -> None:
    body = (
        "# Note\n"  # 1
        "\n"  # 2
        "- [[gone-1]] <!-- conceptgraph-disable-line broken-link -->\n"  # 3
        "- [[gone-2]]\n"  # 4
        "\n"  # 5
        "A paragraph over two lines, [[gone-3]]\n"  # 6
        "and [[gone-4]] <!-- conceptgraph-disable-line broken-link -->\n"  # 7
    )
    assert broken(lint_note(tmp_path, body)) == [4, 6]


def test_disable_file_silences_the_whole_file_before_and_after_it(tmp_path: Path) -> None:
    body = (
        "# Note\n"  # 1
        "\n"  # 2
        "[[gone-1]] and [[note]]\n"  # 3
        "\n"  # 4
        "<!-- conceptgraph-disable-file broken-link -->\n"  # 5
        "\n"  # 6
        "[[gone-2]]\n"  # 7
    )
    other = "# Other\n\n[[gone-3]] and [[index]]\n"
    found = lint_note(tmp_path, body, other=other)
    assert broken(found) == []
    assert ("note.md", 3, "self-link") in found
    assert broken(found, "other.md") == [3], "a directive reaches only its own file"


def test_disable_file_silences_a_vault_rule(tmp_path: Path) -> None:
    files = {
        "index.md": "# Index\n",
        "lonely.md": "# Lonely\n\n<!-- conceptgraph-disable-file orphan-note -->\n",
    }
    found = lint_vault(tmp_path / "vault", files)
    assert ("index.md", 1, "orphan-note") in found
    assert not [f for f in found if f[0] == "lonely.md"]


# --------------------------------------------------------------------------- what a directive names


def test_a_family_name_covers_its_rules(tmp_path: Path) -> None:
    body = (
        "# Note\n"  # 1
        "\n"  # 2
        "<!-- conceptgraph-disable-next-line links -->\n"  # 3
        "[[gone]] and [[note]]\n"  # 4
        "<!-- conceptgraph-disable-next-line text -->\n"  # 5
        "[[gone-too]]\n"  # 6
    )
    found = lint_note(tmp_path, body)
    assert not [f for f in found if f[1] == 4]
    assert ("note.md", 6, "broken-link") in found


def test_a_directive_may_name_several_rules(tmp_path: Path) -> None:
    body = (
        "# Note\n"  # 1
        "\n"  # 2
        "<!-- conceptgraph-disable-next-line broken-link, self-link -->\n"  # 3
        "[[gone]] and [[note]]\n"  # 4
        "<!-- conceptgraph-disable-next-line broken-link self-link -->\n"  # 5
        "[[gone-too]] and [[note]]\n"  # 6
    )
    found = lint_note(tmp_path, body)
    assert not [f for f in found if f[1] in (4, 6)], found


def test_a_directive_without_rules_covers_every_rule(tmp_path: Path) -> None:
    body = (
        "# Note\n"  # 1
        "\n"  # 2
        "<!-- conceptgraph-disable-next-line -->\n"  # 3
        "[[gone]] and [[note]]\n"  # 4
        "[[gone-too]] and [[note]]\n"  # 5
    )
    found = lint_note(tmp_path, body)
    assert not [f for f in found if f[1] == 4], found
    assert {("note.md", 5, "broken-link"), ("note.md", 5, "self-link")} <= found


def test_a_directive_for_another_rule_silences_nothing(tmp_path: Path) -> None:
    body = "# Note\n\n[[gone]] <!-- conceptgraph-disable-line self-link -->\n"
    assert broken(lint_note(tmp_path, body)) == [3]


# -------------------------------------------------------------------------- code is not a directive


@pytest.mark.parametrize(
    "code",
    [
        "`<!-- conceptgraph-disable-file -->` in a code span\n",
        "```markdown\n<!-- conceptgraph-disable-file -->\n```\n",
        "~~~\n<!-- conceptgraph-disable -->\n~~~\n",
        "    <!-- conceptgraph-disable-file -->\n",
    ],
    ids=["code-span", "fenced", "tilde-fenced", "indented"],
)
def test_a_directive_in_code_does_nothing(tmp_path: Path, code: str) -> None:
    body = "# Note\n\n" + code + "\n[[gone]]\n"
    line = body.splitlines().index("[[gone]]") + 1
    assert broken(lint_note(tmp_path, body)) == [line]


def test_a_directive_in_a_code_span_on_the_line_does_nothing(tmp_path: Path) -> None:
    body = "# Note\n\n[[gone]] `<!-- conceptgraph-disable-line -->`\n"
    assert broken(lint_note(tmp_path, body)) == [3]


# --------------------------------------------------------------------------------- per-path-ignores


def test_per_path_ignores_turn_a_family_off_for_matching_paths(tmp_path: Path) -> None:
    files = {
        "conceptgraph.toml": '[per-path-ignores]\n"drafts/*.md" = ["links"]\n',
        "index.md": "# Index\n\n[[draft]], [[kept]], [[gone-1]]\n",
        "drafts/draft.md": "# Draft\n\n[[gone-2]] and [[draft]]\n",
        "kept.md": "# Kept\n\n[[gone-3]]\n",
        "drafts/lonely.md": "# Lonely\n",
    }
    found = lint_vault(tmp_path / "vault", files)
    assert not [f for f in found if f[0].startswith("drafts/")], found
    assert ("index.md", 3, "broken-link") in found
    assert ("kept.md", 3, "broken-link") in found


def test_per_path_ignores_take_rule_names_and_leave_other_rules_on(tmp_path: Path) -> None:
    files = {
        "conceptgraph.toml": '[per-path-ignores]\n"drafts/*.md" = ["broken-link"]\n',
        "index.md": "# Index\n\n[[draft]]\n",
        "drafts/draft.md": "# Draft\n\n[[gone]] and [[draft]]\n",
    }
    found = lint_vault(tmp_path / "vault", files)
    assert ("drafts/draft.md", 3, "self-link") in found
    assert ("drafts/draft.md", 3, "broken-link") not in found
