"""Obsidian's link resolution on real vaults in tmp_path, and heading matching.

The cases follow Obsidian's getFirstLinkpathDest as written down in
/work/research/obsidian-links.md, sections 1, 2, 4, 6 and 7.
"""

import os
import unicodedata
from pathlib import Path

import pytest

from conceptgraph.api import lint_paths
from conceptgraph.config import Config
from conceptgraph.model import Link, LinkKind, ProblemKind, Span
from conceptgraph.names import heading_key
from conceptgraph.note.parse import parse_note
from conceptgraph.vault.load import Vault, load_vault
from conceptgraph.vault.resolve import find_subpath


def make_vault(root: Path, files: dict[str, str | bytes]) -> Vault:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return load_vault(root, Config(), jobs=1)


def resolve(vault: Vault, link: str, source: str = "source.md") -> str | None:
    return vault.resolve_linkpath(link, source).path


# ------------------------------------------------------------------------------ names and case


def test_case_is_folded(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, {"Note Name.md": "# N\n", "source.md": ""})
    for link in ("note name", "NOTE NAME", "Note Name", "nOtE nAmE.MD"):
        assert resolve(vault, link) == "Note Name.md", link


def test_md_suffix_is_optional(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, {"note.md": "", "source.md": ""})
    assert resolve(vault, "note") == "note.md"
    assert resolve(vault, "note.md") == "note.md"
    assert resolve(vault, "note.MD") == "note.md"


def test_attachments_need_their_extension(tmp_path: Path) -> None:
    vault = make_vault(
        tmp_path, {"diagram.png": b"\x89PNG", "report.pdf": b"%PDF", "source.md": ""}
    )
    assert resolve(vault, "diagram.png") == "diagram.png"
    assert resolve(vault, "Diagram.PNG") == "diagram.png"
    assert resolve(vault, "report.pdf") == "report.pdf"
    assert resolve(vault, "diagram") is None
    assert resolve(vault, "report") is None


def test_double_md_suffix(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, {"x.md.md": "", "source.md": ""})
    assert resolve(vault, "x.md") == "x.md.md"
    assert resolve(vault, "x.md.md") == "x.md.md"
    both = make_vault(tmp_path / "both", {"x.md.md": "", "x.md": "", "source.md": ""})
    assert resolve(both, "x.md") == "x.md"


def test_dotted_note_names(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, {"v1.2.md": "", "Dr. Who.md": "", "a.b.c.md": "", "source.md": ""})
    assert resolve(vault, "v1.2") == "v1.2.md"
    assert resolve(vault, "Dr. Who") == "Dr. Who.md"
    assert resolve(vault, "a.b.c") == "a.b.c.md"
    assert resolve(vault, "a.b") is None


def test_unknown_name_is_unresolved(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, {"note.md": "", "source.md": ""})
    found = vault.resolve_linkpath("nope", "source.md")
    assert (found.path, found.candidates, found.ambiguous) == (None, (), False)


def test_empty_path_is_the_source_itself(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, {"a/source.md": ""})
    assert resolve(vault, "", "a/source.md") == "a/source.md"


# ----------------------------------------------------------------------- same name, two folders


@pytest.fixture
def twins(tmp_path: Path) -> Vault:
    return make_vault(
        tmp_path,
        {
            "a/note.md": "",
            "bb/note.md": "",
            "a/linker.md": "",
            "bb/linker.md": "",
            "c/linker.md": "",
            "root-linker.md": "",
        },
    )


def test_same_name_in_two_folders_prefers_the_near_folder(twins: Vault) -> None:
    found = twins.resolve_linkpath("note", "bb/linker.md")
    assert found.path == "bb/note.md"
    assert found.candidates == ("bb/note.md", "a/note.md")
    assert found.ambiguous
    assert twins.resolve_linkpath("note", "a/linker.md").path == "a/note.md"


def test_same_name_from_elsewhere_takes_the_shortest_path(twins: Vault) -> None:
    for source in ("c/linker.md", "root-linker.md"):
        found = twins.resolve_linkpath("note", source)
        assert found.path == "a/note.md", source
        assert set(found.candidates) == {"a/note.md", "bb/note.md"}
        assert found.ambiguous


def test_near_folder_includes_subfolders(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, {"a/deep/deeper/note.md": "", "b/note.md": "", "a/src.md": ""})
    found = vault.resolve_linkpath("note", "a/src.md")
    assert found.candidates == ("a/deep/deeper/note.md", "b/note.md")


def test_root_exact_path_wins_and_is_not_ambiguous(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, {"note.md": "", "x/note.md": "", "x/linker.md": ""})
    found = vault.resolve_linkpath("note", "x/linker.md")
    assert found.path == "note.md"
    assert not found.ambiguous
    assert vault.resolve_linkpath("x/note", "x/linker.md").path == "x/note.md"


def test_folder_name_suffix(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, {"x/folder/name.md": "", "y/other/name.md": "", "source.md": ""})
    found = vault.resolve_linkpath("folder/name", "source.md")
    assert (found.path, found.candidates) == ("x/folder/name.md", ("x/folder/name.md",))
    assert resolve(vault, "other/name") == "y/other/name.md"
    assert resolve(vault, "Y/Other/Name.md") == "y/other/name.md"
    assert resolve(vault, "nowhere/name") is None


