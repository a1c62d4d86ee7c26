"""Safe fixes: the library (conceptgraph.lint.fix) and `conceptgraph lint --fix` / `--diff`.

Every test works on real files in a temp folder; byte-exactness is checked against the
original bytes, not against our own reading of them.
"""

from __future__ import annotations

import codecs
import dataclasses
import shutil
import stat
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from conceptgraph.api import LintResult, lint_paths
from conceptgraph.lint.fix import FixReport, apply_fixes, fix_paths, plan_fixes, unified_diff
from conceptgraph.model import Edit, Finding, Fix, Severity, Span
from tests.conftest import FIXTURES
from tests.test_cli import run

MIGRATION = FIXTURES / "text" / "mojibake" / "migration.md"
DAMAGED = "â†’".encode()
ARROW = "→".encode()


def vault_with(tmp_path: Path, files: dict[str, bytes]) -> Path:
    root = tmp_path / "vault"
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / ".obsidian").mkdir(exist_ok=True)
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


# --- mojibake on the real note -------------------------------------------------------------


def _repaired_migration() -> bytes:
    """The sample with exactly the two damaged arrows on line 25 replaced, by bytes."""
    original = MIGRATION.read_bytes()
    lines = original.split(b"\n")
    assert original.count(DAMAGED) == 2
    assert lines[24].count(DAMAGED) == 2
    lines[24] = lines[24].replace(DAMAGED, ARROW)
    return b"\n".join(lines)


def test_fix_repairs_only_the_two_arrows_of_migration(tmp_path: Path) -> None:
    vault = vault_with(tmp_path, {"migration.md": MIGRATION.read_bytes()})
    note = vault / "migration.md"
    original = note.read_bytes()

    result = run("lint", "--fix", vault)
    assert "Fixed 1 finding in 1 file." in result.stderr, result.stderr
    assert "mojibake" not in result.stdout
    # What is left decides the exit status: the sample's links lead to notes not copied here.
    assert result.returncode == 1
    assert "broken-link" in result.stdout

    fixed = note.read_bytes()
    assert fixed == _repaired_migration()
    # Every byte outside the two edited spans is the original byte.
    first = original.index(DAMAGED)
    second = original.index(DAMAGED, first + 1)
    shift = len(DAMAGED) - len(ARROW)
    assert fixed[:first] == original[:first]
    assert fixed[first : first + len(ARROW)] == ARROW
    assert fixed[first + len(ARROW) : second - shift] == original[first + len(DAMAGED) : second]
    assert fixed[second - shift : second - shift + len(ARROW)] == ARROW
    assert fixed[second - shift + len(ARROW) :] == original[second + len(DAMAGED) :]


def test_fix_is_idempotent(tmp_path: Path) -> None:
    vault = vault_with(tmp_path, {"migration.md": MIGRATION.read_bytes()})
    run("lint", "--fix", vault)
    after_first = snapshot(vault)
    mtime = (vault / "migration.md").stat().st_mtime_ns

    second = run("lint", "--fix", vault)
    assert "Fixed 0 findings in 0 files." in second.stderr
    assert snapshot(vault) == after_first
    # Nothing was even rewritten with the same bytes.
    assert (vault / "migration.md").stat().st_mtime_ns == mtime
    assert run("lint", "--diff", vault).stdout == ""


def test_typography_is_not_mojibake(tmp_path: Path) -> None:
    text = (
        "# Typography\n\n“Curly quotes” — em dashes – en dashes, it’s café, naïve, 1…2.\n"
        "\u2018Single\u2019 quotes and « guillemets », ½ and ©.\n"
    ).encode()
    vault = vault_with(tmp_path, {"typography.md": text})
    result = run("lint", "--fix", vault)
    assert "Fixed 0 findings in 0 files." in result.stderr
    assert (vault / "typography.md").read_bytes() == text


def test_damage_beside_typography_on_one_line(tmp_path: Path) -> None:
    line = "Mixed: “A” — it’s â†’ B\n"
    vault = vault_with(tmp_path, {"mixed.md": f"# Mixed\n\n{line}".encode()})
    run("lint", "--fix", vault)
    assert (vault / "mixed.md").read_text(encoding="utf-8") == "# Mixed\n\nMixed: “A” — it’s → B\n"


