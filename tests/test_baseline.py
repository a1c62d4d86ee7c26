"""``lint --write-baseline`` and ``lint --baseline``: adopting the linter on a legacy vault.

Every test runs the real ``conceptgraph`` command on vaults on disk; the main one on a
generated vault with the defects users' vaults have.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from benchmarks.generate_vault import generate_vault
from tests.conftest import run_conceptgraph, write_vault


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_conceptgraph(*args, cwd=cwd)


def findings(*args: str | Path) -> list[dict[str, object]]:
    result = run("lint", "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    found: list[dict[str, object]] = json.loads(result.stdout)
    return found


def insert_after_frontmatter(note: Path, lines: str) -> None:
    """Push every line of the note's body down, as an edit at its top does."""
    # Bytes, not text: reading text would turn a CRLF the note has into LF.
    data = note.read_bytes()
    end = 0
    if data.startswith(b"---"):
        end = data.index(b"\n", data.index(b"\n---", 3) + 1) + 1  # past the closing ---
    note.write_bytes(data[:end] + lines.encode() + data[end:])


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("legacy") / "vault"
    generate_vault(root, notes=300, seed=7, defects=True)
    (root / ".obsidian").mkdir()
    return root


def test_only_a_new_broken_link_fails_a_legacy_vault(legacy: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    subprocess.run(["cp", "-r", str(legacy), str(vault)], check=True)
    before = findings(vault)
    assert len(before) > 20  # a legacy vault: many findings, of several rules
    assert len({f["rule"] for f in before}) > 3
    assert run("lint", vault).returncode == 1

    baseline = tmp_path / "conceptgraph-baseline.json"
    written = run("lint", vault, "--write-baseline", baseline)
    assert written.returncode == 0, written.stderr
    assert f"{len(before)} findings" in written.stderr
    clean = run("lint", vault, "--baseline", baseline)
    assert clean.returncode == 0, clean.stdout
    assert clean.stdout == ""
    assert f"{len(before)} findings suppressed" in clean.stderr

    # Lines move: every note with a baseline finding gets lines inserted at its top.
    for path in {str(f["path"]) for f in before}:
        insert_after_frontmatter(vault / path, "An opening line.\n\nAnd another.\n\n")
    moved = run("lint", vault, "--baseline", baseline)
    assert moved.returncode == 0, moved.stdout
    assert "no longer match" not in moved.stderr

    # One new broken link, in a note that already has findings.
    note = vault / str(before[0]["path"])
    with note.open("a", encoding="utf-8") as out:
        out.write("\nSee also [[a note nobody wrote]].\n")
    result = run("lint", vault, "--baseline", baseline, "--format", "json")
    assert result.returncode == 1
    new = json.loads(result.stdout)
    assert [(f["path"], f["rule"]) for f in new] == [(before[0]["path"], "broken-link")]
    assert "a note nobody wrote" in new[0]["message"]
    assert f"{len(before)} findings suppressed" in result.stderr
    text = run("lint", vault, "--baseline", baseline)
    assert text.returncode == 1
    assert len(text.stdout.splitlines()) == 1 and "a note nobody wrote" in text.stdout


def test_identical_findings_are_counted(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v", {"a.md": "# A\n\n[[x]] and [[x]].\n[[b]]\n", "b.md": "[[a]]"}
    )
    baseline = tmp_path / "base.json"
    assert run("lint", vault, "--write-baseline", baseline).returncode == 0
    entries = json.loads(baseline.read_text(encoding="utf-8"))["findings"]
    assert [(e["path"], e["rule"], e["count"]) for e in entries] == [("v/a.md", "broken-link", 2)]
    # A third copy is new; the first two are not.
    (vault / "a.md").write_text("# A\n\n[[x]] and [[x]].\n[[b]] [[x]]\n", encoding="utf-8")
    result = run("lint", vault, "--baseline", baseline, "--format", "json")
    assert result.returncode == 1
    assert [(f["line"], f["rule"]) for f in json.loads(result.stdout)] == [(4, "broken-link")]
    assert "2 findings suppressed" in result.stderr
    # Fixing one leaves one entry stale; --write-baseline prunes it.
    (vault / "a.md").write_text("# A\n\n[[x]].\n[[b]]\n", encoding="utf-8")
    result = run("lint", vault, "--baseline", baseline)
    assert result.returncode == 0
    assert "1 finding suppressed; 1 entry no longer match" in result.stderr
    result = run("lint", vault, "--write-baseline", baseline)
    assert "1 stale pruned" in result.stderr
    entries = json.loads(baseline.read_text(encoding="utf-8"))["findings"]
    assert [e["count"] for e in entries] == [1]
    assert "no longer match" not in run("lint", vault, "--baseline", baseline).stderr


def test_the_file_is_sorted_stable_and_line_free(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            "z.md": "# Z\n\n[[gone]] [[a]]\n",
            "a.md": "---\ntype: mechanism\n---\n# A\n\n## Definition\n\nx [[z]]\n\n"
            "## Definition\n\ny\n",
        },
    )
    baseline = tmp_path / "base.json"
    run("lint", vault, "--write-baseline", baseline)
    first = baseline.read_bytes()
    lines = first.decode().splitlines()
    entries = [json.loads(line.strip().rstrip(",")) for line in lines if line.startswith("    {")]
    assert len(entries) == len(json.loads(first)["findings"]) > 2  # one entry a line
    assert entries == sorted(entries, key=lambda e: (e["path"], e["rule"], e["message"]))
    assert all(set(e) == {"path", "rule", "message", "count"} for e in entries)
    repeated = next(e for e in entries if e["rule"] == "duplicate-section")
    assert "line N" in repeated["message"]  # "repeats the section on line 6", line-free
    # The same findings give the same bytes; moved lines give the same entries.
    run("lint", vault, "--write-baseline", baseline)
    assert baseline.read_bytes() == first
    insert_after_frontmatter(vault / "a.md", "\n\n\n")
    run("lint", vault, "--write-baseline", baseline)
    assert baseline.read_bytes() == first


