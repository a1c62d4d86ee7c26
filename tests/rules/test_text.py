"""The text family: mojibake, invalid-encoding, line-endings and unreadable-file.

Most cases live in the fixture vaults under tests/fixtures/text/; the tests below them check what
a marker cannot say: exact columns, that fixes repair the text, and the byte-exact copy of the
sample note.
"""

import filecmp
import hashlib
import re
import shutil
from pathlib import Path

import pytest

from conceptgraph.api import lint_paths
from conceptgraph.lint.report import text_report
from conceptgraph.model import Finding, Fix, NoteRecord
from conceptgraph.note.parse import parse_note
from tests.conftest import FIXTURES, check_fixture, expected_markers, fixture_vaults

# The user's note of DESIGN.md section 1, and its SHA-256: the fixture must stay that file byte
# for byte, damage included, even where the shared copy is not at hand.
SAMPLE = Path("/work/shared/vault-sample/migration.md")
SAMPLE_SHA256 = "8393eec420bab422a2cd6ccebacb9ed210374efe6ca81976838fd3d7ed2b78d4"
TEXT = FIXTURES / "text"
# A dangling symbolic link cannot be read, not even by the marker harness, and one that leads
# out of its vault must not be: see below.
_UNREADABLE = "unreadable-file"
_OUTSIDE = "symlink-out-of-vault"
_SIDECARS = (_UNREADABLE, _OUTSIDE)


@pytest.mark.parametrize(
    "vault",
    [p for p in fixture_vaults("text") if p.name not in _SIDECARS],
    ids=lambda p: p.name,
)
def test_text_rule(vault: Path, request: pytest.FixtureRequest) -> None:
    check_fixture(vault, vault.name, request.config.getoption("--update-expected"))


def _sidecar(vault: Path) -> set[tuple[str, int, str]]:
    found = set()
    for line in (vault / "EXPECTED").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            where, rule = line.split()
            rel, number = where.rsplit(":", 1)
            found.add((rel, int(number), rule))
    return found


@pytest.mark.parametrize("name", _SIDECARS)
def test_rules_of_links_checked_from_their_sidecar(
    name: str, request: pytest.FixtureRequest
) -> None:
    # The harness reads every *.md for markers and would fail on the dangling link gone.md (or
    # read secret.md out of its vault), so these folders are checked here from their EXPECTED
    # file alone, with the same snapshot.
    vault = TEXT / name
    links = [p for p in vault.iterdir() if p.is_symlink()]
    assert links
    findings = lint_paths([vault], jobs=1).findings
    got = {(f.path, f.line, f.rule) for f in findings if f.rule in _SIDECARS}
    assert got == _sidecar(vault), text_report(findings)
    snapshot = vault / "expected.txt"
    output = text_report(findings)
    if request.config.getoption("--update-expected") or not snapshot.exists():
        snapshot.write_text(output, encoding="utf-8")
    assert output == snapshot.read_text(encoding="utf-8")


def _lint(vault: Path) -> list[Finding]:
    return lint_paths([vault], jobs=1).findings


def _only(findings: list[Finding], rule: str, path: str) -> Finding:
    matching = [f for f in findings if f.rule == rule and f.path == path]
    assert len(matching) == 1, text_report(findings)
    return matching[0]


def _apply(text: str, fix: Fix) -> str:
    """Apply a fix's edits (1-based line/column spans, end exclusive) to the text it was made on."""
    lines = NoteRecord(path="x.md", text=text).lines()
    breaks = [m.group() for m in re.finditer(r"\r\n|\r|\n", text)]
    starts = [0]
    for line, end in zip(lines, breaks, strict=False):
        starts.append(starts[-1] + len(line) + len(end))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    result = text
    for edit in sorted(fix.edits, key=lambda e: (e.span.line, e.span.column), reverse=True):
        start = offset(edit.span.line, edit.span.column)
        end = offset(edit.span.end_line, edit.span.end_column)
        result = result[:start] + edit.replacement + result[end:]
    return result


# ------------------------------------------------------------------------------------- mojibake