def test_byte_order_mark_is_kept(tmp_path: Path) -> None:
    body = "# Bom\n\nA â†’ B\n".encode()
    vault = vault_with(tmp_path, {"bom.md": codecs.BOM_UTF8 + body})
    run("lint", "--fix", vault)
    assert (vault / "bom.md").read_bytes() == codecs.BOM_UTF8 + "# Bom\n\nA → B\n".encode()


def test_a_note_that_is_not_utf8_is_never_fixed(tmp_path: Path) -> None:
    # Read with a replacement character, it would be written back with one.
    data = "# Bad\n\nA â†’ B, caf".encode() + b"\xe9\n"
    vault = vault_with(tmp_path, {"bad.md": data})
    result = run("lint", "--fix", vault)
    assert (vault / "bad.md").read_bytes() == data
    assert "bad.md: not fixed: the file is not clean UTF-8 text" in result.stderr
    assert "invalid-encoding" in result.stdout


# --- line endings ----------------------------------------------------------------------------


def test_line_endings_of_a_mixed_file(tmp_path: Path) -> None:
    data = b"# Mixed\n\nOne\r\nTwo\nThree\r\nFour\n"
    vault = vault_with(tmp_path, {"mixed.md": data})
    result = run("lint", "--fix", vault)
    assert "Fixed 1 finding in 1 file." in result.stderr
    assert (vault / "mixed.md").read_bytes() == b"# Mixed\n\nOne\nTwo\nThree\nFour\n"
    assert "line-endings" not in result.stdout
    assert run("lint", "--diff", vault).returncode == 0


def test_line_endings_to_the_majority_crlf_and_a_last_line_without_end(tmp_path: Path) -> None:
    data = b"# Crlf\r\n\r\nOne\nTwo\r\nThree\rFour"
    vault = vault_with(tmp_path, {"crlf.md": data})
    run("lint", "--fix", vault)
    assert (vault / "crlf.md").read_bytes() == b"# Crlf\r\n\r\nOne\r\nTwo\r\nThree\r\nFour"


def test_line_endings_fixture(tmp_path: Path) -> None:
    vault = tmp_path / "line-endings"
    shutil.copytree(FIXTURES / "text" / "line-endings", vault)
    original = snapshot(vault)
    run("lint", "--fix", vault)
    fixed = snapshot(vault)
    for rel, data in original.items():
        if not rel.endswith(".md"):
            continue
        # Only line ends change: the text between them is the same, line for line.
        assert fixed[rel].splitlines() == data.replace(b"\r\n", b"\n").splitlines(), rel
    assert "line-endings" not in run("lint", vault).stdout


# --- links -----------------------------------------------------------------------------------


ALIAS_VAULT = {
    "migration.md": b"---\naliases:\n  - transition\n---\n# Migration\n\nBack to [[index]].\n",
    "index.md": (
        b"# Index\n\nSee [[transition]] and ![[transition#Migration]].\n\n"
        b"| link | cell |\n| --- | --- |\n| [[transition\\|x]] | y |\n"
    ),
}


def test_link_by_alias(tmp_path: Path) -> None:
    vault = vault_with(tmp_path, ALIAS_VAULT)
    result = run("lint", "--fix", vault)
    assert "Fixed 3 findings in 1 file." in result.stderr, result.stderr
    assert (vault / "index.md").read_bytes() == (
        b"# Index\n\nSee [[migration|transition]] and ![[migration#Migration|transition]].\n\n"
        b"| link | cell |\n| --- | --- |\n| [[migration\\|x]] | y |\n"
    )
    assert (vault / "migration.md").read_bytes() == ALIAS_VAULT["migration.md"]
    assert result.returncode == 0, result.stdout


def test_link_by_alias_fixture_vault(tmp_path: Path) -> None:
    vault = tmp_path / "link-by-alias"
    shutil.copytree(FIXTURES / "links" / "link-by-alias", vault)
    run("lint", "--fix", vault)
    text = (vault / "index.md").read_text(encoding="utf-8")
    assert "- [[migration|transition]] <!-- expect" in text
    assert "- [[migration|moving]] aliases" in text
    assert "| [[migration\\|in a table]] |" in text
    # An alias of two notes has no safe fix.
    assert "- [[common]] is an alias" in text
    again = snapshot(vault)
    run("lint", "--fix", vault)
    assert snapshot(vault) == again


# --- writing ---------------------------------------------------------------------------------


