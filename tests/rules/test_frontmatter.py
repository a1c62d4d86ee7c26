"""The frontmatter family: frontmatter-syntax and frontmatter-shape.

The fixture vaults under tests/fixtures/frontmatter/ hold the cases, one note per frontmatter
block, with ``# expect: rule`` YAML comments as markers. The tests below add what a marker cannot
say: that a Python tag is never run, and how YAML 1.2 reads booleans.
"""

from pathlib import Path

import pytest

from conceptgraph.api import lint_paths
from conceptgraph.lint.report import text_report
from conceptgraph.model import Finding, ProblemKind
from conceptgraph.note.parse import parse_note
from tests.conftest import FIXTURES, check_fixture, fixture_vaults


@pytest.mark.parametrize("vault", list(fixture_vaults("frontmatter")), ids=lambda p: p.name)
def test_frontmatter_rule(vault: Path, request: pytest.FixtureRequest) -> None:
    check_fixture(vault, vault.name, request.config.getoption("--update-expected"))


def _lint(vault: Path) -> list[Finding]:
    return lint_paths([vault], jobs=1).findings


def _note(frontmatter: str) -> bytes:
    return f"---\n{frontmatter}---\n# Note\n\nText.\n".encode()


@pytest.mark.parametrize(
    "tag",
    [
        '!!python/object/apply:os.system ["touch {marker}"]',
        '!!python/object/apply:subprocess.call [["touch", "{marker}"]]',
        '!!python/object/new:subprocess.Popen [["touch", "{marker}"]]',
        "!!python/name:os.system",
        "!!python/module:os",
    ],
)
def test_python_tags_are_refused_and_never_run(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "pwned"
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "evil.md").write_bytes(_note(f"run: {tag.format(marker=marker)}\n"))
    findings = _lint(vault)
    assert not marker.exists(), "a YAML tag in frontmatter ran a command"
    syntax = [f for f in findings if f.rule == "frontmatter-syntax"]
    assert [(f.path, f.line) for f in syntax] == [("evil.md", 2)], text_report(findings)
    assert not any("internal error" in f.message for f in findings)


def test_python_tag_fixture_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    # python-tag.md holds os.system("echo pwned"): if it ever ran, the shell would print it.
    _lint(FIXTURES / "frontmatter" / "frontmatter-syntax")
    out, err = capfd.readouterr()
    assert "pwned" not in out and "pwned" not in err


def test_refused_frontmatter_gives_no_properties_but_the_body_is_parsed() -> None:
    record = parse_note("n.md", _note("run: !!python/name:os.system\naliases: [a]\n"))
    assert record.frontmatter is None
    assert [p.kind for p in record.problems] == [ProblemKind.YAML_UNSAFE]
    assert record.title is not None and record.title.span.line == 5


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ('"true"', "true"),
        ("", None),
        ("~", None),
    ],
)
def test_yaml_12_booleans(written: str, value: object) -> None:
    record = parse_note("n.md", _note(f"canonical: {written}\n"))
    assert record.frontmatter is not None
    assert record.frontmatter.data["canonical"] == value
    assert type(record.frontmatter.data["canonical"]) is type(value)


def test_yes_is_flagged_true_is_not(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes(_note("canonical: yes\n") + b"[[b]]\n")
    (tmp_path / "b.md").write_bytes(_note("canonical: True\n") + b"[[a]]\n")
    findings = _lint(tmp_path)
    assert [(f.path, f.line, f.rule) for f in findings] == [("a.md", 2, "frontmatter-shape")]
    assert "'yes'" in findings[0].message


def test_shape_of_a_merged_key_points_into_the_frontmatter(tmp_path: Path) -> None:
    # A YAML merge key brings canonical in from an anchor: the finding must still have a place
    # inside the block, and the rule must not crash on a key that is not written at the top.
    (tmp_path / "a.md").write_bytes(
        _note("base: &base\n  canonical: yes\n<<: *base\n") + b"[[a]]\n"
    )
    findings = [f for f in _lint(tmp_path) if f.rule == "frontmatter-shape"]
    assert len(findings) == 1, text_report(findings)
    assert "internal error" not in findings[0].message
    assert 2 <= findings[0].line <= 4


def test_an_anchor_bomb_in_frontmatter_finishes(tmp_path: Path) -> None:
    # Billion laughs: each level refers to the one before nine times. With a "[[link]]" at the
    # bottom, frontmatter links are looked for in every string it could reach.
    levels = ['a: &a ["[[x]]", "[[x]]", "[[x]]"]']
    for depth in range(1, 12):
        prev, name = chr(ord("a") + depth - 1), chr(ord("a") + depth)
        levels.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    (tmp_path / "bomb.md").write_bytes(_note("\n".join(levels) + "\n"))
    (tmp_path / "x.md").write_text("# X\n\n[[bomb]]\n", encoding="utf-8")
    findings = _lint(tmp_path)
    assert not any("internal error" in f.message for f in findings)