def test_root_path_beats_a_deeper_suffix(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, {"folder/name.md": "", "x/folder/name.md": "", "x/src.md": ""})
    found = vault.resolve_linkpath("folder/name", "x/src.md")
    assert (found.path, found.ambiguous) == ("folder/name.md", False)


# ----------------------------------------------------------------------- relative and rooted


def test_remembered_resolutions_hold_from_every_source(tmp_path: Path) -> None:
    # The vault remembers what a link path resolves to, once for every source where the answer
    # cannot depend on the source: asked in any order, each answer is the one worked out fresh.
    vault = make_vault(
        tmp_path,
        {
            "note.md": "",
            "unique.md": "",
            "a/note.md": "",
            "a/b/note.md": "",
            "a/b/up.md": "",
            "a/up.md": "",
            "x/up.md": "",
            "x/deep/src.md": "",
            "src.md": "",
        },
    )
    sources = ["src.md", "a/b/up.md", "x/deep/src.md", "a/up.md", "note.md"]
    targets = [
        "note",
        "unique",
        "up",
        "./note",
        "../note",
        "../up",
        "a/note",
        "/a/note",
        "/up",
        "b/up",
        "missing",
        "A/B/Note.md",
    ]
    fresh = {
        (target, source): Vault(tmp_path, vault.config, {}, vault.files).resolve_linkpath(
            target, source
        )
        for target in targets
        for source in sources
    }
    for order in (sources, sources[::-1]):
        asked = Vault(tmp_path, vault.config, {}, vault.files)
        for source in order:
            for target in targets:
                link = Link(target, None, None, False, LinkKind.WIKI, Span.point(1), None, target)
                assert asked.resolve(link, source) == fresh[target, source], (target, source)


def test_dot_slash_and_dot_dot(tmp_path: Path) -> None:
    vault = make_vault(
        tmp_path,
        {
            "note.md": "",
            "a/note.md": "",
            "a/b/note.md": "",
            "a/b/src.md": "",
            "a/up.md": "",
            "elsewhere/up.md": "",
        },
    )
    assert resolve(vault, "./note", "a/b/src.md") == "a/b/note.md"
    assert resolve(vault, "../note", "a/b/src.md") == "a/note.md"
    assert resolve(vault, "../../note", "a/b/src.md") == "note.md"
    assert resolve(vault, "../up", "a/b/src.md") == "a/up.md"
    assert resolve(vault, "./note.md", "a/b/src.md") == "a/b/note.md"


def test_leading_slash_is_a_path_from_the_root(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, {"a/note.md": "", "b/note.md": "", "top.md": "", "b/src.md": ""})
    assert resolve(vault, "/a/note", "b/src.md") == "a/note.md"
    assert resolve(vault, "/top", "b/src.md") == "top.md"
    # No suffix matching for a rooted path.
    assert resolve(vault, "/note", "b/src.md") is None


# ---------------------------------------------------------------------- unicode and discovery


def test_nfd_file_name_on_disk_matches_an_nfc_link(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "café.md")
    (tmp_path / nfd).write_text("# Café\n\nBack to [[other]].\n", encoding="utf-8")
    (tmp_path / "other.md").write_text("# Other\n\n[[café]]\n", encoding="utf-8")
    vault = load_vault(tmp_path, Config(), jobs=1)
    link = unicodedata.normalize("NFC", "café")
    path = resolve(vault, link, "other.md")
    assert path is not None and unicodedata.normalize("NFC", path) == "café.md"
    # The file is found and read, not reported as unreadable.
    note = vault.notes[path]
    assert note.problems == ()
    assert note.title is not None and note.title.text == unicodedata.normalize("NFC", "Café")


def test_nfd_link_matches_an_nfc_file_name(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, {unicodedata.normalize("NFC", "über.md"): "", "source.md": ""})
    assert resolve(vault, unicodedata.normalize("NFD", "Über")) is not None


def test_non_breaking_space_in_a_link_is_a_space(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, {"two words.md": "", "source.md": ""})
    assert resolve(vault, "two\u00a0words") == "two words.md"


def test_hidden_folders_are_skipped(tmp_path: Path) -> None:
    vault = make_vault(
        tmp_path,
        {
            ".obsidian/workspace.md": "",
            ".trash/deleted.md": "",
            ".git/readme.md": "",
            ".hidden.md": "",
            "visible.md": "",
        },
    )
    assert vault.files == ("visible.md",)
    assert set(vault.notes) == {"visible.md"}
    for link in ("workspace", "deleted", "readme", ".hidden", ".obsidian/workspace"):
        assert resolve(vault, link, "visible.md") is None, link


def test_symlink_loop_terminates(tmp_path: Path) -> None:
    make_vault(tmp_path, {"a/note.md": "# Note\n", "top.md": "# Top\n"})
    os.symlink("..", tmp_path / "a" / "loop")
    os.symlink(tmp_path / "a", tmp_path / "a" / "self")
    vault = load_vault(tmp_path, Config(), jobs=1)
    assert sorted(vault.files) == ["a/note.md", "top.md"]