def test_a_note_changed_after_lint_is_not_clobbered(tmp_path: Path) -> None:
    vault = vault_with(tmp_path, {"a.md": "# A\n\nA â†’ B\n".encode()})
    result = lint_paths([vault], jobs=1)
    edited = "# A\n\nA â†’ B, and a line the user typed meanwhile\n".encode()
    (vault / "a.md").write_bytes(edited)

    report = apply_fixes(result)
    assert report.files == ()
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("a.md", "changed on disk since it was linted; run again")
    ]
    assert (vault / "a.md").read_bytes() == edited


def test_a_note_deleted_after_lint_is_not_recreated(tmp_path: Path) -> None:
    vault = vault_with(tmp_path, {"a.md": "# A\n\nA â†’ B\n".encode()})
    result = lint_paths([vault], jobs=1)
    (vault / "a.md").unlink()
    report = apply_fixes(result)
    assert report.files == ()
    assert "cannot read it again" in report.skipped[0].reason
    assert not (vault / "a.md").exists()


def test_file_mode_is_kept(tmp_path: Path) -> None:
    vault = vault_with(tmp_path, {"a.md": "# A\n\nA â†’ B\n".encode()})
    note = vault / "a.md"
    note.chmod(0o640)
    run("lint", "--fix", vault)
    assert note.read_text(encoding="utf-8") == "# A\n\nA → B\n"
    assert stat.S_IMODE(note.stat().st_mode) == 0o640
    assert [p.name for p in vault.iterdir() if p.name.endswith(".tmp")] == []


def test_a_symlinked_note_is_written_through_its_link(tmp_path: Path) -> None:
    vault = vault_with(tmp_path, {"real/a.md": "# A\n\nA â†’ B\n".encode()})
    (vault / "link.md").symlink_to(vault / "real" / "a.md")
    lint = lint_paths([vault / "link.md"], jobs=1)
    apply_fixes(lint)
    assert (vault / "link.md").is_symlink()
    assert (vault / "real" / "a.md").read_text(encoding="utf-8") == "# A\n\nA → B\n"


def test_a_decomposed_file_name_is_written_in_place(tmp_path: Path) -> None:
    # macOS writes NFD names; the vault path is NFC. The fix must not create a second file.
    name = unicodedata.normalize("NFD", "café.md")
    vault = vault_with(tmp_path, {name: "# Café\n\nA â†’ B\n".encode()})
    report = apply_fixes(lint_paths([vault], jobs=1))
    assert report.fixed == 1
    assert sorted(p.name for p in vault.glob("*.md")) == [name]
    assert (vault / name).read_text(encoding="utf-8") == "# Café\n\nA → B\n"


def test_only_named_notes_are_fixed(tmp_path: Path) -> None:
    damaged = "# A\n\nA â†’ B\n".encode()
    vault = vault_with(tmp_path, {"a.md": damaged, "b.md": damaged})
    run("lint", "--fix", vault / "a.md")
    assert (vault / "a.md").read_text(encoding="utf-8") == "# A\n\nA → B\n"
    assert (vault / "b.md").read_bytes() == damaged


def test_library_reports_counts_per_rule(tmp_path: Path) -> None:
    vault = vault_with(
        tmp_path,
        {
            **ALIAS_VAULT,
            "damaged.md": "# D\r\n\r\nA â†’ B\nC\r\n[[index]] [[migration]]\r\n".encode(),
        },
    )
    report, left = fix_paths([vault], jobs=1)
    by_file = {change.path: dict(change.rules) for change in report.files}
    assert by_file == {
        "damaged.md": {"mojibake": 1, "line-endings": 1},
        "index.md": {"link-by-alias": 3},
    }
    assert report.rules == {"mojibake": 1, "line-endings": 1, "link-by-alias": 3}
    assert report.fixed == 5
    assert not [f for f in left.findings if f.fix is not None]
    assert (
        vault / "damaged.md"
    ).read_bytes() == "# D\r\n\r\nA → B\r\nC\r\n[[index]] [[migration]]\r\n".encode()


# --- edits: offsets, overlaps, line ends -----------------------------------------------------


def _with_fixes(tmp_path: Path, text: str, fixes: list[Fix]) -> tuple[Path, LintResult]:
    vault = vault_with(tmp_path, {"n.md": text.encode()})
    result = lint_paths([vault], jobs=1)
    made = [
        Finding.at("n.md", fix.edits[0].span, f"rule-{i}", Severity.WARNING, "made up", fix)
        for i, fix in enumerate(fixes)
    ]
    return vault, dataclasses.replace(
        result, findings=sorted(made), roots=[result.vaults[0].root] * len(made)
    )