def test_entries_the_run_could_not_find_are_kept_not_stale(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v", {"a.md": "# A\n\n[[gone]] caf\u00c3\u00a9\n", "b.md": "[[a]] [[lost]]"}
    )
    baseline = tmp_path / "base.json"
    run("lint", vault, "--write-baseline", baseline)
    whole = json.loads(baseline.read_text(encoding="utf-8"))["findings"]
    assert {e["rule"] for e in whole} == {"broken-link", "mojibake"}
    # A run of one rule, or of one note, does not call the others' entries stale.
    result = run("lint", vault, "--baseline", baseline, "--select", "mojibake")
    assert result.returncode == 0 and "no longer match" not in result.stderr
    result = run("lint", vault / "b.md", "--baseline", baseline)
    assert result.returncode == 0 and "1 finding suppressed." in result.stderr
    # Rewriting with one rule keeps the other rule's entries as they were.
    (vault / "a.md").write_text("# A\n\n[[gone]] cafe\n", encoding="utf-8")
    result = run("lint", vault, "--write-baseline", baseline, "--select", "mojibake")
    assert "1 stale pruned" in result.stderr
    after = json.loads(baseline.read_text(encoding="utf-8"))["findings"]
    assert after == [e for e in whole if e["rule"] == "broken-link"]


def test_sarif_says_what_the_baseline_did(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "v", {"a.md": "# A\n\n[[gone]]\n", "b.md": "[[a]]"})
    baseline = tmp_path / "base.json"
    run("lint", vault, "--write-baseline", baseline)
    (vault / "b.md").write_text("[[a]] [[lost]]", encoding="utf-8")
    result = run("lint", vault, "--baseline", baseline, "--format", "sarif")
    assert result.returncode == 1
    sarif = json.loads(result.stdout)["runs"][0]
    assert sarif["properties"]["baseline"] == {
        "file": str(baseline),
        "suppressed": 1,
        "stale": 0,
    }
    assert [r["baselineState"] for r in sarif["results"]] == ["new"]
    # Without a baseline, the SARIF log is as it was.
    plain = json.loads(run("lint", vault, "--format", "sarif").stdout)["runs"][0]
    assert "properties" not in plain and "baselineState" not in plain["results"][0]


def test_bad_baselines_are_usage_errors(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "v", {"a.md": "# A\n"})
    bad = tmp_path / "bad.json"
    for text, says in [
        ("{", "bad.json:1: not a baseline"),
        ("[]", "not a baseline"),
        ('{"conceptgraph-baseline": 1, "findings": [{"path": 1}]}', "entry 1"),
    ]:
        bad.write_text(text, encoding="utf-8")
        result = run("lint", vault, "--baseline", bad)
        assert result.returncode == 2, text
        assert says in result.stderr and "Traceback" not in result.stderr
    result = run("lint", vault, "--baseline", tmp_path / "missing.json")
    assert result.returncode == 2 and "no such baseline" in result.stderr
    both = run("lint", vault, "--baseline", bad, "--write-baseline", bad)
    assert both.returncode == 2