def test_symlinked_folder_out_of_the_vault_is_followed_only_where_allowed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    make_vault(outside, {"shared.md": "# Shared\n"})
    root = tmp_path / "vault"
    make_vault(root, {"top.md": "[[shared]]\n"})
    os.symlink(outside, root / "linked")
    vault = load_vault(root, Config(), jobs=1)
    assert resolve(vault, "shared", "top.md") is None
    assert "linked/shared.md" not in vault.files
    allowed = load_vault(root, Config(allow_symlinks_to=("../outside",)), jobs=1)
    assert resolve(allowed, "shared", "top.md") == "linked/shared.md"


def test_symlinked_folder_inside_the_vault_is_followed(tmp_path: Path) -> None:
    make_vault(tmp_path, {"real/shared.md": "# Shared\n", "top.md": "[[linked/shared]]\n"})
    os.symlink(tmp_path / "real", tmp_path / "linked")
    vault = load_vault(tmp_path, Config(), jobs=1)
    assert resolve(vault, "linked/shared", "top.md") == "linked/shared.md"


def test_dangling_symlink_is_an_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "ok.md").write_text("# OK\n", encoding="utf-8")
    os.symlink(tmp_path / "missing-target.md", tmp_path / "x.md")
    findings = lint_paths([tmp_path], jobs=1).findings
    unreadable = [
        (f.path, f.line, f.severity.label) for f in findings if f.rule == "unreadable-file"
    ]
    assert unreadable == [("x.md", 1, "error")]


def test_file_without_read_permission(tmp_path: Path) -> None:
    (tmp_path / "open.md").write_text("# Open\n\n[[secret]]\n", encoding="utf-8")
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\n\nSee [[open]] and [[missing]].\n", encoding="utf-8")
    secret.chmod(0)
    try:
        readable = os.access(secret, os.R_OK)
        findings = lint_paths([tmp_path], jobs=1).findings
        vault = load_vault(tmp_path, Config(), jobs=1)
    finally:
        secret.chmod(0o644)
    rules = {(f.path, f.line, f.rule) for f in findings}
    if readable:
        # Running as root: permissions do not stop reading, so the note is linted normally.
        assert ("secret.md", 3, "broken-link") in rules
        assert not any(rule == "unreadable-file" for _, _, rule in rules)
        assert vault.notes["secret.md"].problems == ()
    else:
        assert ("secret.md", 1, "unreadable-file") in rules
        kinds = [p.kind for p in vault.notes["secret.md"].problems]
        assert kinds == [ProblemKind.UNREADABLE]


def test_excluded_files_are_not_read(tmp_path: Path) -> None:
    for rel in ("templates/t.md", "notes/n.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("# x\n", encoding="utf-8")
    vault = load_vault(tmp_path, Config(exclude=("templates/**",)), jobs=1)
    assert vault.files == ("notes/n.md",)


# ---------------------------------------------------------------------- headings and subpaths


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('Why: the "case"?', "why the case"),
        ("  Many   spaces\there ", "many spaces here"),
        ("a/b\\c|d^e#f[g]h", "a b c d e f g h"),
        ("**Bold** [[x|y]] `code`", "bold x y code"),
        ("snake_case-and-dash's", "snake_case-and-dash's"),
        ("ÜBER Café", "über café"),
        # "%" and "=" are in stripHeading's class ("<=>"); "_" is not.
        ("%%comment%%", "comment"),
        ("==hl== __u__", "hl __u__"),
    ],
)
def test_heading_key(text: str, key: str) -> None:
    assert heading_key(text) == key


TARGET = parse_note(
    "target.md",
    (
        b"# Target\n"
        b"\n"
        b'## Why: the "case"?\n'
        b"\n"
        b"### Sub part\n"
        b"\n"
        b"## Second\n"
        b"\n"
        b"# B\n"
        b"\n"
        b"# X\n"
        b"\n"
        b"## C\n"
        b"\n"
        b"## foo\n"
        b"\n"
        b"> ## Quoted\n"
        b"\n"
        b"A paragraph. ^Block-1\n"
    ),
)


@pytest.mark.parametrize(
    "subpath",
    [
        "Why the case",
        'WHY: THE "CASE"?',
        "why  the case",
        'Why: the "case"?#Sub part',
        "Target#Second",
        "Target#Sub part",
        "B#C",
        "##Second",
        "Second#",
        "^block-1",
        "^BLOCK-1",
        "^foo",
        "",
    ],
)
def test_find_subpath_matches(subpath: str) -> None:
    assert find_subpath(TARGET, subpath)


@pytest.mark.parametrize(
    "subpath",
    [
        "Missing",
        "Sub part#Why the case",
        "Second#Sub part",
        "C#B",
        "Quoted",
        "^nope",
        "^block_1",
        "Why-the-case",
        "Target#Target",
    ],
)
def test_find_subpath_misses(subpath: str) -> None:
    assert not find_subpath(TARGET, subpath)