def test_overlapping_fix_is_deferred_whole(tmp_path: Path) -> None:
    first = Fix("first", (Edit(Span(1, 1, 1, 4), "AAA"),))
    # Its first edit is fine, its second overlaps `first`: neither is applied.
    second = Fix("second", (Edit(Span(1, 6, 1, 7), "x"), Edit(Span(1, 3, 1, 5), "y")))
    third = Fix("third", (Edit(Span(2, 1, 2, 1), ">"),))
    vault, result = _with_fixes(tmp_path, "abcdefgh\nline two\n", [first, second, third])
    report = apply_fixes(result)
    assert (vault / "n.md").read_text(encoding="utf-8") == "AAAdefgh\n>line two\n"
    assert report.fixed == 2
    assert report.deferred == 1


def test_identical_edits_apply_once(tmp_path: Path) -> None:
    same = Fix("same", (Edit(Span(1, 1, 1, 2), "Z"),))
    vault, result = _with_fixes(tmp_path, "abc\n", [same, same])
    report = apply_fixes(result)
    assert (vault / "n.md").read_text(encoding="utf-8") == "Zbc\n"
    assert report.fixed == 2


def test_insertions_at_one_place_conflict(tmp_path: Path) -> None:
    one = Fix("one", (Edit(Span(1, 2, 1, 2), "1"),))
    two = Fix("two", (Edit(Span(1, 2, 1, 2), "2"),))
    vault, result = _with_fixes(tmp_path, "abc\n", [one, two])
    apply_fixes(result)
    assert (vault / "n.md").read_text(encoding="utf-8") == "a1bc\n"


def test_an_edit_may_span_line_ends(tmp_path: Path) -> None:
    # Join lines 1-3 across a CRLF and an LF: columns one past a line are its line end.
    join = Fix("join", (Edit(Span(1, 4, 3, 1), " "),))
    vault, result = _with_fixes(tmp_path, "one\r\ntwo\nthree\n", [join])
    apply_fixes(result)
    assert (vault / "n.md").read_bytes() == b"one three\n"


def test_an_edit_outside_the_text_is_refused(tmp_path: Path) -> None:
    past_line = Fix("past", (Edit(Span(1, 6, 1, 7), "!"),))
    past_file = Fix("past", (Edit(Span(9, 1, 9, 1), "!"),))
    vault, result = _with_fixes(tmp_path, "abc\n", [past_line, past_file])
    report = apply_fixes(result)
    assert (vault / "n.md").read_text(encoding="utf-8") == "abc\n"
    assert len(report.skipped) == 2
    assert all("fix outside the text" in s.reason for s in report.skipped)


def test_unsafe_fixes_are_not_applied(tmp_path: Path) -> None:
    unsafe = Fix("unsafe", (Edit(Span(1, 1, 1, 2), "Z"),), safe=False)
    _, result = _with_fixes(tmp_path, "abc\n", [unsafe])
    assert plan_fixes(result).files == ()


def test_columns_count_code_points_not_bytes(tmp_path: Path) -> None:
    fix = Fix("astral", (Edit(Span(1, 3, 1, 4), "B"),))
    vault, result = _with_fixes(tmp_path, "😀éb!\n", [fix])
    apply_fixes(result)
    assert (vault / "n.md").read_text(encoding="utf-8") == "😀éB!\n"


# --- --diff ----------------------------------------------------------------------------------


def test_diff_format_and_writes_nothing(tmp_path: Path) -> None:
    vault = vault_with(
        tmp_path,
        {
            "migration.md": b"---\naliases: [transition]\n---\n# Migration\n\n[[index]]\n",
            "sub/index.md": b"# Index\n\n[[transition]] [[migration]]\n\nA " + DAMAGED + b" B",
        },
    )
    before = snapshot(vault)
    times = {p: p.stat().st_mtime_ns for p in vault.rglob("*.md")}

    result = run("lint", "--diff", vault)
    assert result.returncode == 1
    assert result.stdout == (
        "--- a/sub/index.md\n"
        "+++ b/sub/index.md\n"
        "@@ -1,5 +1,5 @@\n"
        " # Index\n"
        " \n"
        "-[[transition]] [[migration]]\n"
        "+[[migration|transition]] [[migration]]\n"
        " \n"
        "-A â†’ B\n"
        "\\ No newline at end of file\n"
        "+A → B\n"
        "\\ No newline at end of file\n"
    )
    assert "Would fix 2 findings in 1 file." in result.stderr
    assert snapshot(vault) == before
    assert {p: p.stat().st_mtime_ns for p in vault.rglob("*.md")} == times