def test_mojibake_fixture_holds_the_sample_note_byte_for_byte() -> None:
    copy = TEXT / "mojibake" / "migration.md"
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == SAMPLE_SHA256
    if SAMPLE.exists():
        assert filecmp.cmp(SAMPLE, copy, shallow=False)
    assert "â†’".encode() in copy.read_bytes()


def test_mojibake_in_the_sample_note_is_found_and_repaired() -> None:
    finding = _only(_lint(TEXT / "mojibake"), "mojibake", "migration.md")
    assert (finding.line, finding.column) == (25, 10)
    assert "'â†’'" in finding.message and "'→'" in finding.message
    assert finding.fix is not None and finding.fix.safe
    text = (TEXT / "mojibake" / "migration.md").read_bytes().decode("utf-8")
    repaired = _apply(text, finding.fix).splitlines()
    assert repaired[24] == "Scheme A → mixed A/B (dual-run) → scheme B (with residue)"
    # Only the damaged characters change: every other line is as it was.
    assert [line for i, line in enumerate(repaired) if i != 24] == [
        line for i, line in enumerate(text.splitlines()) if i != 24
    ]


def test_clean_unicode_is_not_mojibake() -> None:
    findings = _lint(TEXT / "mojibake")
    assert [f for f in findings if f.path == "clean.md"] == []


def test_mojibake_fix_repairs_each_damaged_place() -> None:
    findings = _lint(TEXT / "mojibake")
    text = (TEXT / "mojibake" / "damaged.md").read_text(encoding="utf-8")
    repaired = text
    for finding in sorted(
        (f for f in findings if f.path == "damaged.md" and f.rule == "mojibake"),
        key=lambda f: f.line,
        reverse=True,
    ):
        assert finding.fix is not None
        repaired = _apply(repaired, finding.fix)
    assert "Un café crème." in repaired
    assert "It doesn’t survive" in repaired
    assert "An em dash — decoded" in repaired
    assert "привет is Russian" in repaired
    assert "### Naïve heading" in repaired
    assert "| Über |" in repaired
    assert 'aliases: ["café"]' in repaired
    assert "Ã" not in repaired and "â€" not in repaired


# ----------------------------------------------------------------------------- invalid-encoding


def test_invalid_byte_is_reported_at_its_line_and_code_point_column() -> None:
    findings = _lint(TEXT / "invalid-encoding")
    finding = _only(findings, "invalid-encoding", "bad-byte.md")
    # "Déjà vu " is 8 code points (10 bytes): the byte 0xff is column 9.
    assert (finding.line, finding.column) == (3, 9)
    assert "ff" in finding.message
    latin1 = _only(findings, "invalid-encoding", "latin1.md")
    assert (latin1.line, latin1.column) == (1, 6)
    assert "e9" in latin1.message


@pytest.mark.parametrize(
    ("data", "line", "column"),
    [
        (b"a\nb\n\xff", 3, 1),
        (b"a\r\nb\r\n\xff", 3, 1),
        (b"a\rb\r\xff", 3, 1),
        ("a\nDéjà ".encode() + b"\xff", 2, 6),
        (b"ok\r\n\x00", 2, 1),
    ],
)
def test_invalid_byte_position_over_any_line_end(data: bytes, line: int, column: int) -> None:
    (problem,) = parse_note("n.md", data).problems
    assert (problem.span.line, problem.span.column) == (line, column)


