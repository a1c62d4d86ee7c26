"""Hostile and broken input: every bad file is a finding naming it, and nothing else is lost.

The hostile vault (tests/hostile.py, made byte for byte at test time) holds bad YAML of every
kind (mistyped dates too), YAML tags that would run code, alias bombs, binary and non-UTF-8
files, odd line ends, a 5 MB line, 2,000 levels of nesting, 50,000 unclosed ``[[``, names with
control and bidirectional characters, NFD names, names that differ only in case or form, a
folder tree 1,200 levels deep, a symlink loop, a dangling symlink, a folder named ``x.md``, a
FIFO, a socket and a device named ``.md``. The
real command runs over all of it at once; the rest of the file system's misbehaviour (a file
that cannot be read, one deleted or rewritten during the run) is staged in-process.

Decisions, as documented in the rules:

- a folder named ``x.md`` is a folder, as in Obsidian: walked, its notes linted, no finding;
- ``Note.md`` and ``note.md`` side by side (Linux) are both notes, each reported as
  ``name-collision``; a link to the name is ``ambiguous-link`` without a fix, and resolves to
  the one written in the link's case, else the first in code-point order;
- an NFC and an NFD ``café.md`` side by side: the NFC file is the note, the NFD one is named in
  a ``name-collision`` finding and not read; a lone NFD name is normal (macOS) and no finding;
- a UTF-8 byte order mark, CRLF ends, an empty file, frontmatter without a body, a 5 MB line
  and 50,000 unclosed ``[[`` are not problems: those files are linted like any other, and the
  findings they do have (a planted broken link) are at the exact line and column.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conceptgraph.api import lint_paths
from conceptgraph.lint import engine
from conceptgraph.lint import run as run_module
from conceptgraph.lint.rule import REGISTRY, Hit, Scope, rule
from conceptgraph.model import Finding, NoteRecord, Severity, Span
from conceptgraph.note import parse as parse_module
from conceptgraph.note.parse import parse_note
from conceptgraph.vault import discovery as discover_module
from conceptgraph.vault import load as load_module
from conceptgraph.vault.load import Vault
from conceptgraph.vault.read import MAX_NOTE_BYTES
from tests import hostile

# Enough notes that the vault is parsed by worker processes (vault.read._PARALLEL_MIN_NOTES).
PADDING = 420


def run_cli(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conceptgraph", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def hostile_vault(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, dict[str, hostile.Expect]]]:
    root = tmp_path_factory.mktemp("hostile") / "vault"
    yield root, hostile.build(root, padding=PADDING)
    hostile.remove_tree(root)


def _by_path(findings: list[dict[str, object]]) -> dict[str, list[dict[str, object]]]:
    grouped: dict[str, list[dict[str, object]]] = {}
    for finding in findings:
        grouped.setdefault(str(finding["path"]), []).append(finding)
    return grouped


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_command_reports_every_hostile_file_and_every_good_one(
    hostile_vault: tuple[Path, dict[str, hostile.Expect]], jobs: str
) -> None:
    root, expect = hostile_vault
    result = run_cli("lint", root, "--format", "json", "--jobs", jobs)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stderr
    found = _by_path(json.loads(result.stdout))
    missing = []
    for path, wanted in sorted(expect.items()):
        have = found.get(path, [])
        rules = {str(f["rule"]) for f in have}
        places = {(str(f["rule"]), f["line"], f["column"]) for f in have}
        if not wanted.rules <= rules or not wanted.at <= places:
            missing.append((path, sorted(wanted.rules - rules), sorted(wanted.at - places)))
    assert missing == []
    # Every note and every file named .md of the vault is reported: nothing was silently lost.
    assert set(expect) <= set(found)
    assert not any("internal error" in str(f["message"]) for fs in found.values() for f in fs)
    assert not (root.parent / hostile.SENTINEL).exists()


@pytest.mark.slow
def test_the_text_format_keeps_one_finding_a_line(
    hostile_vault: tuple[Path, dict[str, hostile.Expect]],
) -> None:
    root, _ = hostile_vault
    result = run_cli("lint", root, "--jobs", "1")
    assert "Traceback" not in result.stderr and result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    # A newline or an escape sequence in a file name is shown escaped, never printed raw.
    assert not any(set(line) & {"\x1b", "\x07", "\r", "\u202e"} for line in lines)
    assert any(line.startswith("names/new\\x0aline.md:1:1: ") for line in lines)
    assert any(line.startswith("names/bell\\x07.md:1:1: ") for line in lines)
    assert any(line.startswith("names/\\u202eevil\\u202c.md:1:1: ") for line in lines)
    assert all(re.match(r"[^:]+:\d+:\d+: (error|warning|info) [a-z-]+ ", line) for line in lines)
    assert "Found" in result.stderr


def test_yaml_tags_are_never_run(tmp_path: Path) -> None:
    sentinel = tmp_path / "ran"
    for tag in ("!!python/object/apply:os.system", "!!python/object/new:os.system"):
        data = f'---\nx: {tag} ["touch {sentinel}"]\n---\n'.encode()
        record = parse_note("n.md", data)
        assert [p.kind.value for p in record.problems] == ["yaml-unsafe"]
    assert not sentinel.exists()


def _peak_rss_mb(args: list[str], limit_mb: int) -> tuple[int, subprocess.CompletedProcess[str]]:
    """Run ``args`` in a fresh process and return its peak resident memory, in MB.

    A middle process runs it, so RUSAGE_CHILDREN counts that one child and nothing else; its
    address space is capped too, so a blow-up fails fast instead of swapping.
    """
    cap = limit_mb * 4 << 20
    code = (
        "import resource, subprocess, sys\n"
        "def cap():\n"
        f"    resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))\n"
        "done = subprocess.run(sys.argv[1:], preexec_fn=cap, capture_output=True, text=True)\n"
        "sys.stderr.write(done.stderr)\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    status, peak = result.stdout.split()
    return int(peak), subprocess.CompletedProcess(args, int(status), "", result.stderr)


def test_alias_bombs_take_bounded_time_and_memory(tmp_path: Path) -> None:
    (tmp_path / "laughs.md").write_bytes(hostile._laughs())
    (tmp_path / "merge.md").write_bytes(hostile._merge_bomb())
    # Twelve levels: 9**12 values expanded, far past any memory.
    (tmp_path / "bigger.md").write_bytes(hostile._laughs(levels=12))
    (tmp_path / "ok.md").write_text("# OK\n\n[[missing]]\n", encoding="utf-8")
    args = [sys.executable, "-m", "conceptgraph", "lint", str(tmp_path), "--format", "json"]
    peak, result = _peak_rss_mb(args, limit_mb=500)
    assert peak < 500, peak
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    record = parse_note("bigger.md", hostile._laughs(levels=12))
    assert record.frontmatter is None and "alias bomb" in record.problems[0].message


# ------------------------------------------------------------------ the file system misbehaving


def _lint(root: Path) -> list[Finding]:
    return lint_paths([root], jobs=1).findings


def _make(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


GOOD = {"a.md": "# A\n\nSee [[b]] and [[gone]].\n", "b.md": "# B\n\nBack to [[a]].\n"}


def _good_still_linted(findings: list[Finding]) -> None:
    assert ("a.md", 3, 15, "broken-link") in {(f.path, f.line, f.column, f.rule) for f in findings}


def _unreadable(findings: list[Finding], path: str) -> str:
    (finding,) = [f for f in findings if f.path == path]
    assert (finding.rule, finding.line, finding.column) == ("unreadable-file", 1, 1), finding
    return finding.message


def test_a_file_that_cannot_be_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Running as root, chmod 000 does not stop a read: make the open itself fail instead.
    _make(tmp_path, {**GOOD, "secret.md": "# Secret\n"})
    real_open = os.open

    def refusing(path: str | os.PathLike[str], flags: int, *args: int, **kw: int) -> int:
        if Path(path).name == "secret.md":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(os, "open", refusing)
    findings = _lint(tmp_path)
    assert _unreadable(findings, "secret.md") == "cannot read: Permission denied"
    _good_still_linted(findings)


def _after_discovery(monkeypatch: pytest.MonkeyPatch, act: Callable[[], None]) -> None:
    real = discover_module.discover

    def discover_then_act(root: Path, config: object) -> discover_module.Discovery:
        found = real(root, config)  # type: ignore[arg-type]
        act()
        return found

    # A lint run discovers the vault once, and hands what it found on to load_vault.
    monkeypatch.setattr(load_module, "discover", discover_then_act)
    monkeypatch.setattr(run_module, "discover", discover_then_act)


def test_a_file_deleted_between_discovery_and_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _make(tmp_path, {**GOOD, "doomed.md": "# Doomed\n"})
    _after_discovery(monkeypatch, (tmp_path / "doomed.md").unlink)
    findings = _lint(tmp_path)
    assert _unreadable(findings, "doomed.md") == "cannot read: No such file or directory"
    _good_still_linted(findings)


def test_a_file_rewritten_during_the_run_is_linted_as_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _make(tmp_path, {**GOOD, "moving.md": "# Moving\n\nSee [[a]].\n"})
    new = "# Moving\n\nNow [[elsewhere]].\n"
    _after_discovery(monkeypatch, lambda: (tmp_path / "moving.md").write_text(new, "utf-8"))
    findings = _lint(tmp_path)
    assert ("moving.md", 3, 5, "broken-link") in {
        (f.path, f.line, f.column, f.rule) for f in findings
    }
    _good_still_linted(findings)


def _within(seconds: float, work: Callable[[], list[Finding]]) -> list[Finding]:
    """Run ``work`` in a thread and fail, instead of hanging the test run, if it blocks."""
    box: list[list[Finding]] = []
    thread = threading.Thread(target=lambda: box.append(work()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the run blocked"
    return box[0]


def test_a_fifo_put_in_place_of_a_note_during_the_run_does_not_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _make(tmp_path, {**GOOD, "pipe.md": "# Pipe\n"})

    def swap() -> None:
        (tmp_path / "pipe.md").unlink()
        os.mkfifo(tmp_path / "pipe.md")

    _after_discovery(monkeypatch, swap)
    findings = _within(60, lambda: _lint(tmp_path))
    assert (
        _unreadable(findings, "pipe.md")
        == "cannot read: not a regular file but a FIFO (named pipe)"
    )
    _good_still_linted(findings)


def test_a_fifo_put_in_place_of_a_note_before_its_fix_does_not_block(tmp_path: Path) -> None:
    from conceptgraph.lint.fix import apply_fixes

    _make(tmp_path, GOOD)
    (tmp_path / "mixed.md").write_bytes(b"# Mixed\r\n\r\nSee [[a]].\n\nEnd.\r\n")
    result = lint_paths([tmp_path], jobs=1)
    (tmp_path / "mixed.md").unlink()
    os.mkfifo(tmp_path / "mixed.md")
    box: list[list[str]] = []
    thread = threading.Thread(
        target=lambda: box.append([str(s) for s in apply_fixes(result).skipped]), daemon=True
    )
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the fix blocked on the FIFO"
    assert box == [
        ["mixed.md: not fixed: cannot read it again: not a regular file but a FIFO (named pipe)"]
    ]


def test_special_files_named_md_are_reported_not_read(tmp_path: Path) -> None:
    _make(tmp_path, GOOD)
    os.mkfifo(tmp_path / "fifo.md")
    os.symlink("/dev/zero", tmp_path / "zero.md")
    # A link out of the vault is followed only where allowed: here, to see the device refused.
    (tmp_path / "conceptgraph.toml").write_text('allow-symlinks-to = ["/dev"]\n', encoding="utf-8")
    os.symlink("loop.md", tmp_path / "loop.md")
    os.symlink("nowhere.md", tmp_path / "dangling.md")
    (tmp_path / "folder.md").mkdir()
    (tmp_path / "folder.md" / "inner.md").write_text("# Inner\n\n[[a]]\n", encoding="utf-8")
    findings = _within(60, lambda: _lint(tmp_path))
    assert _unreadable(findings, "fifo.md").endswith("a FIFO (named pipe)")
    assert _unreadable(findings, "zero.md").endswith("a device")
    assert _unreadable(findings, "loop.md") in (
        "cannot read: symbolic link loop",
        "cannot read: Too many levels of symbolic links",
    )
    assert _unreadable(findings, "dangling.md") == "cannot read: dangling symbolic link"
    assert not [f for f in findings if f.path.startswith("folder.md/")]
    _good_still_linted(findings)


def test_a_file_too_large_to_be_a_note(tmp_path: Path) -> None:
    _make(tmp_path, GOOD)
    with (tmp_path / "huge.md").open("wb") as huge:
        huge.truncate(MAX_NOTE_BYTES + 1)  # sparse: nothing is written to disk
    findings = _lint(tmp_path)
    assert "more than the 64 MiB a note may have" in _unreadable(findings, "huge.md")
    _good_still_linted(findings)


def test_a_parser_crash_is_a_finding_of_that_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _make(tmp_path, {**GOOD, "poison.md": "# Poison\n"})
    real = parse_module.parse_note

    def fragile(path: str, data: bytes, parser: str | None = None) -> NoteRecord:
        if path == "poison.md":
            raise RecursionError("maximum recursion depth exceeded")
        return real(path, data, parser)

    monkeypatch.setattr(parse_module, "parse_note", fragile)
    findings = _lint(tmp_path)
    message = _unreadable(findings, "poison.md")
    assert "internal error while parsing (RecursionError" in message
    _good_still_linted(findings)


# ----------------------------------------------------------------------- a rule that crashes


@pytest.fixture
def crashing_rules() -> Iterator[None]:
    """Two temporary rules that fail (one per note, one over the vault), removed afterwards."""

    @rule("test-crash-note", family="links", severity=Severity.WARNING)
    def crash_note(note: NoteRecord, vault: Vault) -> Iterator[Hit]:
        """Fail on b.md, report every other note."""
        if note.path == "b.md":
            raise KeyError("boom\nsecond line")
        yield Hit(Span.point(1), "seen")

    @rule("test-crash-vault", family="links", severity=Severity.WARNING, scope=Scope.VAULT)
    def crash_vault(vault: Vault) -> Iterator[object]:
        """Yield something that is not a Hit."""
        yield "not a hit"

    try:
        yield
    finally:
        REGISTRY.pop("test-crash-note", None)
        REGISTRY.pop("test-crash-vault", None)


@pytest.mark.usefixtures("crashing_rules")
def test_an_internal_error_in_a_rule_is_a_finding_and_other_rules_still_report(
    tmp_path: Path,
) -> None:
    _make(tmp_path, GOOD)
    findings = _lint(tmp_path)
    crash = [f for f in findings if "internal error" in f.message]
    assert [(f.path, f.rule, f.severity) for f in crash] == [
        ("", "test-crash-vault", Severity.ERROR),
        ("b.md", "test-crash-note", Severity.ERROR),
    ]
    note = crash[1]
    assert note.message.startswith("internal error in rule test-crash-note: KeyError: ")
    assert "\n" not in note.message and "test_hostile.py:" in note.message
    assert "not a Hit" in crash[0].message
    # The same rule still reports the other note, and every other rule reports as ever.
    assert ("a.md", "test-crash-note") in {(f.path, f.rule) for f in findings}
    _good_still_linted(findings)


@pytest.mark.usefixtures("crashing_rules")
def test_traceback_mode_lets_a_rule_error_propagate(tmp_path: Path) -> None:
    _make(tmp_path, GOOD)
    token = engine.RAISE_RULE_ERRORS.set(True)
    try:
        with pytest.raises(KeyError, match="boom"):
            _lint(tmp_path)
    finally:
        engine.RAISE_RULE_ERRORS.reset(token)


def test_the_command_prints_no_traceback_unless_asked(tmp_path: Path) -> None:
    # A rule registered only in the child process crashes there: without --traceback it is a
    # finding and exit 1; with it, the traceback is shown for a bug report.
    _make(tmp_path, GOOD)
    code = (
        "import sys\n"
        "from conceptgraph.lint.rule import rule\n"
        "from conceptgraph.model import Severity\n"
        "@rule('test-crash', family='links', severity=Severity.WARNING)\n"
        "def crash(note, vault):\n"
        "    '''Fail.'''\n"
        "    raise ValueError('rule bug')\n"
        "from conceptgraph.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    for extra, status, traceback in (([], 1, False), (["--traceback"], 1, True)):
        result = subprocess.run(
            [sys.executable, "-c", code, *extra, "lint", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert ("Traceback" in result.stderr) is traceback, result.stderr
        assert result.returncode == status, result.stderr
        if not traceback:
            assert "internal error in rule test-crash: ValueError: rule bug" in result.stdout
            assert "a.md:3:15: error broken-link" in result.stdout


# -------------------------------------------------------------- pathological input, in-process


@pytest.mark.parametrize(
    ("data", "targets"),
    [
        (b"[[" * 50_000 + b"\n\n[[x]]\n", ["x"]),
        (b"[[\n" * 20_000 + b"\n[[x]]\n", ["x"]),
        (b"![[" * 20_000 + b"\n\n[[x]]\n", ["x"]),
        (b"[" * 20_000 + b"[[x]]" + b"]" * 20_000 + b"(y.md)", ["x"]),
        (b"[a](b.md) " + b"[" * 20_000, ["b.md"]),
        (b"> " * 2_000 + b"[[x]]\n\n[[y]]\n", ["x", "y"]),
        (
            b"".join(b"  " * i + b"- [[l%d]]\n" % i for i in range(300)),
            [f"l{i}" for i in range(300)],
        ),
        (b"<!-- conceptgraph-disable " * 20_000 + b"\n\n[[x]]\n", []),
        (b"| [[a]] " * 5_000 + b"|\n" + b"|-" * 5_000 + b"|\n", ["a"] * 5_000),
        (b"a " + b"`" * 20_000 + b" [[x]]", ["x"]),
        (b"$" * 20_000 + b" [[x]]", ["x"]),
        (b"<" * 20_000 + b" [[x]]", ["x"]),
    ],
    ids=[
        "unclosed-brackets",
        "unclosed-brackets-lines",
        "unclosed-embeds",
        "nested-brackets",
        "markdown-link-then-brackets",
        "quotes-2000-deep",
        "list-300-deep",
        "unclosed-directives",
        "table-5000-cells",
        "backticks",
        "dollars",
        "angles",
    ],
)
def test_pathological_markdown_parses(data: bytes, targets: list[str]) -> None:
    record = parse_note("n.md", data)
    assert [link.target for link in record.links] == targets
    lines = record.lines()
    for link in record.links:
        written = lines[link.span.line - 1][link.span.column - 1 : link.span.end_column - 1]
        assert written == link.raw


def test_links_on_a_long_line_keep_exact_columns() -> None:
    # Each link is located in time independent of the line's length (the 5 MB line of the
    # hostile vault holds one link; this one holds 100,000 in 1.1 MB).
    line = b"word [[a]] " * 100_000
    record = parse_note("n.md", line)
    assert len(record.links) == 100_000
    assert record.links[-1].span == Span(1, 11 * 99_999 + 6, 1, 11 * 99_999 + 11)


@pytest.mark.parametrize(
    ("yaml_line", "column", "value"),
    [
        # Found by atheris: PyYAML raises a plain ValueError for a date that is not one.
        ("created: 2024-15-01", 10, "2024-15-01"),
        ("at: 2024-01-01 25:00:00", 5, "2024-01-01 25:00:00"),
        ("n: " + "9" * 5_000, 4, "9" * 5_000),  # past Python's int conversion limit
        ("x: !!int abc", 4, "abc"),
        ("x: !!float abc", 4, "abc"),
        ("x: !!bool maybe", 4, "maybe"),
        ("x: !!timestamp nope", 4, "nope"),
    ],
)
def test_a_scalar_yaml_cannot_read_is_text_and_a_problem(
    yaml_line: str, column: int, value: str
) -> None:
    record = parse_note("n.md", f"---\n{yaml_line}\naliases: [a]\n---\n# N\n".encode())
    assert record.frontmatter is not None
    assert list(record.frontmatter.data.values()) == [value, ["a"]]
    (problem,) = record.problems
    assert (problem.kind.value, problem.span.line, problem.span.column) == (
        "yaml-syntax",
        2,
        column,
    )
    assert "read as text" in problem.message