def test_diff_applies_with_git_to_what_fix_writes(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    data = {
        **ALIAS_VAULT,
        "damaged.md": MIGRATION.read_bytes().replace(b"transition", b"shift"),
        "mixed.md": b"# Mixed\r\n\r\nOne\nTwo\r\n",
    }
    by_diff = vault_with(tmp_path / "diff", data)
    by_fix = vault_with(tmp_path / "fix", data)
    # Bytes, not text: universal newlines would turn the CRLF being fixed into LF.
    patch = subprocess.run(
        [sys.executable, "-m", "conceptgraph", "lint", "--diff", str(by_diff)],
        capture_output=True,
        timeout=120,
        check=False,
    ).stdout
    assert patch.count(b"--- a/") == 3
    assert b"-One\n+One\r\n" in patch
    (tmp_path / "fixes.patch").write_bytes(patch)
    subprocess.run(
        ["git", "apply", "--unsafe-paths", "--whitespace=nowarn", str(tmp_path / "fixes.patch")],
        cwd=by_diff,
        check=True,
        capture_output=True,
    )
    run("lint", "--fix", by_fix)
    assert snapshot(by_diff) == snapshot(by_fix)


def test_diff_of_a_clean_vault_is_empty_and_exits_0(tmp_path: Path) -> None:
    vault = vault_with(tmp_path, {"a.md": b"# A\n\n[[b]]\n", "b.md": b"# B\n\n[[a]]\n"})
    result = run("lint", "--diff", vault)
    assert (result.returncode, result.stdout) == (0, "")
    assert "Would fix 0 findings in 0 files." in result.stderr


def test_diff_with_fix_still_writes_nothing(tmp_path: Path) -> None:
    vault = vault_with(tmp_path, {"a.md": "# A\n\nA â†’ B\n".encode()})
    before = snapshot(vault)
    result = run("lint", "--fix", "--diff", vault)
    assert result.returncode == 1
    assert "+A → B" in result.stdout
    assert snapshot(vault) == before


def test_unified_diff_of_nothing_is_empty() -> None:
    assert unified_diff(FixReport()) == ""


def test_fix_exit_status_is_from_what_is_left(tmp_path: Path) -> None:
    vault = vault_with(
        tmp_path, {"a.md": "# A\n\nA â†’ B [[b]]\n".encode(), "b.md": b"# B\n\n[[a]]\n"}
    )
    before = run("lint", vault)
    assert before.returncode == 1
    result = run("lint", "--fix", vault)
    assert result.returncode == 0, result.stdout
    assert result.stdout == ""
    assert "No findings" in result.stderr


def test_fix_respects_quiet(tmp_path: Path) -> None:
    vault = vault_with(tmp_path, {"a.md": "# A\n\nA â†’ B\n".encode()})
    assert "Fixed" not in run("lint", "--fix", "--quiet", vault).stderr


def test_a_failed_write_is_reported_and_leaves_the_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root in CI, where a read-only folder does not stop a write: fail it here.
    def refuse(target: Path, data: bytes, mode: int | None) -> Path:
        raise PermissionError(13, "Permission denied", str(target))

    damaged = "# A\n\nA â†’ B\n".encode()
    vault = vault_with(tmp_path, {"a.md": damaged})
    monkeypatch.setattr("conceptgraph.guard.write_temp", refuse)
    report = apply_fixes(lint_paths([vault], jobs=1))
    assert report.files == ()
    assert [str(s) for s in report.skipped] == [
        "a.md: not fixed: cannot write it: Permission denied"
    ]
    assert (vault / "a.md").read_bytes() == damaged


def test_two_vaults_with_the_same_note_path(tmp_path: Path) -> None:
    damaged = "# A\n\nA â†’ B\n".encode()
    one = vault_with(tmp_path / "one", {"a.md": damaged})
    two = vault_with(tmp_path / "two", {"a.md": damaged + b"two\r\n"})
    result = run("lint", "--fix", one, two)
    assert "Fixed 3 findings in 2 files." in result.stderr, result.stderr
    assert (one / "a.md").read_bytes() == "# A\n\nA → B\n".encode()
    assert (two / "a.md").read_bytes() == "# A\n\nA → B\ntwo\n".encode()