def test_undecodable_notes_are_not_orphans(tmp_path: Path) -> None:
    # Neither UTF-16 file is parsed, so whether it links anywhere is unknown: both are reported
    # for their encoding only, alike, whether or not they start with a byte order mark.
    (tmp_path / "a.md").write_text("# A\n\n[[b]]\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("# B\n\n[[a]]\n", encoding="utf-8")
    (tmp_path / "bom.md").write_bytes("\ufeff# U\n\n[[a]]\n".encode("utf-16-le"))
    (tmp_path / "no-bom.md").write_bytes("# U\n\n[[a]]\n".encode("utf-16-le"))
    findings = _lint(tmp_path)
    assert {(f.path, f.rule) for f in findings} == {
        ("bom.md", "invalid-encoding"),
        ("no-bom.md", "invalid-encoding"),
    }, text_report(findings)


def test_utf8_bom_and_plain_utf8_have_no_findings() -> None:
    findings = _lint(TEXT / "invalid-encoding")
    assert [f for f in findings if f.path in ("bom.md", "plain.md", "index.md")] == []


def test_utf16_and_binary_files_are_not_parsed_as_notes() -> None:
    data = (TEXT / "invalid-encoding" / "utf16.md").read_bytes()
    assert data.startswith(b"\xff\xfe")
    record = parse_note("utf16.md", data)
    assert record.links == () and record.headings == ()
    binary = parse_note("binary.md", (TEXT / "invalid-encoding" / "binary.md").read_bytes())
    assert binary.links == () and binary.headings == ()
    assert len(binary.problems) == 1


def test_latin1_note_is_still_read_with_replacement_characters() -> None:
    record = parse_note("latin1.md", (TEXT / "invalid-encoding" / "latin1.md").read_bytes())
    assert record.title is not None and record.title.text == "Caf\ufffd"
    assert [link.target for link in record.links] == ["index"]


# --------------------------------------------------------------------------------- line-endings


def test_mixed_line_endings_fix_makes_every_line_end_alike() -> None:
    findings = _lint(TEXT / "line-endings")
    for name, style in (("mixed.md", "\n"), ("mixed-crlf.md", "\r\n"), ("lone-cr.md", "\n")):
        finding = _only(findings, "line-endings", name)
        assert finding.fix is not None
        text = (TEXT / "line-endings" / name).read_bytes().decode("utf-8")
        assert _apply(text, finding.fix) == re.sub(r"\r\n|\r|\n", style, text)


def test_mixed_line_endings_are_reported_once_at_the_first_odd_line() -> None:
    finding = _only(_lint(TEXT / "line-endings"), "line-endings", "mixed.md")
    assert finding.line == 5
    assert "CRLF" in finding.message and "1 more" in finding.message
    assert finding.fix is not None and len(finding.fix.edits) == 2


def test_all_cr_file_message_does_not_claim_other_lines_use_lf() -> None:
    finding = _only(_lint(TEXT / "line-endings"), "line-endings", "cr-only.md")
    assert finding.line == 1
    # Every line of cr-only.md ends in a lone CR: no line uses LF, so saying so misleads.
    assert "other lines use LF" not in finding.message, finding.message


@pytest.mark.parametrize(
    ("setting", "flagged"),
    [("lf", {"crlf.md"}), ("crlf", {"lf.md"}), ("consistent", set())],
)
def test_line_endings_setting(tmp_path: Path, setting: str, flagged: set[str]) -> None:
    (tmp_path / "conceptgraph.toml").write_text(f'line-endings = "{setting}"\n', encoding="utf-8")
    (tmp_path / "crlf.md").write_bytes(b"# CRLF\r\n\r\nSee [[lf]].\r\n")
    (tmp_path / "lf.md").write_bytes(b"# LF\n\nSee [[crlf]].\n")
    findings = [f for f in _lint(tmp_path) if f.rule == "line-endings"]
    assert {f.path for f in findings} == flagged
    for finding in findings:
        assert finding.line == 1
        assert "setting" in finding.message


def test_text_rules_ignore_a_single_line_without_a_line_end(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes(b"one line [[b]]")
    (tmp_path / "b.md").write_bytes(b"# B\r\n\r\nBack to [[a]].\r\n")
    assert _lint(tmp_path) == []


# ------------------------------------------------------------------ names: unsafe and colliding


def test_control_and_bidi_characters_in_a_path_are_unsafe(tmp_path: Path) -> None:
    # Not committable portably, so made here: a right-to-left override in a folder name, a bell
    # and a newline in file names.
    folder = tmp_path / "in\u202efolder"
    folder.mkdir()
    (folder / "plain.md").write_text("# Plain\n", encoding="utf-8")
    (tmp_path / "bell\x07.md").write_text("# Bell\n", encoding="utf-8")
    (tmp_path / "new\nline.md").write_text("# Newline\n", encoding="utf-8")
    (tmp_path / "fine.md").write_text("# Fine\n", encoding="utf-8")
    found = {
        (f.path, f.line, f.column, f.message)
        for f in _lint(tmp_path)
        if f.rule == "unsafe-file-name"
    }
    assert found == {
        (
            "in\u202efolder/plain.md",
            1,
            1,
            "the path holds U+202E RIGHT-TO-LEFT OVERRIDE, which reorders how the name is shown",
        ),
        ("bell\x07.md", 1, 1, "the path holds the control character(s) U+0007"),
        ("new\nline.md", 1, 1, "the path holds the control character(s) U+000A"),
    }


def test_names_differing_only_in_case_or_form_collide(tmp_path: Path) -> None:
    # The committed folder holds no twins (a checkout on macOS or Windows would lose one);
    # they are added to a copy here, each marked like any fixture note.
    vault = tmp_path / "name-collision"
    shutil.copytree(TEXT / "name-collision", vault)
    marked = "# {}  <!-- expect: name-collision -->\n\nBack to [[index]].\n"
    (vault / "note.md").write_text(marked.format("note"), encoding="utf-8")
    (vault / "Note.md").write_text(marked.format("Note"), encoding="utf-8")
    (vault / "caf\u00e9.md").write_text(marked.format("NFC"), encoding="utf-8")
    nfd = vault / "cafe\u0301.md"
    nfd.write_text("# NFD\n", encoding="utf-8")
    findings = _lint(vault)
    got = {(f.path, f.line, f.rule) for f in findings if f.rule == "name-collision"}
    want = {m for m in expected_markers(vault) if m[2] == "name-collision"}
    assert got == want, text_report(findings)
    nfc = _only(findings, "name-collision", "caf\u00e9.md")
    assert ascii("cafe\u0301.md") in nfc.message
    # Only the NFC file of the two is read; the NFD one is named in the finding.
    vault_index = lint_paths([vault], jobs=1).vaults[0]
    assert vault_index.files.count("caf\u00e9.md") == 1
    assert vault_index.disk_path("caf\u00e9.md") == vault / "caf\u00e9.md"
    # [[note]] and [[Note]] fit both twins: ambiguous, and without a fix, as no path helps.
    links = [f for f in findings if f.rule == "ambiguous-link" and f.path == "index.md"]
    assert links and all(f.fix is None for f in links), text_report(findings)


def test_case_twins_resolve_to_the_one_written_in_that_case(tmp_path: Path) -> None:
    (tmp_path / "Note.md").write_text("# Note\n", encoding="utf-8")
    (tmp_path / "note.md").write_text("# note\n", encoding="utf-8")
    vault = lint_paths([tmp_path], jobs=1).vaults[0]
    for written, first in (("Note", "Note.md"), ("note", "note.md"), ("NOTE", "Note.md")):
        found = vault.resolve_linkpath(written, "x.md")
        assert (found.path, set(found.candidates)) == (first, {"Note.md", "note.md"})


# ---------------------------------------------------------------------------------- deep-nesting


def test_a_list_ten_levels_deep_keeps_the_rest_of_the_note() -> None:
    # markdown-it's commonmark preset stops at 20 nesting levels, and dropped every line after
    # a list ten levels deep: the links, headings and sections after it were lost.
    text = "\n".join("  " * i + f"- level {i}" for i in range(12)) + "\n\n## After\n\n[[x]]\n"
    record = parse_note("n.md", text.encode())
    assert [link.target for link in record.links] == ["x"]
    assert [h.text for h in record.headings] == ["After"]
    assert len(record.list_items) == 12
    assert record.problems == ()


def test_too_deep_lines_are_read_for_links_and_reported() -> None:
    text = "\n".join("  " * i + f"- level {i} [[l{i}]]" for i in range(60)) + "\n\n# After\n"
    record = parse_note("n.md", text.encode())
    assert [link.target for link in record.links] == [f"l{i}" for i in range(60)]
    assert all(link.span.line == i + 1 for i, link in enumerate(record.links))
    assert all(link.span.column == 2 * i + 10 + len(str(i)) for i, link in enumerate(record.links))
    assert [h.text for h in record.headings] == ["After"]
    (problem,) = record.problems
    assert problem.span.line == 50 and "lines 50-60" in problem.message
